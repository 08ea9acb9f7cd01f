"""skiff's nftables table: NAT, forwarding, isolation and published ports, rebuilt whole from the store.

The table (``inet <name>``) is regenerated from the records on every change and replaced in one nftables
transaction, so a crash can never leave half a rule set, and the next command's rebuild drops whatever a dead
container left. The table is deleted with the last network, and by ``NetworkManager.teardown``. libnftables is used through ctypes; the
``nft`` binary is the fallback.
"""

from __future__ import annotations

import contextlib
import ctypes
from collections.abc import Sequence
from pathlib import Path

from skiff.hashes import sha256
from skiff.network.model import Endpoint, NetworkError, NetworkRecord
from skiff.records import dataclass


@dataclass(frozen=True)
class NetworkRules:
    """One network with its endpoints: what the firewall rules are generated from."""

    record: NetworkRecord
    endpoints: Sequence[Endpoint]


def _q(name: str) -> str:
    return f'"{name}"'


def _elements(eps: Sequence[Endpoint]) -> tuple[list[str], list[str]]:
    """Map elements for published ports: (any host address, one host address)."""
    any_addr: list[str] = []
    one_addr: list[str] = []
    for ep in eps:
        for p in ep.ports:
            target = f"{ep.ip} . {p.container_port}"
            if p.host_ip and p.host_ip != "0.0.0.0":
                one_addr.append(f"{p.host_ip} . {p.protocol} . {p.host_port} : {target}")
            else:
                any_addr.append(f"{p.protocol} . {p.host_port} : {target}")
    return any_addr, one_addr


def _add_elements(table: str, eps: Sequence[Endpoint], verb: str = "add") -> str:
    any_addr, one_addr = _elements(eps)
    out = ""
    if any_addr:
        out += f"{verb} element inet {table} ports_any {{ {', '.join(any_addr)} }}\n"
    if one_addr:
        out += f"{verb} element inet {table} ports_ip {{ {', '.join(one_addr)} }}\n"
    return out


def structure(table: str, nets: Sequence[NetworkRules]) -> str:
    """Chains, maps and rules (no port elements) for the networks; "" for none.

    Every network that exists has its rules, with or without endpoints (Docker keeps docker0's rules too):
    the table is not rebuilt when the first container joins or the last one leaves, which would cost each
    lone `skiff run` two nftables transactions, each waiting for an RCU grace period."""
    active = list(nets)
    if not active:
        return ""
    post: list[str] = []
    fwd: list[str] = []
    for n in active:
        br, rec = _q(n.record.bridge), n.record
        fwd.append(f"iifname {br} oifname {br} accept")
        if rec.internal:
            fwd.append(f"iifname {br} drop")
            fwd.append(f"oifname {br} drop")
        elif rec.masquerade:  # enable_ip_masquerade=false: the subnet leaves with its own addresses
            post.append(f"ip saddr {rec.subnet} oifname != {br} masquerade")
        post.append(f"oifname {br} ip saddr 127.0.0.0/8 masquerade")
        post.append(f"oifname {br} ip saddr {rec.subnet} ct status dnat masquerade")
    brs = ", ".join(_q(n.record.bridge) for n in active)
    if len(active) > 1:
        fwd.append(f"iifname {{ {brs} }} oifname {{ {brs} }} drop")
    # route_localnet on the bridges must not let containers reach the host's 127.0.0.1 services
    # (CVE-2020-8558 in kube-proxy): drop loopback destinations arriving from a bridge, before NAT.
    guard = [f"iifname {{ {brs} }} ip daddr 127.0.0.0/8 drop"]
    hooks = {"guard": "type filter hook prerouting priority raw; policy accept;","ports": "", "prerouting": "type nat hook prerouting priority dstnat; policy accept;",
             "output": "type nat hook output priority -100; policy accept;",
             "postrouting": "type nat hook postrouting priority srcnat; policy accept;",
             "forward": "type filter hook forward priority filter; policy accept;"}
    rules = {"ports": ["dnat ip addr . port to ip daddr . meta l4proto . th dport map @ports_ip",
                       "dnat ip addr . port to meta l4proto . th dport map @ports_any"],
             "guard": guard, "prerouting": ["fib daddr type local jump ports"],
             "output": ["fib daddr type local jump ports"], "postrouting": post, "forward": fwd}
    maps = ("\tmap ports_any { type inet_proto . inet_service : ipv4_addr . inet_service; }\n"
            "\tmap ports_ip { type ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service; }\n")
    # Declare maps and chains (a no-op when they exist, so hooks stay registered), flush, then fill: one
    # transaction, and cheaper than deleting and re-creating the base chains.
    decl = "".join(f"\tchain {c} {{ {h} }}\n" for c, h in hooks.items())
    body = "".join(f"add rule inet {table} {c} {r}\n" for c, rs in rules.items() for r in rs)
    return (f"table inet {table} {{\n{maps}{decl}}}\nflush table inet {table}\n"
            f"flush map inet {table} ports_any\nflush map inet {table} ports_ip\n{body}")


def render(table: str, nets: Sequence[NetworkRules]) -> str:
    """The nft script that replaces table ``inet <table>`` (or deletes it when ``nets`` has no endpoints)."""
    struct = structure(table, nets)
    if not struct:
        return f"table inet {table} {{}}\ndelete table inet {table}\n"
    return struct + _add_elements(table, [e for n in nets for e in n.endpoints])


class Nft:
    """Runs nft scripts: libnftables.so.1 through ctypes when present, else the ``nft`` binary."""

    def __init__(self) -> None:
        self._lib: ctypes.CDLL | None = None
        try:
            try:  # the soname first: find_library runs ldconfig (tens of ms)
                lib = ctypes.CDLL("libnftables.so.1")
            except OSError:
                from ctypes.util import find_library

                lib = ctypes.CDLL(find_library("nftables") or "libnftables.so")
            lib.nft_ctx_new.restype = ctypes.c_void_p
            lib.nft_ctx_new.argtypes = [ctypes.c_uint32]
            lib.nft_ctx_free.argtypes = [ctypes.c_void_p]
            lib.nft_ctx_buffer_output.argtypes = [ctypes.c_void_p]
            lib.nft_ctx_buffer_error.argtypes = [ctypes.c_void_p]
            lib.nft_ctx_get_output_buffer.restype = ctypes.c_char_p
            lib.nft_ctx_get_output_buffer.argtypes = [ctypes.c_void_p]
            lib.nft_ctx_get_error_buffer.restype = ctypes.c_char_p
            lib.nft_ctx_get_error_buffer.argtypes = [ctypes.c_void_p]
            lib.nft_run_cmd_from_buffer.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
            self._lib = lib
        except OSError:
            self._lib = None
        if self._lib is None:
            import shutil  # only without libnftables

            if shutil.which("nft") is None:
                raise NetworkError("neither libnftables.so.1 nor the nft binary is available for firewall rules")

    def run(self, script: str) -> str:
        if self._lib is not None:
            lib = self._lib
            ctx = lib.nft_ctx_new(0)
            try:
                lib.nft_ctx_buffer_output(ctx)
                lib.nft_ctx_buffer_error(ctx)
                rc = lib.nft_run_cmd_from_buffer(ctx, script.encode())
                out = (lib.nft_ctx_get_output_buffer(ctx) or b"").decode()
                err = (lib.nft_ctx_get_error_buffer(ctx) or b"").decode()
            finally:
                lib.nft_ctx_free(ctx)
            if rc != 0:
                raise NetworkError(f"nftables rejected skiff's rules: {err.strip().splitlines()[0] if err else rc}")
            return out
        import subprocess

        cp = subprocess.run(["nft", "-f", "-"], input=script, capture_output=True, text=True)
        if cp.returncode != 0:
            raise NetworkError(f"nft rejected skiff's rules: {cp.stderr.strip().splitlines()[0]}")
        return cp.stdout

    def table_exists(self, table: str) -> bool:
        try:
            self.run(f"list table inet {table}")
        except NetworkError:
            return False
        return True

    def list_table(self, table: str) -> str:
        try:
            return self.run(f"list table inet {table}")
        except NetworkError:
            return ""


def apply(nft: Nft, table: str, nets: Sequence[NetworkRules], state: Path,
          added: Endpoint | None = None, removed: Endpoint | None = None) -> None:
    """Bring table ``inet <table>`` to what ``nets`` need.

    When only ``added`` is new (or only ``removed`` gone) and the rules are those last applied (their digest
    is kept in ``state``), its ports are added to (or deleted from) the maps in place, and an endpoint
    without published ports costs no nftables call at all. Rebuilding the table flushes its chains, and
    that waits for an RCU grace period (10-20 ms), which container start and stop should not pay.
    Otherwise the table is rebuilt.
    """
    struct = structure(table, nets)
    digest = sha256(struct.encode()).hexdigest()
    one = added or removed
    if one is not None and struct:
        try:
            last = state.read_text()
        except FileNotFoundError:
            last = ""
        if last == digest:
            script = _add_elements(table, [one], "add" if added is not None else "delete")
            if not script:
                return
            try:
                nft.run(script)
                return
            except NetworkError:
                pass  # the table changed behind our back: rebuild it
    nft.run(render(table, nets))
    if struct:
        state.parent.mkdir(parents=True, exist_ok=True)
        state.write_text(digest)
    else:
        with contextlib.suppress(FileNotFoundError):
            state.unlink()
