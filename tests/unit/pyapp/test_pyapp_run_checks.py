"""skiff.engine.run_checks: the run-time port checks on a fake /proc and on a real network namespace."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from skiff.engine.run_checks import (
    published_ports,
    render,
    run_findings,
    skip_ids,
    wait_seconds,
)
from skiff.pyapp.ports import PublishedPort

HEADER = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
TAIL = " 00000000:00000000 00:00000000 00000000     0        0 1000 1 0000000000000000 100 0 0 10 0\n"
SEED_TCP = HEADER + "   0: 00000000:1F40 00000000:0000 0A" + TAIL  # 0.0.0.0:8000 listening
LOOPBACK_TCP = HEADER + "   0: 0100007F:1F40 00000000:0000 0A" + TAIL  # 127.0.0.1:8000 listening

SEED = [PublishedPort(80, host_port=34567, host_ip="127.0.0.1")]


def fake_proc(tmp_path: Path, tcp: str, pid: int = 42) -> Path:
    net = tmp_path / str(pid) / "net"
    net.mkdir(parents=True, exist_ok=True)
    (net / "tcp").write_text(tcp)
    return tmp_path


def test_published_ports_from_host_config() -> None:
    got = published_ports({"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}],
                           "53/udp": [{"HostIp": "", "HostPort": ""}],
                           "90/tcp": [{"HostPort": "9000-9005"}]})
    assert got == [PublishedPort(80, "tcp", 8080, "127.0.0.1"), PublishedPort(53, "udp", None, ""),
                   PublishedPort(90, "tcp", "9000-9005", "")]
    assert got[2].flag(91) == "-p 9000-9005:91"
    # a random host port on one address keeps its empty field; IPv6 addresses are bracketed
    assert PublishedPort(80, host_ip="127.0.0.1").flag(8000) == "-p 127.0.0.1::8000"
    assert PublishedPort(80, host_port=8080, host_ip="::1").flag(8000) == "-p [::1]:8080:8000"
    assert PublishedPort(53, "udp").flag(5353) == "-p 5353/udp"
    # -P publishes every exposed port on a random host port
    assert published_ports({}, publish_all=True, exposed=["8000/tcp"]) == [PublishedPort(8000)]


def test_seed_mistake_names_8000(tmp_path: Path) -> None:
    proc = fake_proc(tmp_path, SEED_TCP)
    t0 = time.monotonic()
    found = run_findings(42, SEED, ["8000/tcp"], wait=0.3, proc=proc)
    assert time.monotonic() - t0 >= 0.3  # port 80 never gets a listener: the whole (bounded) wait
    assert [f.id for f in found] == ["published-not-exposed", "published-not-listening"]
    assert render(found[1]) == (
        "WARNING: port 80/tcp is published but nothing in the container listens on it; the app listens on "
        "8000/tcp: use -p 127.0.0.1:34567:8000 (--skip-check published-not-listening to silence)")


def test_right_port_returns_at_once(tmp_path: Path) -> None:
    proc = fake_proc(tmp_path, SEED_TCP)
    t0 = time.monotonic()
    assert run_findings(42, [PublishedPort(8000, host_port=8000)], ["8000/tcp"], wait=5, proc=proc) == []
    assert time.monotonic() - t0 < 1  # every published port has a listener: no waiting


def test_loopback_only(tmp_path: Path) -> None:
    found = run_findings(42, [PublishedPort(8000, host_port=8000)], [], wait=5, proc=fake_proc(tmp_path, LOOPBACK_TCP))
    assert [f.id for f in found] == ["loopback-only"]


def test_nothing_listening_yet_is_no_claim(tmp_path: Path) -> None:
    """An app still starting (no listener at all after the wait) gets no listener warning."""
    proc = fake_proc(tmp_path, HEADER)
    assert run_findings(42, SEED, [], wait=0.1, proc=proc) == []
    assert [f.id for f in run_findings(42, SEED, ["8000/tcp"], wait=0.1, proc=proc)] == ["published-not-exposed"]


def test_gone_process_and_dead_container(tmp_path: Path) -> None:
    assert run_findings(4242, SEED, [], wait=0.1, proc=tmp_path) == []  # no /proc/4242
    proc = fake_proc(tmp_path, SEED_TCP)
    t0 = time.monotonic()
    assert run_findings(42, SEED, [], wait=5, proc=proc, alive=lambda: False) == []
    assert time.monotonic() - t0 < 1


def test_skips(tmp_path: Path) -> None:
    proc = fake_proc(tmp_path, SEED_TCP)
    assert skip_ids(["published-not-exposed,Loopback-Only"], {"SKIFF_SKIP_CHECKS": "x, y"}) == {
        "published-not-exposed", "loopback-only", "x", "y"}
    assert run_findings(42, SEED, ["8000/tcp"], wait=0.1, proc=proc, skip={"all"}) == []
    skip = skip_ids([], {"SKIFF_SKIP_CHECKS": "published-not-listening,loopback-only"})
    t0 = time.monotonic()
    found = run_findings(42, SEED, ["8000/tcp"], wait=5, proc=proc, skip=skip)
    assert [f.id for f in found] == ["published-not-exposed"] and time.monotonic() - t0 < 1  # no wait
    assert run_findings(42, [], ["8000/tcp"], proc=proc) == []  # nothing published: nothing to do


def test_wait_seconds() -> None:
    assert wait_seconds({}) == 2.0
    assert wait_seconds({"SKIFF_RUN_CHECK_WAIT": "0.5"}) == 0.5
    assert wait_seconds({"SKIFF_RUN_CHECK_WAIT": "soon"}) == 2.0


def test_real_netns_app_starting_late(netns: str) -> None:
    """The app binds 8000 half a second after start: the check waits for it and names it."""
    code = ("import socket, time; time.sleep(0.5); s = socket.socket(); s.bind(('0.0.0.0', 8000)); s.listen(); "
            "time.sleep(30)")
    proc = subprocess.Popen(["ip", "netns", "exec", netns, sys.executable, "-c", code])
    try:
        t0 = time.monotonic()
        assert run_findings(proc.pid, [PublishedPort(8000, host_port=8000)], ["8000/tcp"], wait=10) == []
        assert time.monotonic() - t0 < 9  # returned once 8000 listened, not after the full wait
        found = run_findings(proc.pid, SEED, ["8000/tcp"], wait=0.2)
        assert [f.id for f in found] == ["published-not-exposed", "published-not-listening"]
        assert found[1].fix == "use -p 127.0.0.1:34567:8000"
    finally:
        proc.kill()
        proc.wait()
