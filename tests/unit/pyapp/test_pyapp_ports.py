"""Published vs exposed vs listening ports: synthetic /proc/net/tcp text, and a real netns."""

from __future__ import annotations

import ipaddress
import subprocess
import sys
from pathlib import Path

from skiff.pyapp.ports import (
    Listener,
    PublishedPort,
    parse_exposed,
    parse_proc_net_tcp,
    port_findings,
    read_listeners,
    wait_listeners,
)

HEADER = ("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n")
TAIL = " 00000000:00000000 00:00000000 00000000     0        0 {inode} 1 0000000000000000 100 0 0 10 0\n"


def tcp(*entries: tuple[str, str, str]) -> str:
    """/proc/net/tcp text from (local, remote, state) triples."""
    rows = [f"{i:4}: {loc} {rem} {st}" + TAIL.format(inode=1000 + i) for i, (loc, rem, st) in enumerate(entries)]
    return HEADER + "".join(rows)


# The seed app: 0.0.0.0:8000 listening (0x1F40), plus an established connection that must be ignored.
SEED_TCP = tcp(("00000000:1F40", "00000000:0000", "0A"), ("0100007F:1F40", "0100007F:D2F0", "01"))
LOOPBACK_TCP = tcp(("0100007F:1F40", "00000000:0000", "0A"))
TCP6 = tcp(("00000000000000000000000000000000:2328", "00000000000000000000000000000000:0000", "0A"),
           ("00000000000000000000000001000000:1F90", "00000000000000000000000000000000:0000", "0A"),
           ("0000000000000000FFFF00000100007F:1F91", "00000000000000000000000000000000:0000", "0A"))


def test_parse_proc_net_tcp() -> None:
    assert parse_proc_net_tcp(SEED_TCP) == [Listener(ipaddress.IPv4Address("0.0.0.0"), 8000)]
    got = parse_proc_net_tcp(TCP6)
    assert [(str(x), x.loopback) for x in got] == [
        ("[::1]:8080", True), ("127.0.0.1:8081", True), ("[::]:9000", False)]


def test_the_seed_mistake_names_the_real_port() -> None:
    """docker run -p 8000:80 with an app on 8000."""
    findings = port_findings([PublishedPort(80, host_port=8000)], exposed=[], listeners=parse_proc_net_tcp(SEED_TCP))
    assert [f.render() for f in findings] == [
        "[published-not-listening] port 80/tcp is published but nothing in the container listens on it; "
        "the app listens on 8000/tcp (fix: use -p 8000:8000)"]


def test_published_not_exposed_before_start() -> None:
    found = port_findings([PublishedPort(80, host_port=8000, host_ip="127.0.0.1")], parse_exposed(["8000/tcp"]))
    assert [f.render() for f in found] == [
        "[published-not-exposed] port 80/tcp is published but the image does not EXPOSE it; it exposes 8000/tcp "
        "(fix: use -p 127.0.0.1:8000:8000)"]
    assert port_findings([PublishedPort(8000, host_port=8000)], parse_exposed(["8000/tcp"])) == []
    assert port_findings([PublishedPort(80, host_port=8000)], set()) == []  # an image exposing nothing: quiet


def test_loopback_only_listener() -> None:
    found = port_findings([PublishedPort(8000, host_port=8000)], [(8000, "tcp")], parse_proc_net_tcp(LOOPBACK_TCP))
    assert [f.render() for f in found] == [
        "[loopback-only] the app listens on 127.0.0.1:8000 only, so the published port cannot reach it "
        "(fix: bind 0.0.0.0 (all addresses) inside the container)"]


def test_quiet_when_right_and_skip_works() -> None:
    listeners = parse_proc_net_tcp(SEED_TCP)
    assert port_findings([PublishedPort(8000, host_port=8000)], [(8000, "tcp")], listeners) == []
    assert port_findings([PublishedPort(80, host_port=8000)], [(8000, "tcp")], listeners,
                         skip=["published-not-listening", "published-not-exposed"]) == []
    assert port_findings([PublishedPort(53, proto="udp")], [(53, "udp")], listeners) == []  # TCP only


def test_parse_exposed() -> None:
    assert parse_exposed(["8000", "53/udp", "7000-7002/tcp", "$PORT"]) == {
        (8000, "tcp"), (53, "udp"), (7000, "tcp"), (7001, "tcp"), (7002, "tcp")}


def test_read_listeners_from_a_fake_proc(tmp_path: Path) -> None:
    net = tmp_path / "42" / "net"
    net.mkdir(parents=True)
    (net / "tcp").write_text(SEED_TCP)
    assert read_listeners(42, proc=tmp_path) == [Listener(ipaddress.IPv4Address("0.0.0.0"), 8000)]
    (net / "tcp6").write_text(TCP6)
    assert len(read_listeners(42, proc=tmp_path)) == 4


LISTENER = """
import socket, sys, time
a = socket.socket(); a.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
a.bind(("127.0.0.1", 8000)); a.listen()
b = socket.socket(socket.AF_INET6); b.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
b.bind(("::", 9000)); b.listen()
print("ready", flush=True)
time.sleep(60)
"""


def test_listeners_of_a_real_netns(netns: str) -> None:
    proc = subprocess.Popen(["ip", "netns", "exec", netns, sys.executable, "-c", LISTENER],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        got = wait_listeners(proc.pid, [8000, 9000])
        # only the namespace's own sockets: nothing the host listens on leaks in
        assert {(str(x.ip), x.port) for x in got} == {("127.0.0.1", 8000), ("::", 9000)}
        found = port_findings([PublishedPort(80, host_port=8080), PublishedPort(8000, host_port=8000)], [], got)
        assert [f.id for f in found] == ["published-not-listening", "loopback-only"]
        assert "the app listens on 9000/tcp" in found[0].message and found[0].fix == "use -p 8080:9000"
    finally:
        proc.kill()
        proc.wait()


def _kernel_hex(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    """Format an address the way the kernel's /proc/net/tcp{,6} does (each 32-bit word little-endian)."""
    raw = ip.packed
    return "".join(raw[i:i + 4][::-1].hex().upper() for i in range(0, len(raw), 4))


def test_proc_net_tcp_round_trip() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    addresses = st.one_of(st.ip_addresses(v=4), st.ip_addresses(v=6))
    sockets = st.lists(st.tuples(addresses, st.integers(1, 65535), st.sampled_from(["0A", "01", "06"])),
                       max_size=8)

    @settings(max_examples=50, deadline=None)
    @given(sockets)
    def check(entries: list[tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, int, str]]) -> None:
        text = tcp(*((f"{_kernel_hex(ip)}:{port:04X}", "0" * len(_kernel_hex(ip)) + ":0000", st_)
                     for ip, port, st_ in entries))
        got = {(x.ip, x.port) for x in parse_proc_net_tcp(text)}
        assert got == {(ip, port) for ip, port, st_ in entries if st_ == "0A"}

    check()
