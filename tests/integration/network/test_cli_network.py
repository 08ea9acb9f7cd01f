"""`skiff network create|ls|inspect|rm|prune` through the real CLI, on the test's own store, bridge prefix and
nft table (SKIFF_BRIDGE_PREFIX / SKIFF_NFT_TABLE), so the host's skiff0 and `inet skiff` are never touched."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from netns_helpers import tagged_network_env  # type: ignore[import-not-found]

from skiff.network import links
from skiff.network.manager import NetworkManager


@pytest.fixture
def net_env(skiff, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The tag used as bridge prefix and table name, exported for the CLI (and this process's managers)."""
    with tagged_network_env(skiff, monkeypatch, "skc") as tag:
        yield tag


def out(cp: subprocess.CompletedProcess[bytes]) -> str:
    return cp.stdout.decode()


def test_create_ls_inspect_rm_prune(skiff, net_env: str) -> None:  # type: ignore[no-untyped-def]
    nid = out(skiff("network", "create", "--subnet", "10.231.40.0/24", "--gateway", "10.231.40.254",
                    "--internal", "--label", "tier=back", "--label", "x", "-d", "bridge", "back")).strip()
    assert len(nid) == 64 and int(nid, 16) >= 0
    front = out(skiff("network", "create", "front")).strip()
    lines = out(skiff("network", "ls")).splitlines()
    assert lines[0].split() == ["NETWORK", "ID", "NAME", "DRIVER", "SCOPE"]
    rows = {ln.split()[1]: ln.split() for ln in lines[1:]}
    assert set(rows) == {"back", "bridge", "front", "host", "none"}
    assert rows["back"] == [nid[:12], "back", "bridge", "local"] and rows["none"][2] == "null"
    assert rows["host"][2] == "host"
    assert out(skiff("network", "ls", "-q", "--filter", "name=fro")).split() == [front[:12]]
    assert out(skiff("network", "ls", "--no-trunc", "-q", "-f", "label=tier=back")).split() == [nid]
    assert out(skiff("network", "ls", "--format", "{{.Name}}:{{.Driver}}", "-f", "type=custom")).split() == \
        ["back:bridge", "front:bridge"]
    js = json.loads(out(skiff("network", "ls", "--format", "json", "-f", "id=" + nid[:6])))
    assert js["Name"] == "back" and js["Internal"] == "true"
    bad = skiff("network", "ls", "-f", "colour=red", check=False)
    assert bad.returncode == 1 and "invalid filter" in bad.stderr.decode()
    # moby's FilterNetworks: name and id are regular expressions; dangling=false keeps every network
    assert out(skiff("network", "ls", "-q", "--filter", "name=^fr.nt$")).split() == [front[:12]]
    assert out(skiff("network", "ls", "-q", "--filter", "name=[")).split() == []  # a bad pattern matches nothing
    names = out(skiff("network", "ls", "--format", "{{.Name}}", "-f", "dangling=false")).split()
    assert names == ["back", "bridge", "front", "host", "none"]
    assert out(skiff("network", "ls", "--format", "{{.Name}}", "-f", "dangling=1")).split() == ["back", "front"]
    for args, message in ((("dangling=maybe",), "invalid value for filter 'dangling'"),
                          (("dangling=1", "dangling=0"), 'got more than one value for filter key "dangling"'),
                          (("type=other",), "invalid filter: 'type'='other'"),
                          (("name",), "bad format of filter (expected name=value): name")):
        cp = skiff("network", "ls", *(a for v in args for a in ("-f", v)), check=False)
        assert cp.returncode == 1 and message in cp.stderr.decode() and cp.stdout == b"", (args, cp.stderr)

    data = json.loads(out(skiff("network", "inspect", "back", "bridge")))
    back, bridge = data
    assert back["Name"] == "back" and back["Id"] == nid and back["Driver"] == "bridge"
    assert back["Scope"] == "local" and back["Internal"] is True and back["EnableIPv6"] is False
    assert back["IPAM"] == {"Driver": "default", "Options": None,
                            "Config": [{"Subnet": "10.231.40.0/24", "Gateway": "10.231.40.254"}]}
    assert back["Labels"] == {"tier": "back", "x": ""} and back["Containers"] == {}
    assert back["Options"]["com.docker.network.bridge.name"].startswith(net_env + "-")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z", back["Created"])  # Go's RFC3339Nano
    assert bridge["Options"]["com.docker.network.bridge.name"] == net_env + "0"
    assert out(skiff("network", "inspect", "-f", "{{.Name}} {{(index .IPAM.Config 0).Subnet}}", nid[:10])) \
        .strip() == "back 10.231.40.0/24"
    miss = skiff("network", "inspect", "back", "nosuch", check=False)
    assert miss.returncode == 1 and json.loads(miss.stdout)[0]["Name"] == "back"
    assert miss.stderr.decode().strip() == "Error: No such network: nosuch"

    for args, err in [(("create", "back"), "network with name back already exists"),
                      (("create", "-d", "overlay", "o"), "only the bridge driver"),
                      (("create", "--subnet", "10.231.40.128/25", "o"), "overlaps with network back"),
                      (("create", "--gateway", "10.1.1.1", "--subnet", "10.231.41.0/24", "o"), "--gateway"),
                      (("create", "bad/name"), "invalid network name"),
                      (("rm", "bridge"), "bridge is a pre-defined network and cannot be removed"),
                      (("rm", "none"), "none is a pre-defined network and cannot be removed"),
                      (("rm", "nosuch"), "network nosuch not found")]:
        cp = skiff("network", *args, check=False)
        err_lines = cp.stderr.decode().strip().splitlines()
        assert cp.returncode == 1 and len(err_lines) == 1 and err in err_lines[0], (args, err_lines)
    assert skiff("network", "rm", "-f", "nosuch").returncode == 0

    assert out(skiff("network", "rm", "front")).split() == ["front"]
    skiff("network", "create", "spare")
    assert out(skiff("network", "prune", "-f")).split() == ["Deleted", "Networks:", "back", "spare"]
    assert out(skiff("network", "prune", "-f")) == ""
    assert out(skiff("network", "ls", "--format", "{{.Name}}")).split() == ["bridge", "host", "none"]


def test_rm_refused_while_attached_then_collected(skiff, net_env: str, make_ctr) -> None:  # type: ignore[no-untyped-def]
    """A container on the network pins it (Docker's wording, exit 1); once its namespace is gone the
    endpoint is collected and rm succeeds."""
    nid = out(skiff("network", "create", "--subnet", "10.231.42.0/24", "busy")).strip()
    c = make_ctr()
    mgr = NetworkManager(Path(skiff.root), Path(skiff.runroot))
    assert mgr.prefix == net_env and mgr.table == net_env
    att = mgr.attach(c.id, c.netns, "busy", name="web")
    ctrs = json.loads(out(skiff("network", "inspect", "busy")))[0]["Containers"]
    assert list(ctrs) == [c.id]
    ep = ctrs[c.id]
    assert ep["Name"] == "web" and ep["IPv4Address"] == f"{att.ip}/24" and ep["MacAddress"] == att.mac
    assert len(ep["EndpointID"]) == 64
    cp = skiff("network", "rm", "busy", check=False)
    assert cp.returncode == 1
    assert cp.stderr.decode() == f"Error: error while removing network: network busy id {nid} has active endpoints\n"
    assert out(skiff("network", "prune", "-f")) == ""
    c.stop()  # the namespace goes, and the kernel takes the veth pair with it
    assert out(skiff("network", "rm", "busy")).split() == ["busy"]
    assert not [n for n in links.list_links() if n.startswith(net_env)]


def can_ping(ip: str) -> bool:
    return subprocess.run(["busybox", "ping", "-c", "1", "-W", "1", ip], capture_output=True).returncode == 0


def test_connect_disconnect_running_container(skiff, net_env: str, busybox_image: str) -> None:  # type: ignore[no-untyped-def]
    skiff("network", "create", "--subnet", "10.231.43.0/24", "n1")
    cid = out(skiff("run", "-d", "--name", "c1", busybox_image, "sleep", "600")).strip()
    try:
        skiff("network", "connect", "--alias", "www", "--ip", "10.231.43.50", "n1", "c1")
        ep = json.loads(out(skiff("network", "inspect", "n1")))[0]["Containers"][cid]
        assert ep["Name"] == "c1" and ep["IPv4Address"] == "10.231.43.50/24"
        assert can_ping("10.231.43.50")  # the host reaches it through the network's bridge
        for args, err in [(("connect", "n1", "c1"), "already on network n1"),
                          (("connect", "nosuch", "c1"), "network nosuch not found"),
                          (("connect", "n1", "nosuch"), "No such container: nosuch"),
                          (("connect", "host", "c1"), "host network"),
                          (("rm", "n1"), "has active endpoints")]:
            cp = skiff("network", *args, check=False)
            err_lines = cp.stderr.decode().strip().splitlines()
            assert cp.returncode == 1 and len(err_lines) == 1 and err in err_lines[0], (args, err_lines)
        skiff("network", "disconnect", "n1", cid[:12])
        assert json.loads(out(skiff("network", "inspect", "n1")))[0]["Containers"] == {}
        assert not can_ping("10.231.43.50")
        cp = skiff("network", "disconnect", "n1", "c1", check=False)
        assert cp.returncode == 1 and "is not connected to network n1" in cp.stderr.decode()
        skiff("network", "connect", "n1", "c1")
    finally:
        skiff("rm", "-f", cid)
    # the container is gone (its endpoint may stay until collected): -f finds it by name, or finds nothing
    skiff("network", "disconnect", "-f", "n1", "c1")
    assert json.loads(out(skiff("network", "inspect", "n1")))[0]["Containers"] == {}
    skiff("network", "disconnect", "-f", "n1", "c1")
    assert out(skiff("network", "rm", "n1")).split() == ["n1"]
    stopped = out(skiff("create", "--name", "c2", busybox_image, "true")).strip()
    skiff("network", "create", "n2")
    cp = skiff("network", "connect", "n2", "c2", check=False)
    assert cp.returncode == 1 and "c2 is not running" in cp.stderr.decode()
    skiff("rm", stopped)


def test_foreground_run_attaches_while_the_container_is_set_up(skiff, net_env: str,  # type: ignore[no-untyped-def]
                                                               busybox_image: str) -> None:
    """`run` (foreground) hands the helper the attach as soon as the namespaces exist: the container sees its
    address and its hosts entry when it starts, and an attach that fails (a host port already published)
    fails the run with one line and leaves no container and no veth behind."""
    skiff("network", "create", "--subnet", "10.231.44.0/24", "n3")
    holder = out(skiff("run", "-d", "--name", "holder", "--network", "n3", "-p", "127.0.0.1:18777:80",
                       busybox_image, "sleep", "600")).strip()
    try:
        got = out(skiff("run", "--rm", "--name", "fg", "--network", "n3", busybox_image,
                        "sh", "-c", "ip -4 addr show eth0; grep fg /etc/hosts"))
        addr = got.split("inet ", 1)[1].split("/", 1)[0]
        assert addr.startswith("10.231.44.") and f"{addr}\t" in got, got
        veths = {n for n in links.list_links() if n.startswith(net_env)}
        cp = skiff("run", "--rm", "--name", "clash", "--network", "n3", "-p", "127.0.0.1:18777:80", busybox_image,
                   "true", check=False)
        err = cp.stderr.decode().strip().splitlines()
        assert cp.returncode == 125 and len(err) == 1 and "18777" in err[0], err
        assert "clash" not in out(skiff("ps", "-a", "--format", "{{.Names}}"))
        assert {n for n in links.list_links() if n.startswith(net_env)} == veths
    finally:
        skiff("rm", "-f", holder)


def _bound(path: Path) -> bool:
    with open("/proc/self/mountinfo") as f:
        return any(line.split()[4] == str(path) for line in f)


def test_the_namespace_is_made_first_and_unbound_at_the_end(skiff, net_env: str,  # type: ignore[no-untyped-def]
                                                             busybox_image: str) -> None:
    """Bridge containers join a namespace made before them (bound at RUNROOT/netns/ID, as Docker's sandbox):
    the same one the process is in, bound while it runs, gone after stop and rm -f, and after a failed start."""
    cid = out(skiff("run", "-d", "--name", "ns1", busybox_image, "sleep", "600")).strip()
    path = Path(skiff.runroot) / "netns" / cid
    try:
        pid = int(out(skiff("inspect", "-f", "{{.State.Pid}}", cid)))
        assert _bound(path) and os.stat(path).st_ino == os.stat(f"/proc/{pid}/ns/net").st_ino
        skiff("stop", "-t", "0", cid)
        assert not path.exists() and not _bound(path)
        skiff("start", cid)  # a start without the helper binds a new one and attaches in-process
        pid = int(out(skiff("inspect", "-f", "{{.State.Pid}}", cid)))
        assert _bound(path) and os.stat(path).st_ino == os.stat(f"/proc/{pid}/ns/net").st_ino
        assert " inet " in out(skiff("exec", cid, "ip", "-4", "addr", "show", "eth0"))
    finally:
        skiff("rm", "-f", cid)
    assert not path.exists() and not _bound(path)
    bad = skiff("run", "--rm", "--name", "ns2", busybox_image, "/no/such", check=False)
    assert bad.returncode == 127
    assert not any((Path(skiff.runroot) / "netns").iterdir())


@pytest.mark.parametrize("plumber", ["helper", "in-process"])
def test_run_with_ip_alias_and_mac(skiff, net_env: str, busybox_image: str, plumber: str,  # type: ignore[no-untyped-def]
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """run --ip, --network-alias and --mac-address on a user network (through the network helper, or attached
    by the CLI itself); a peer finds the alias; Docker's refusals elsewhere."""
    if plumber == "in-process":
        monkeypatch.setenv("SKIFF_NO_PLUMBER", "1")
    skiff("network", "create", "--subnet", "10.231.44.0/24", "n3")
    cid = out(skiff("run", "-d", "--name", "c3", "--network", "n3", "--ip", "10.231.44.60", "--network-alias",
                    "www", "--mac-address", "02:42:0a:e7:2c:3c", busybox_image, "sleep", "600")).strip()
    try:
        shown = out(skiff("exec", "c3", "sh", "-c", "ip -o -4 addr show eth0; cat /sys/class/net/eth0/address"))
        assert "10.231.44.60/24" in shown and "02:42:0a:e7:2c:3c" in shown
        net = json.loads(out(skiff("inspect", "c3")))[0]["NetworkSettings"]["Networks"]["n3"]
        assert net["IPAMConfig"] == {"IPv4Address": "10.231.44.60"} and "www" in net["Aliases"]
        peer = out(skiff("run", "--rm", "--network", "n3", busybox_image, "ping", "-c1", "-W3", "www"))
        assert "10.231.44.60" in peer
        cp = skiff("run", "--rm", "--network", "n3", "--ip", "10.231.44.60", busybox_image, "true", check=False)
        assert cp.returncode == 125 and "10.231.44.60 is already in use" in cp.stderr.decode()
    finally:
        skiff("rm", "-f", cid)
    for args, err in [(("--ip", "10.231.44.61"), "user specified IP address is supported on user defined "
                                                  "networks only"),
                      (("--network-alias", "x"), "network-scoped alias is supported only for containers in user "
                                                 "defined networks"),
                      (("--network", "n3", "--ip", "bad"), "invalid IPv4 address: bad"),
                      (("--network", "n3", "--mac-address", "zz"), "address zz: invalid MAC address"),
                      (("--network", "host", "--mac-address", "02:42:0a:e7:2c:3d"),
                       "conflicting options: mac-address and the network mode")]:
        cp = skiff("run", "--rm", *args, busybox_image, "true", check=False)
        assert cp.returncode == 125 and err in cp.stderr.decode(), (args, cp.stderr)
    assert out(skiff("network", "rm", "n3")).split() == ["n3"]
