"""skiff.network.plumber: the helper process `skiff run` starts early does what NetworkManager does in-process:
attach (address, etc files), release (answered later, collected by close), errors with their kind and code."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from skiff.errors import NotFoundError
from skiff.network import links
from skiff.network.manager import NetworkManager
from skiff.network.plumber import HelperGone, Plumber


def test_attach_release_and_errors(netmgr: NetworkManager, make_ctr, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    c = make_ctr()
    rundir = tmp_path / "rundir"
    rundir.mkdir()
    for name in ("hosts", "hostname", "resolv.conf"):
        (rundir / name).write_text("")
    pl = Plumber.spawn(str(netmgr.root), str(netmgr.runroot), netmgr.prefix, netmgr.table, "bridge")
    try:
        att = pl.attach(c.id, c.netns, "bridge", "web", [{"container_port": 80, "protocol": "tcp",
                                                          "host_ip": "127.0.0.1", "host_port": 0,
                                                          "host_port_end": 0}],
                        rundir=str(rundir), hostname="h1", etc={"extra_hosts": ["db:10.9.9.9"]})
        assert att["ip"] and att["ports"][0]["host_port"] > 0
        # the same record the manager keeps, and the address inside the namespace
        assert [a.ip for a in netmgr.attachments(c.id)] == [att["ip"]]
        out = subprocess.run(["nsenter", f"--net={c.netns}", "ip", "-4", "addr"], capture_output=True, text=True)
        assert att["ip"] in out.stdout
        hosts = (rundir / "hosts").read_text()
        assert f"{att['ip']}\th1" in hosts and "10.9.9.9\tdb" in hosts
        with pytest.raises(NotFoundError, match="network 'nope' not found") as ei:
            pl.attach(c.id, c.netns, "nope", "web", [])
        assert ei.value.exit_code == 125
        pl.release(c.id, wait=False)  # answered while we go on; close() collects it
    finally:
        pl.close()
    assert netmgr.attachments(c.id) == [] and att["veth"] not in links.list_links()


def test_a_dead_helper_is_reported_as_gone(netmgr: NetworkManager, make_ctr) -> None:  # type: ignore[no-untyped-def]
    """The engine attaches in its own process when the helper is gone (engine/networks.connect)."""
    c = make_ctr()
    pl = Plumber.spawn(str(netmgr.root), str(netmgr.runroot), netmgr.prefix, netmgr.table, "bridge")
    pl.proc.kill()
    pl.proc.wait()
    try:
        with pytest.raises(HelperGone):
            pl.attach(c.id, c.netns, "bridge", "web", [])
    finally:
        pl.close()
    assert netmgr.attachments(c.id) == []
