"""Published ports: Docker's ``-p`` syntax, ``-P`` expansion, and host port checks (bind and let go)."""

from __future__ import annotations

import contextlib
import ipaddress
import random
import socket
from collections.abc import Iterable, Mapping
from typing import Any

from skiff.errors import ConflictError, InvalidArgumentError
from skiff.network.model import PortMapping

PROTOCOLS = ("tcp", "udp")


def _bad(spec: str, why: str) -> InvalidArgumentError:
    return InvalidArgumentError(f"invalid publish spec {spec!r} (-p): {why}")


def _port_range(spec: str, text: str, what: str) -> tuple[int, int]:
    lo_s, sep, hi_s = text.partition("-")
    try:
        lo = int(lo_s)
        hi = int(hi_s) if sep else lo
    except ValueError:
        raise _bad(spec, f"invalid {what} {text!r}") from None
    for p in (lo, hi):
        if not 1 <= p <= 65535:
            raise _bad(spec, f"{what} {p} is outside 1-65535")
    if hi < lo:
        raise _bad(spec, f"invalid {what} range {text!r}")
    return lo, hi


def parse_publish(spec: str) -> list[PortMapping]:
    """``[ip:][hostPort:]containerPort[/tcp|/udp]`` with ranges, as ``docker run -p``."""
    text = spec.strip()
    proto = "tcp"
    if "/" in text:
        text, _, proto = text.rpartition("/")
        proto = proto.lower()
        if proto not in PROTOCOLS:
            raise _bad(spec, f"unsupported protocol {proto!r} (tcp or udp)")
    host_ip = ""
    if text.startswith("["):
        end = text.find("]")
        if end < 0 or text[end + 1: end + 2] != ":":
            raise _bad(spec, "unterminated IPv6 address")
        host_ip, text = text[1:end], text[end + 2:]
        parts = ["", *text.split(":")] if text.count(":") == 1 else ["", "", text]
        parts[0] = host_ip
    else:
        parts = text.split(":")
    if len(parts) == 1:
        host_ip, host, ctr = "", "", parts[0]
    elif len(parts) == 2:
        host_ip, host, ctr = "", parts[0], parts[1]
    elif len(parts) == 3:
        host_ip, host, ctr = parts
    else:
        raise _bad(spec, "too many colons")
    if host_ip:
        try:
            addr = ipaddress.ip_address(host_ip)
        except ValueError:
            raise _bad(spec, f"invalid IP address {host_ip!r}") from None
        if addr.version != 4:
            raise _bad(spec, "IPv6 host addresses are not supported")
        host_ip = str(addr)
    if not ctr:
        raise _bad(spec, "no container port")
    c_lo, c_hi = _port_range(spec, ctr, "container port")
    if not host:
        return [PortMapping(p, proto, host_ip) for p in range(c_lo, c_hi + 1)]
    h_lo, h_hi = _port_range(spec, host, "host port")
    if c_lo == c_hi and h_hi > h_lo:
        return [PortMapping(c_lo, proto, host_ip, h_lo, h_hi)]
    if h_hi - h_lo != c_hi - c_lo:
        raise _bad(spec, f"host range {host} and container range {ctr} differ in size")
    return [PortMapping(c, proto, host_ip, h_lo + i) for i, c in enumerate(range(c_lo, c_hi + 1))]


def expand_exposed(exposed: Mapping[str, Any] | Iterable[str]) -> list[PortMapping]:
    """``-P``: every EXPOSEd port (``{"80/tcp": {}}`` as in the image config) on a random host port."""
    out: list[PortMapping] = []
    for key in sorted(exposed, key=str):
        port, _, proto = str(key).partition("/")
        proto = (proto or "tcp").lower()
        if proto not in PROTOCOLS:
            continue
        try:
            lo, hi = _port_range(str(key), port, "exposed port")
        except InvalidArgumentError:
            raise InvalidArgumentError(f"invalid exposed port {key!r} in image config") from None
        out.extend(PortMapping(p, proto) for p in range(lo, hi + 1))
    return out


def _sock_type(proto: str) -> int:
    return socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM


def port_is_free(host_ip: str, port: int, proto: str) -> bool:
    """Try to bind ``host_ip:port`` (all addresses when empty); hold nothing afterwards."""
    with contextlib.closing(socket.socket(socket.AF_INET, _sock_type(proto))) as s:
        if proto == "tcp":
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # ignore TIME_WAIT, not listeners
        try:
            s.bind((host_ip or "0.0.0.0", port))
        except OSError:
            return False
    return True


def pick_port(host_ip: str, proto: str, taken: set[tuple[str, int]], lo: int = 0, hi: int = 0) -> int:
    """A free host port from ``lo..hi`` (or the kernel's ephemeral range) not in ``taken``."""
    if not lo:
        try:
            with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
                lo, hi = (int(x) for x in f.read().split())
        except (OSError, ValueError):
            lo, hi = 32768, 60999
        candidates = random.sample(range(lo, hi + 1), min(200, hi - lo + 1))
    else:
        candidates = list(range(lo, hi + 1))
    for port in candidates:
        if (proto, port) not in taken and port_is_free(host_ip, port, proto):
            return port
    what = f"{lo}-{hi}"
    raise ConflictError(f"no free host port for {proto} in {what}")


def with_exposed(ports: list[PortMapping], exposed: Mapping[str, Any] | Iterable[str], publish_all: bool) -> list[PortMapping]:
    """``-p`` bindings plus, with ``-P``, every EXPOSEd port that ``-p`` does not already publish."""
    if not publish_all:
        return ports
    have = {(p.container_port, p.protocol) for p in ports}
    return ports + [p for p in expand_exposed(exposed) if (p.container_port, p.protocol) not in have]
