"""Fixtures: a NetworkManager on its own store, bridge prefix and nft table; stand-in containers (a process
in a fresh network namespace); an 'outside' host in a namespace of its own wired to the host by a veth pair.
Everything created here is removed at teardown, even when a test fails."""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

if os.geteuid() != 0 or shutil.which("unshare") is None or shutil.which("busybox") is None:
    pytest.skip("network integration tests need root, unshare and busybox", allow_module_level=True)

from netns_helpers import Ctr, rand_tag  # type: ignore[import-not-found]

from skiff.network import links
from skiff.network.manager import NetworkManager


@pytest.fixture(scope="session", autouse=True)
def _restore_ip_forward() -> Iterator[None]:
    old = Path("/proc/sys/net/ipv4/ip_forward").read_text()
    yield
    Path("/proc/sys/net/ipv4/ip_forward").write_text(old)


@pytest.fixture
def netmgr(tmp_path: Path) -> Iterator[NetworkManager]:
    tag = "skt" + rand_tag()
    mgr = NetworkManager(tmp_path / "root", tmp_path / "run", bridge_prefix=tag, table=tag, dns_upstreams=[])
    try:
        yield mgr
    finally:
        with contextlib.suppress(Exception):
            mgr.teardown()
        for name in links.list_links():
            if name.startswith(tag):
                links.delete_link(name)
        subprocess.run(["nft", "delete", "table", "inet", tag], capture_output=True)


@pytest.fixture
def make_ctr() -> Iterator[object]:
    made: list[Ctr] = []

    def make() -> Ctr:
        p = subprocess.Popen(["unshare", "--net", "busybox", "sleep", "600"])
        for _ in range(200):  # wait until unshare has exec'd into its new namespace
            with contextlib.suppress(OSError):
                if os.readlink(f"/proc/{p.pid}/ns/net") != os.readlink("/proc/self/ns/net"):
                    break
            time.sleep(0.005)
        c = Ctr(p, os.urandom(32).hex())
        made.append(c)
        return c

    try:
        yield make
    finally:
        for c in made:
            c.stop()


@dataclass
class Outside:
    ctr: Ctr
    host_ip: str
    ip: str
    veth: str


@pytest.fixture
def outside(make_ctr) -> Iterator[Outside]:  # type: ignore[no-untyped-def]
    """A host 'outside' the machine: its own netns, wired to the host by a veth pair (198.18.N.0/24)."""
    c: Ctr = make_ctr()
    veth = "skto" + rand_tag(6)
    n = random.randint(1, 250)
    host_ip, ip = f"198.18.{n}.1", f"198.18.{n}.2"
    try:
        for cmd in (f"ip link add {veth} type veth peer name eth0 netns {c.proc.pid}",
                    f"ip addr add {host_ip}/24 dev {veth}", f"ip link set {veth} up"):
            subprocess.run(cmd.split(), check=True)
        for cmd in (f"ip addr add {ip}/24 dev eth0", "ip link set eth0 up", "ip link set lo up"):
            c.run(*cmd.split())
        yield Outside(c, host_ip, ip, veth)
    finally:
        links.delete_link(veth)
