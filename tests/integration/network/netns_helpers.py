"""Helpers of the network integration tests (a module of its own: `conftest` is a name several dirs use)."""

from __future__ import annotations

import contextlib
import random
import re
import signal
import string
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field


def rand_tag(n: int = 4) -> str:
    return "".join(random.choices(string.ascii_lowercase + string.digits, k=n))


@dataclass
class Ctr:
    """A stand-in container: a process alone in its network namespace, plus helpers run inside it."""

    proc: subprocess.Popen[bytes]
    id: str
    extra: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def netns(self) -> str:
        return f"/proc/{self.proc.pid}/ns/net"

    def argv(self, *args: str) -> list[str]:
        return ["nsenter", f"--net={self.netns}", *args]

    def run(self, *args: str, timeout: float = 10, check: bool = True) -> subprocess.CompletedProcess[str]:
        cp = subprocess.run(self.argv(*args), capture_output=True, text=True, timeout=timeout)
        if check and cp.returncode != 0:
            raise AssertionError(f"{args} in {self.id[:8]} exited {cp.returncode}: {cp.stderr}{cp.stdout}")
        return cp

    def fetch(self, url: str, timeout: float = 5) -> subprocess.CompletedProcess[str]:
        """GET ``url`` from inside the namespace (busybox wget of Debian's busybox-static crashes)."""
        code = ("import sys, urllib.request; "
                f"sys.stdout.write(urllib.request.urlopen({url!r}, timeout={timeout}).read().decode())")
        return self.run(sys.executable, "-c", code, timeout=timeout + 5, check=False)

    def spawn(self, *args: str) -> subprocess.Popen[bytes]:
        p = subprocess.Popen(self.argv(*args), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.extra.append(p)
        return p

    def python(self, code: str) -> subprocess.Popen[bytes]:
        return self.spawn(sys.executable, "-c", code)

    def stop(self) -> None:
        for p in [*self.extra, self.proc]:
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
            p.wait()


def nft_port_targets(table: str) -> list[str]:
    """``ip:port`` targets of the published-port map elements in table ``inet <table>``."""
    cp = subprocess.run(["nft", "list", "table", "inet", table], capture_output=True, text=True)
    return [f"{ip}:{port}" for ip, port in re.findall(r": ([0-9.]+) \. (\d+)", cp.stdout)]


def nft_table_exists(table: str) -> bool:
    return subprocess.run(["nft", "list", "table", "inet", table], capture_output=True).returncode == 0


@contextlib.contextmanager
def tagged_network_env(skiff, monkeypatch, prefix: str, *, containers: bool = False) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A tag (``prefix`` + random) exported as bridge prefix and nft table name for the CLI (and this process's
    managers); afterwards the store's containers (with ``containers``), networks, the links named with the tag
    and the table are removed, whatever happened."""
    from skiff.network import links
    from skiff.network.manager import NetworkManager

    tag = prefix + rand_tag()
    monkeypatch.setenv("SKIFF_BRIDGE_PREFIX", tag)
    monkeypatch.setenv("SKIFF_NFT_TABLE", tag)
    try:
        yield tag
    finally:
        if containers:
            with contextlib.suppress(Exception):
                ids = skiff("ps", "-aq", "--no-trunc", check=False).stdout.decode().split()
                if ids:
                    skiff("rm", "-f", *ids, check=False)
        with contextlib.suppress(Exception):
            NetworkManager(skiff.root, skiff.runroot).teardown()
        for name in links.list_links():
            if name.startswith(tag):
                links.delete_link(name)
        subprocess.run(["nft", "delete", "table", "inet", tag], capture_output=True)

