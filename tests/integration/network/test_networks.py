"""User networks, modes, outbound NAT, isolation, cleanup, crash recovery and bad input."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import pytest
from netns_helpers import nft_port_targets, nft_table_exists  # type: ignore[import-not-found]

from skiff.errors import ConflictError, InvalidArgumentError, NotFoundError
from skiff.network import dnsproc, links
from skiff.network.manager import NetworkManager
from skiff.network.ports import parse_publish


def lookup(ctr, name: str, server: str) -> str | None:  # type: ignore[no-untyped-def]
    cp = ctr.run("busybox", "nslookup", name, server, check=False)
    found = re.findall(r"Address:\s*([0-9.]+)$", cp.stdout, re.M)
    found = [a for a in found if a != server]
    return found[0] if found else None


def can_ping(ctr, ip: str) -> bool:  # type: ignore[no-untyped-def]
    return ctr.run("busybox", "ping", "-c", "1", "-W", "1", ip, check=False).returncode == 0


def test_user_network_names_aliases_and_isolation(netmgr: NetworkManager, make_ctr) -> None:  # type: ignore[no-untyped-def]
    netmgr.create_network("front")
    netmgr.create_network("back")
    web, app, other = make_ctr(), make_ctr(), make_ctr()
    a_web = netmgr.attach(web.id, web.netns, "front", name="web", aliases=["www"])
    a_app = netmgr.attach(app.id, app.netns, "front", name="app")
    a_other = netmgr.attach(other.id, other.netns, "back", name="other")
    assert a_web.dns_server == a_web.gateway and a_web.ip != a_app.ip
    assert lookup(app, "web", a_app.gateway) == a_web.ip
    assert lookup(app, "www", a_app.gateway) == a_web.ip
    assert lookup(web, "app", a_web.gateway) == a_app.ip
    assert lookup(app, "nosuchname", a_app.gateway) is None
    assert can_ping(app, a_web.ip)
    # the other network does not know the names and cannot reach the containers
    assert lookup(other, "web", a_other.gateway) is None
    refused = other.run("busybox", "nslookup", "web", a_web.gateway, check=False)  # front's responder
    assert a_web.ip not in refused.stdout and "REFUSED" in refused.stdout + refused.stderr
    assert not can_ping(other, a_web.ip)
    assert not can_ping(web, a_other.ip)
    # detach: the name goes away, and the last container's exit stops the responder
    netmgr.detach(app.id, "front")
    assert lookup(web, "app", a_web.gateway) is None
    netmgr.detach(web.id, "front")
    assert dnsproc.running_pid(netmgr.runroot, "front") is None


NAT_SERVER = """
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 9000))
s.listen()
print("ready", flush=True)
conn, peer = s.accept()
conn.sendall(b"hi")
print(peer[0], flush=True)
"""


def test_outbound_nat_hides_the_container(netmgr: NetworkManager, make_ctr, outside) -> None:  # type: ignore[no-untyped-def]
    c = make_ctr()
    att = netmgr.attach(c.id, c.netns)
    srv = outside.ctr.python(NAT_SERVER)
    assert srv.stdout.readline() == b"ready\n"
    out = c.run("busybox", "nc", "-w", "3", outside.ip, "9000")
    assert out.stdout == "hi"
    seen = srv.stdout.readline().decode().strip()
    assert seen == outside.host_ip and seen != att.ip


def test_internal_network_has_no_way_out(netmgr: NetworkManager, make_ctr, outside) -> None:  # type: ignore[no-untyped-def]
    netmgr.create_network("sealed", internal=True)
    a, b = make_ctr(), make_ctr()
    att_a = netmgr.attach(a.id, a.netns, "sealed", name="a")
    netmgr.attach(b.id, b.netns, "sealed", name="b")
    assert lookup(b, "a", att_a.gateway) == att_a.ip and can_ping(b, att_a.ip)
    routes = a.run("busybox", "ip", "route").stdout
    assert "default" not in routes
    assert not can_ping(a, outside.ip)


def test_none_has_only_lo_and_connect_disconnect(netmgr: NetworkManager, make_ctr) -> None:  # type: ignore[no-untyped-def]
    c = make_ctr()
    netmgr.setup_none(c.netns)
    out = c.run("busybox", "ip", "-o", "link").stdout
    assert [line.split(":")[1].strip() for line in out.splitlines()] == ["lo"]
    assert "UP" in out
    netmgr.create_network("extra")
    first = netmgr.attach(c.id, c.netns, "bridge")
    second = netmgr.attach(c.id, c.netns, "extra")
    assert (first.ifname, second.ifname) == ("eth0", "eth1")
    mtu = links.uplink_mtu()
    assert c.run("busybox", "ip", "-o", "link").stdout.count(f"mtu {mtu} ") == 2  # eth0, eth1 like the uplink
    with pytest.raises(ConflictError, match="already on network"):
        netmgr.attach(c.id, c.netns, "extra")
    netmgr.detach(c.id, "extra")
    assert "eth1" not in c.run("busybox", "ip", "-o", "link").stdout
    with pytest.raises(NotFoundError, match="not connected"):
        netmgr.detach(c.id, "extra")


def test_network_lifecycle_and_bad_input(netmgr: NetworkManager, make_ctr) -> None:  # type: ignore[no-untyped-def]
    rec = netmgr.create_network("n1", subnet="10.231.7.0/24", gateway="10.231.7.254", labels={"k": "v"})
    assert (rec.subnet, rec.gateway, rec.labels) == ("10.231.7.0/24", "10.231.7.254", {"k": "v"})
    assert {r.name for r in netmgr.list()} == {"bridge", "n1"}
    assert netmgr.inspect(rec.id[:12]).record == rec
    errors = [
        (lambda: netmgr.create_network("n2", subnet="10.231.0.0/16"), ConflictError, "overlaps with network n1"),
        (lambda: netmgr.create_network("n1"), ConflictError, "already exists"),
        (lambda: netmgr.create_network("bad name"), InvalidArgumentError, "invalid network name"),
        (lambda: netmgr.create_network("n3", subnet="10.1.2.300/24"), InvalidArgumentError, "--subnet"),
        (lambda: netmgr.create_network("n3", subnet="10.9.9.0/24", gateway="10.9.8.1"), InvalidArgumentError,
         "--gateway"),
        (lambda: netmgr.inspect("nosuchnet"), NotFoundError, "network 'nosuchnet' not found"),
        (lambda: netmgr.remove("bridge"), ConflictError, "pre-defined"),
    ]
    for call, exc, text in errors:
        with pytest.raises(exc) as ei:
            call()
        assert text in str(ei.value) and "\n" not in str(ei.value) and ei.value.exit_code == 125
    c = make_ctr()
    with pytest.raises(NotFoundError, match="nosuchnet"):
        netmgr.attach(c.id, c.netns, "nosuchnet")
    with pytest.raises(InvalidArgumentError, match="--ip"):
        netmgr.attach(c.id, c.netns, "n1", ip="10.9.9.9")
    att = netmgr.attach(c.id, c.netns, "n1", ip="10.231.7.77", name="c")
    assert att.ip == "10.231.7.77" and att.gateway == "10.231.7.254"
    with pytest.raises(ConflictError, match=r"^error while removing network: network n1 id [0-9a-f]{64} has active endpoints$"):
        netmgr.remove("n1")
    netmgr.create_network("n4")
    assert netmgr.prune() == ["n4"]
    netmgr.release_all(c.id)
    bridge = netmgr.inspect("n1").record.bridge
    assert bridge in links.list_links()
    netmgr.remove("n1")
    assert bridge not in links.list_links() and {r.name for r in netmgr.list()} == {"bridge"}


def test_remove_leaves_nothing_and_gc_repairs_a_crash(netmgr: NetworkManager, make_ctr) -> None:  # type: ignore[no-untyped-def]
    netmgr.create_network("u")
    keep, gone, dead = make_ctr(), make_ctr(), make_ctr()
    netmgr.attach(keep.id, keep.netns, "u", name="keep", ports=parse_publish("127.0.0.1::80"))
    a = netmgr.attach(gone.id, gone.netns, "u", name="gone", ports=parse_publish("127.0.0.1::81"))
    netmgr.attach(dead.id, dead.netns, ports=parse_publish("127.0.0.1::82/udp"))
    # rm -f: veth, allocation and rules of that container go
    netmgr.release_all(gone.id)
    targets = nft_port_targets(netmgr.table)
    assert a.veth not in links.list_links() and f"{a.ip}:81" not in targets and netmgr.attachments(gone.id) == []
    assert len(targets) == 2
    # a crash: the container died without skiff noticing, and a half-made veth was left behind
    dead.stop()
    stray = netmgr.prefix + "v" + "0" * 6
    from pyroute2 import IPRoute

    with IPRoute() as ipr:
        ipr.link("add", ifname=stray, kind="veth", peer={"ifname": stray[:-1] + "1"})
    removed = netmgr.gc([keep.id])
    assert any(dead.id[:12] in r for r in removed) and f"veth {stray}" in removed
    assert stray not in links.list_links() and netmgr.attachments(dead.id) == []
    assert len(nft_port_targets(netmgr.table)) == 1 and len(netmgr.attachments(keep.id)) == 1
    # the last container goes: its port goes, the network's rules stay (as docker0's do), the DNS
    # responder exits
    netmgr.release_all(keep.id)
    assert nft_table_exists(netmgr.table) and nft_port_targets(netmgr.table) == []
    for _ in range(50):
        if dnsproc.running_pid(netmgr.runroot, "u") is None:
            break
        time.sleep(0.05)
    assert dnsproc.running_pid(netmgr.runroot, "u") is None
    # removing the networks takes the rules with them: the user network's, then the whole table
    netmgr.remove("u")
    assert "u" not in [r.name for r in netmgr.list()] and nft_table_exists(netmgr.table)
    netmgr.teardown()
    assert not nft_table_exists(netmgr.table)


def _attach_in_child(root: str, run: str, tag: str, cid: str, ns: str, out: object) -> None:
    try:
        m = NetworkManager(Path(root), Path(run), bridge_prefix=tag, table=tag, dns_upstreams=[])
        out.put((cid, m.attach(cid, ns, "bridge").ip))  # type: ignore[attr-defined]
    except Exception as e:
        out.put((cid, f"error: {e}"))  # type: ignore[attr-defined]


@pytest.mark.slow
def test_twenty_concurrent_attaches_get_distinct_addresses(netmgr: NetworkManager, make_ctr) -> None:  # type: ignore[no-untyped-def]
    import multiprocessing

    from skiff.network import links as _links  # imported before the fork: the children share the work

    _links.list_links()
    ctrs = [make_ctr() for _ in range(20)]
    ctx = multiprocessing.get_context("fork")
    q = ctx.Queue()
    procs = [ctx.Process(target=_attach_in_child, args=(str(netmgr.root), str(netmgr.runroot), netmgr.prefix,
                                                        c.id, c.netns, q)) for c in ctrs]
    for p in procs:  # separate processes, each with its own lock file descriptor: real concurrent commands
        p.start()
    got = dict(q.get(timeout=60) for _ in procs)
    assert not [v for v in got.values() if v.startswith("error")], got
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    ips = [got[c.id] for c in ctrs]
    assert len(set(ips)) == 20
    eps = netmgr.inspect("bridge").endpoints
    assert sorted(e.ip for e in eps) == sorted(ips)
    for c, ip in zip(ctrs, ips, strict=True):
        assert f"inet {ip}/" in c.run("busybox", "ip", "-o", "addr").stdout


def test_embedded_dns_forwards_and_resolv_conf_points_at_it(tmp_path, make_ctr) -> None:  # type: ignore[no-untyped-def]
    """Unknown names go to the upstream resolver (a fake one on 127.0.0.1 here); the generated resolv.conf
    makes a plain `nslookup NAME` inside the container use the embedded responder."""
    import socket
    import threading

    from netns_helpers import rand_tag  # type: ignore[import-not-found]

    from skiff.network.dns import answer, parse_question
    from skiff.network.etcfiles import write_etc_files

    up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    up.bind(("127.0.0.1", 0))
    up.settimeout(0.2)
    stop = threading.Event()

    def upstream() -> None:
        while not stop.is_set():
            try:
                msg, peer = up.recvfrom(2048)
            except TimeoutError:
                continue
            q = parse_question(msg)
            if q is not None:
                up.sendto(answer(msg, q, ["192.0.2.99"] if q[2] == "outside.example" else None, rcode=0), peer)

    th = threading.Thread(target=upstream, daemon=True)
    th.start()
    tag = "skt" + rand_tag()
    mgr = NetworkManager(tmp_path / "root", tmp_path / "run", bridge_prefix=tag, table=tag,
                         dns_upstreams=[f"127.0.0.1:{up.getsockname()[1]}"])
    try:
        mgr.create_network("fwd")
        web, app = make_ctr(), make_ctr()
        a_web = mgr.attach(web.id, web.netns, "fwd", name="web")
        a_app = mgr.attach(app.id, app.netns, "fwd", name="app")
        assert lookup(app, "outside.example", a_app.gateway) == "192.0.2.99"
        files = write_etc_files(tmp_path / "etc", "app", [a_app])
        script = (f"mount --bind {files['resolv.conf']} /etc/resolv.conf && "
                  "busybox nslookup web && busybox nslookup outside.example")
        out = app.run("unshare", "--mount", "sh", "-c", script).stdout
        assert a_web.ip in out and "192.0.2.99" in out
    finally:
        stop.set()
        mgr.teardown()
        subprocess.run(["nft", "delete", "table", "inet", tag], capture_output=True)
        th.join()
        up.close()
