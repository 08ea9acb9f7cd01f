"""Published ports through kernel NAT: loopback, other namespaces, the host's other addresses; TCP and UDP."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from netns_helpers import nft_port_targets, nft_table_exists  # type: ignore[import-not-found]

from skiff.errors import ConflictError
from skiff.network import links
from skiff.network.manager import NetworkManager
from skiff.network.ports import parse_publish


def wait_tcp(ip: str, port: int, timeout: float = 5) -> None:
    end = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((ip, port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > end:
                raise
            time.sleep(0.02)


def http_get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as r:
        return str(r.read().decode())


@pytest.fixture
def www(tmp_path: Path) -> Path:
    d = tmp_path / "www"
    d.mkdir()
    (d / "index.html").write_text("hello from skiff\n")
    return d


def test_busybox_httpd_published(netmgr: NetworkManager, make_ctr, outside, www: Path) -> None:  # type: ignore[no-untyped-def]
    c = make_ctr()
    att = netmgr.attach(c.id, c.netns, name="web",
                        ports=[*parse_publish("127.0.0.1::80"), *parse_publish("::80")])
    c.spawn("busybox", "httpd", "-f", "-p", "80", "-h", str(www))
    wait_tcp(att.ip, 80)
    lo_port = att.ports[0].host_port
    any_port = att.ports[1].host_port
    assert att.ports[0].host_ip == "127.0.0.1" and lo_port > 0 and any_port > 0 and lo_port != any_port
    assert netmgr.port(c.id) == att.ports
    # from the host's own loopback
    assert http_get(f"http://127.0.0.1:{lo_port}/") == "hello from skiff\n"
    assert http_get(f"http://127.0.0.1:{any_port}/") == "hello from skiff\n"
    # from the host's other address (the one it has on the link to the 'outside' namespace)
    assert http_get(f"http://{outside.host_ip}:{any_port}/") == "hello from skiff\n"
    # from another network namespace, through that address
    out = outside.ctr.fetch(f"http://{outside.host_ip}:{any_port}/")
    assert out.returncode == 0 and out.stdout == "hello from skiff\n", out.stderr
    # hairpin: the container itself and a neighbour, through the host's address on the bridge
    n = make_ctr()
    netmgr.attach(n.id, n.netns)
    for who in (c, n):
        got = who.fetch(f"http://{att.gateway}:{any_port}/")
        assert got.returncode == 0 and got.stdout == "hello from skiff\n", got.stderr
    # the loopback-only mapping is not reachable from elsewhere
    assert outside.ctr.fetch(f"http://{outside.host_ip}:{lo_port}/", timeout=1).returncode != 0


UDP_ECHO = """
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 5300))
print("ready", flush=True)
while True:
    data, addr = s.recvfrom(2048)
    s.sendto(b"echo:" + data, addr)
"""


def test_udp_echo_published(netmgr: NetworkManager, make_ctr) -> None:  # type: ignore[no-untyped-def]
    c = make_ctr()
    att = netmgr.attach(c.id, c.netns, ports=parse_publish("127.0.0.1::5300/udp"))
    p = c.python(UDP_ECHO)
    assert p.stdout is not None and p.stdout.readline() == b"ready\n"
    port = att.ports[0].host_port
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(3)
        s.sendto(b"ping", ("127.0.0.1", port))
        assert s.recvfrom(2048)[0] == b"echo:ping"


def _assert_nothing_left(netmgr: NetworkManager, cid: str, dnat_rules: int = 0) -> None:
    assert netmgr.attachments(cid) == []
    assert netmgr.veth_name(cid, "bridge") not in links.list_links()
    assert len(nft_port_targets(netmgr.table)) == dnat_rules


def test_host_port_in_use_is_refused(netmgr: NetworkManager, make_ctr) -> None:  # type: ignore[no-untyped-def]
    c = make_ctr()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(ConflictError) as ei:
            netmgr.attach(c.id, c.netns, ports=parse_publish(f"127.0.0.1:{port}:80"))
    msg = str(ei.value)
    assert f"127.0.0.1:{port}/tcp" in msg and "in use" in msg and "\n" not in msg and ei.value.exit_code == 125
    _assert_nothing_left(netmgr, c.id)


def test_same_host_port_twice_is_refused(netmgr: NetworkManager, make_ctr) -> None:  # type: ignore[no-untyped-def]
    a, b = make_ctr(), make_ctr()
    att = netmgr.attach(a.id, a.netns, ports=parse_publish("127.0.0.1::80"))
    port = att.ports[0].host_port
    with pytest.raises(ConflictError, match="in use"):
        netmgr.attach(b.id, b.netns, ports=parse_publish(f"{port}:80"))
    _assert_nothing_left(netmgr, b.id, dnat_rules=1)
    assert len(netmgr.inspect("bridge").endpoints) == 1


def test_containers_cannot_reach_host_loopback_services(netmgr: NetworkManager, make_ctr) -> None:  # type: ignore[no-untyped-def]
    """route_localnet is on for the bridge (for 127.0.0.1 DNAT); a container that routes 127.0.0.1 to the
    gateway must still not reach a service bound to the host's 127.0.0.1 (CVE-2020-8558)."""
    c = make_ctr()
    att = netmgr.attach(c.id, c.netns)
    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen()
        srv.settimeout(3)
        port = srv.getsockname()[1]
        script = ("ip addr del 127.0.0.1/8 dev lo; for i in eth0 all; do "
                  "echo 1 > /proc/sys/net/ipv4/conf/$i/route_localnet; done; "
                  f"ip route add 127.0.0.1/32 via {att.gateway} dev eth0; "
                  f"echo hi | busybox nc -w 2 127.0.0.1 {port}")
        attacker = c.spawn("busybox", "sh", "-c", script)
        try:
            conn, _ = srv.accept()
            conn.close()
            reached = True
        except TimeoutError:
            reached = False
        attacker.kill()
    assert not reached


@pytest.mark.skipif(shutil.which("iptables-restore") is None, reason="iptables is not installed")
def test_iptables_fallback(tmp_path: Path, make_ctr, www: Path) -> None:  # type: ignore[no-untyped-def]
    """The same published port and outbound path with skiff's iptables chains instead of its nft table."""
    from netns_helpers import rand_tag  # type: ignore[import-not-found]

    from skiff.network import iptables

    tag = "skt" + rand_tag()
    had_raw = subprocess.run(["nft", "list", "table", "ip", "raw"], capture_output=True).returncode == 0
    mgr = NetworkManager(tmp_path / "root", tmp_path / "run", bridge_prefix=tag, table=tag,
                         dns_upstreams=[], firewall_backend="iptables")
    try:
        c = make_ctr()
        att = mgr.attach(c.id, c.netns, ports=parse_publish("127.0.0.1::80"))
        c.spawn("busybox", "httpd", "-f", "-p", "80", "-h", str(www))
        wait_tcp(att.ip, 80)
        assert http_get(f"http://127.0.0.1:{att.ports[0].host_port}/") == "hello from skiff\n"
        assert sorted(iptables.chains_present(tag.upper())) == sorted(
            f"{tag.upper()}-{s}" for s in ("GUARD", "PORTS", "POST", "FWD"))
        assert not nft_table_exists(tag)
        mgr.release_all(c.id)
        assert iptables.chains_present(tag.upper()) == []
    finally:
        mgr.teardown()
        iptables.remove(tag.upper())
        if not had_raw:  # iptables-nft made the raw table for our jump; leave the host as it was
            subprocess.run(["nft", "delete", "table", "ip", "raw"], capture_output=True)
