"""Published ports versus what the image EXPOSEs and what the container really listens on.

``read_listeners(pid)`` reads ``/proc/<pid>/net/tcp`` and ``tcp6``, which describe the sockets of the network
namespace ``pid`` lives in: entries in state 0A (LISTEN) are the container's listening ports, seen from the
host with no tool inside the container. ``port_findings`` turns published + exposed + listening ports into
warnings such as the seed tutorial's ``-p 8000:80`` for an app on 8000.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Iterable
from pathlib import Path

from skiff.pyapp.findings import Finding, without
from skiff.records import dataclass

TCP_LISTEN = "0A"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class Listener:
    """One listening socket read from ``/proc/<pid>/net/tcp`` or ``tcp6``: its address and port."""

    ip: IPAddress
    port: int
    proto: str = "tcp"

    @property
    def loopback(self) -> bool:
        ip = self.ip
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            return ip.ipv4_mapped.is_loopback
        return ip.is_loopback

    def __str__(self) -> str:
        ip = self.ip
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            return f"{ip.ipv4_mapped}:{self.port}"
        host = f"[{ip}]" if ip.version == 6 else str(ip)
        return f"{host}:{self.port}"


@dataclass(frozen=True)
class PublishedPort:
    """``-p [HOSTIP:]HOSTPORT:CONTAINERPORT[/PROTO]``; ``host_port`` None means a random host port (a str is
    a range such as "8000-8005")."""

    container_port: int
    proto: str = "tcp"
    host_port: int | str | None = None
    host_ip: str = ""

    def flag(self, container_port: int) -> str:
        ip = f"[{self.host_ip}]" if ":" in self.host_ip else self.host_ip
        host = f"{ip}:" if self.host_ip else ""
        hp = f"{self.host_port}:" if self.host_port is not None else (":" if self.host_ip else "")
        proto = f"/{self.proto}" if self.proto != "tcp" else ""
        return f"-p {host}{hp}{container_port}{proto}"


def _address(hexaddr: str) -> IPAddress:
    """The kernel prints each 32-bit word of the address in host (little-endian) byte order."""
    raw = bytes.fromhex(hexaddr)
    fixed = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
    return ipaddress.IPv4Address(fixed) if len(fixed) == 4 else ipaddress.IPv6Address(fixed)


def parse_proc_net_tcp(text: str) -> list[Listener]:
    """LISTEN sockets from the text of /proc/net/tcp or /proc/net/tcp6."""
    out: list[Listener] = []
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 4 or fields[3].upper() != TCP_LISTEN:
            continue
        addr, _, port = fields[1].partition(":")
        out.append(Listener(_address(addr), int(port, 16)))
    return sorted(set(out), key=lambda lst: (lst.port, lst.ip.version, int(lst.ip)))


def read_listeners(pid: int, proc: Path = Path("/proc")) -> list[Listener]:
    """The TCP ports listening in the network namespace of process ``pid``."""
    out: list[Listener] = []
    for name in ("tcp", "tcp6"):
        try:
            out += parse_proc_net_tcp((proc / str(pid) / "net" / name).read_text())
        except FileNotFoundError:
            if name == "tcp":
                raise
    return sorted(set(out), key=lambda lst: (lst.port, lst.ip.version, int(lst.ip)))


def wait_listeners(pid: int, ports: Iterable[int], *, timeout: float = 3.0, interval: float = 0.1,
                   proc: Path = Path("/proc")) -> list[Listener]:
    """Poll until each of ``ports`` has a listener or ``timeout`` passes; the listeners seen last."""
    wanted = set(ports)
    deadline = time.monotonic() + timeout
    while True:
        found = read_listeners(pid, proc)
        if wanted <= {lst.port for lst in found} or time.monotonic() >= deadline:
            return found
        time.sleep(interval)


def _names(ports: Iterable[int], proto: str = "tcp") -> str:
    return ", ".join(f"{p}/{proto}" for p in sorted(set(ports)))


def exposed_findings(published: Iterable[PublishedPort], exposed: Iterable[tuple[int, str]]) -> list[Finding]:
    """Before start: published container ports the image does not EXPOSE (quiet for images exposing none)."""
    exposed = set(exposed)
    out = []
    for p in published:
        if exposed and (p.container_port, p.proto) not in exposed:
            same = sorted(port for port, proto in exposed if proto == p.proto)
            out.append(Finding(
                "published-not-exposed",
                f"port {p.container_port}/{p.proto} is published but the image does not EXPOSE it; it exposes "
                f"{', '.join(f'{port}/{proto}' for port, proto in sorted(exposed))}",
                f"use {p.flag(same[0])}" if len(same) == 1 else ""))
    return out


def listener_findings(published: Iterable[PublishedPort], listeners: Iterable[Listener]) -> list[Finding]:
    """After start: published TCP ports nothing listens on, or only a loopback address listens on."""
    listeners = list(listeners)
    reachable = sorted({lst.port for lst in listeners if not lst.loopback})
    out = []
    for p in published:
        if p.proto != "tcp":
            continue
        on_port = [lst for lst in listeners if lst.port == p.container_port]
        if not on_port:
            msg = f"port {p.container_port}/tcp is published but nothing in the container listens on it"
            fix = ""
            if reachable:
                msg += f"; the app listens on {_names(reachable)}"
                fix = f"use {p.flag(reachable[0])}"
            elif listeners:
                msg += f"; only {', '.join(map(str, listeners))} listen (loopback)"
            out.append(Finding("published-not-listening", msg, fix))
        elif all(lst.loopback for lst in on_port):
            out.append(Finding(
                "loopback-only",
                f"the app listens on {' and '.join(map(str, on_port))} only, so the published port cannot reach it",
                "bind 0.0.0.0 (all addresses) inside the container"))
    return out


def port_findings(published: Iterable[PublishedPort], exposed: Iterable[tuple[int, str]],
                  listeners: Iterable[Listener] | None = None, *, skip: Iterable[str] = ()) -> list[Finding]:
    """All port warnings for a container; ``listeners`` None before the container has started."""
    published = list(published)
    found = exposed_findings(published, exposed)
    if listeners is not None:
        found += listener_findings(published, listeners)
    return without(found, skip)


def parse_exposed(ports: Iterable[str]) -> set[tuple[int, str]]:
    """Image config ExposedPorts keys ("8000/tcp") or EXPOSE words ("8000", "53/udp", "8000-8001")."""
    out: set[tuple[int, str]] = set()
    for word in ports:
        spec, _, proto = word.partition("/")
        lo, _, hi = spec.partition("-")
        if not lo.isdigit() or (hi and not hi.isdigit()):
            continue
        out.update((port, (proto or "tcp").lower()) for port in range(int(lo), int(hi or lo) + 1))
    return out
