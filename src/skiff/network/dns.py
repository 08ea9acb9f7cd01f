"""The embedded DNS responder of a user network (Docker's 127.0.0.11), one small process per network.

Run as ``python -m skiff.network.dns ROOT NETWORK LISTEN_IP [UPSTREAM[:PORT] ...]``. It answers A queries for
the network's container names, aliases and short ids from ROOT/networks/ipam/NETWORK.json (and, for the
container that asks, the aliases of its `network connect --link NAME:ALIAS`), forwards every
other query to the upstream resolvers (the host's), and exits once the network has no endpoint left.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import select
import signal
import socket
import struct
import sys
import time
from pathlib import Path

TTL = 600
A, ANY, IN = 1, 255, 1


def parse_question(msg: bytes) -> tuple[int, int, str, int, int, int] | None:
    """(id, flags, qname, qtype, qclass, end offset of the question) of a query, or None if malformed."""
    if len(msg) < 12:
        return None
    qid, flags, qd = struct.unpack("!HHH", msg[:6])
    if qd != 1 or flags & 0x8000:
        return None
    labels, i = [], 12
    while True:
        if i >= len(msg):
            return None
        n = msg[i]
        i += 1
        if n == 0:
            break
        if n & 0xC0 or i + n > len(msg):
            return None
        labels.append(msg[i: i + n].decode("ascii", "replace"))
        i += n
    if i + 4 > len(msg):
        return None
    qtype, qclass = struct.unpack("!HH", msg[i: i + 4])
    return qid, flags, ".".join(labels).lower(), qtype, qclass, i + 4


def answer(msg: bytes, q: tuple[int, int, str, int, int, int], ips: list[str] | None, rcode: int = 0) -> bytes:
    """A response to query ``msg``: A records for ``ips`` (none for other types), authoritative."""
    qid, flags, _name, qtype, qclass, end = q
    records = ips if ips and qclass == IN and qtype in (A, ANY) else []
    rflags = 0x8000 | (flags & 0x7900) | 0x0400 | 0x0080 | rcode
    out = [struct.pack("!HHHHHH", qid, rflags, 1, len(records), 0, 0), msg[12:end]]
    for ip in records:
        out.append(struct.pack("!HHHIH", 0xC00C, A, IN, TTL, 4) + socket.inet_aton(ip))
    return b"".join(out)


class Table:
    """Names of the network's endpoints, re-read when the allocation file changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.mtime = -1.0
        self.names: dict[str, list[str]] = {}
        self.links: dict[str, dict[str, list[str]]] = {}  # asking container's IP -> its link aliases
        self.count = 0
        self.gone = False

    def refresh(self) -> None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            self.gone, self.names, self.count = True, {}, 0
            return
        if st.st_mtime == self.mtime:
            return
        self.mtime = st.st_mtime
        try:
            data = json.loads(self.path.read_bytes())
        except (OSError, ValueError):
            return
        names: dict[str, list[str]] = {}
        eps = data.get("Endpoints") or []
        for ep in eps:
            keys = [ep.get("Name") or "", *(ep.get("Aliases") or []), (ep.get("ContainerId") or "")[:12]]
            for k in keys:
                if k:
                    names.setdefault(k.lower().rstrip("."), []).append(ep["IPv4Address"])
        links: dict[str, dict[str, list[str]]] = {}
        for ep in eps:
            for link in ep.get("Links") or []:
                target, _, alias = link.partition(":")
                ips = [e["IPv4Address"] for e in eps
                       if target and (e.get("Name") == target or (e.get("ContainerId") or "").startswith(target))]
                if ips:
                    links.setdefault(ep["IPv4Address"], {})[(alias or target).lower()] = ips[:1]
        self.names, self.links, self.count = names, links, len(eps)

    def lookup(self, name: str, client: str = "") -> list[str] | None:
        self.refresh()
        linked = self.links.get(client, {}).get(name)
        return linked if linked is not None else self.names.get(name)


def parse_upstream(text: str) -> tuple[str, int]:
    host, _, port = text.partition(":")
    return host, int(port or 53)


def network_subnet(root: Path, network: str) -> ipaddress.IPv4Network | None:
    try:
        return ipaddress.IPv4Network(json.loads((root / "networks" / f"{network}.json").read_bytes())["Subnet"])
    except (OSError, ValueError, KeyError):
        return None


def serve(root: Path, network: str, listen: str, upstreams: list[tuple[str, int]], port: int = 53) -> int:
    table = Table(root / "networks" / "ipam" / f"{network}.json")
    subnet = network_subnet(root, network)
    srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    srv.bind((listen, port))
    fwd = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    fwd.bind(("0.0.0.0", 0))
    print("ready", flush=True)
    with contextlib.suppress(OSError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    pending: dict[int, tuple[int, tuple[str, int], float, bytes, int]] = {}
    next_id = 1
    last_check = time.monotonic()
    while True:
        ready, _, _ = select.select([srv, fwd], [], [], 0.5)
        now = time.monotonic()
        if srv in ready:
            msg, client = srv.recvfrom(4096)
            q = parse_question(msg)
            if q is not None and subnet is not None and ipaddress.IPv4Address(client[0]) not in subnet:
                srv.sendto(answer(msg, q, None, rcode=5), client)  # REFUSED: only this network's containers
            elif q is not None:
                ips = table.lookup(q[2], client[0])
                if ips is not None:
                    srv.sendto(answer(msg, q, ips), client)
                elif not upstreams:
                    srv.sendto(answer(msg, q, None, rcode=2), client)
                else:
                    next_id = next_id % 0xFFFF + 1
                    pending[next_id] = (q[0], client, now, msg, 0)
                    fwd.sendto(struct.pack("!H", next_id) + msg[2:], upstreams[0])
        if fwd in ready:
            msg, _src = fwd.recvfrom(4096)
            if len(msg) >= 12:
                entry = pending.pop(struct.unpack("!H", msg[:2])[0], None)
                if entry is not None:
                    srv.sendto(struct.pack("!H", entry[0]) + msg[2:], entry[1])
        for fid, (oid, client, t0, msg, idx) in list(pending.items()):
            if now - t0 > 2.0:
                del pending[fid]
                if idx + 1 < len(upstreams):
                    pending[fid] = (oid, client, now, msg, idx + 1)
                    fwd.sendto(struct.pack("!H", fid) + msg[2:], upstreams[idx + 1])
                else:
                    q = parse_question(msg)
                    if q is not None:
                        srv.sendto(answer(msg, q, None, rcode=2), client)
        if now - last_check > 1.0:
            last_check = now
            table.refresh()
            if table.gone or table.count == 0:
                return 0


def main(argv: list[str]) -> int:
    if len(argv) < 3:
        print("usage: python -m skiff.network.dns ROOT NETWORK LISTEN_IP [UPSTREAM[:PORT] ...]", file=sys.stderr)
        return 2
    root, network, listen = Path(argv[0]), argv[1], argv[2]
    return serve(root, network, listen, [parse_upstream(u) for u in argv[3:]])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
