"""The iptables fallback of :mod:`skiff.network.firewall`, for hosts without nftables.

skiff's rules live in its own chains (``<TABLE>-PORTS``, ``-POST``, ``-FWD``, ``-GUARD``), refilled as a
whole through ``iptables-restore --noflush`` (declaring a chain there empties it, in one commit per table);
the built-in chains only get one jump each, inserted first. Everything is removed when no endpoint is left.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence

from skiff.network.firewall import NetworkRules
from skiff.network.model import NetworkError

# (table, built-in chain, jump match, our chain suffix)
JUMPS: tuple[tuple[str, str, list[str], str], ...] = (
    ("raw", "PREROUTING", [], "GUARD"),
    ("nat", "PREROUTING", ["-m", "addrtype", "--dst-type", "LOCAL"], "PORTS"),
    ("nat", "OUTPUT", ["-m", "addrtype", "--dst-type", "LOCAL"], "PORTS"),
    ("nat", "POSTROUTING", [], "POST"),
    ("filter", "FORWARD", [], "FWD"),
)


def available() -> bool:
    return shutil.which("iptables") is not None and shutil.which("iptables-restore") is not None


def _rules(prefix: str, nets: Sequence[NetworkRules]) -> dict[str, dict[str, list[str]]]:
    active = [n for n in nets if n.endpoints]
    ports, post, fwd, guard = [], [], [], []
    for n in active:
        br, rec = n.record.bridge, n.record
        guard.append(f"-i {br} -d 127.0.0.0/8 -j DROP")
        fwd.append(f"-i {br} -o {br} -j ACCEPT")
        for other in active:
            if other is not n:
                fwd.append(f"-i {br} -o {other.record.bridge} -j DROP")
        if rec.internal:
            fwd += [f"-i {br} -j DROP", f"-o {br} -j DROP"]
        else:
            if rec.masquerade:
                post.append(f"-s {rec.subnet} ! -o {br} -j MASQUERADE")
            fwd += [f"-i {br} -j ACCEPT", f"-o {br} -m conntrack --ctstate RELATED,ESTABLISHED,DNAT -j ACCEPT"]
        post.append(f"-o {br} -s 127.0.0.0/8 -j MASQUERADE")
        post.append(f"-o {br} -s {rec.subnet} -m conntrack --ctstate DNAT -j MASQUERADE")
        for ep in n.endpoints:
            for p in ep.ports:
                dst = f"-d {p.host_ip} " if p.host_ip and p.host_ip != "0.0.0.0" else ""
                ports.append(f"{dst}-p {p.protocol} -m {p.protocol} --dport {p.host_port} "
                             f"-j DNAT --to-destination {ep.ip}:{p.container_port}")
    return {"raw": {f"{prefix}-GUARD": guard},
            "nat": {f"{prefix}-PORTS": ports, f"{prefix}-POST": post},
            "filter": {f"{prefix}-FWD": fwd}}


def render(prefix: str, nets: Sequence[NetworkRules]) -> str:
    """The ``iptables-restore --noflush`` input that refills skiff's chains."""
    out = []
    for table, chains in _rules(prefix, nets).items():
        out.append(f"*{table}")
        out += [f":{c} - [0:0]" for c in chains]
        out += [f"-A {c} {r}" for c, rs in chains.items() for r in rs]
        out.append("COMMIT")
    return "\n".join(out) + "\n"


def _ipt(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    cp = subprocess.run(["iptables", "-w", *args], capture_output=True, text=True)
    if check and cp.returncode != 0:
        raise NetworkError(f"iptables {' '.join(args)}: {cp.stderr.strip().splitlines()[0]}")
    return cp


def apply(prefix: str, nets: Sequence[NetworkRules]) -> None:
    if not any(n.endpoints for n in nets):
        remove(prefix)
        return
    cp = subprocess.run(["iptables-restore", "-w", "--noflush"], input=render(prefix, nets), capture_output=True,
                        text=True)
    if cp.returncode != 0:
        raise NetworkError(f"iptables-restore rejected skiff's rules: {cp.stderr.strip().splitlines()[0]}")
    for table, builtin, match, suffix in JUMPS:
        rule = [*match, "-j", f"{prefix}-{suffix}"]
        if _ipt("-t", table, "-C", builtin, *rule, check=False).returncode != 0:
            _ipt("-t", table, "-I", builtin, "1", *rule)


def remove(prefix: str) -> None:
    """Take skiff's jumps and chains out (nothing to do when they are not there)."""
    for table, builtin, match, suffix in JUMPS:
        rule = [*match, "-j", f"{prefix}-{suffix}"]
        while _ipt("-t", table, "-D", builtin, *rule, check=False).returncode == 0:
            pass
    for table, chains in _rules(prefix, []).items():
        for c in chains:
            _ipt("-t", table, "-F", c, check=False)
            _ipt("-t", table, "-X", c, check=False)


def chains_present(prefix: str) -> list[str]:
    found = []
    for table in ("raw", "nat", "filter"):
        cp = _ipt("-t", table, "-S", check=False)
        found += [line.split()[1] for line in cp.stdout.splitlines()
                  if line.startswith("-N ") and line.split()[1].startswith(prefix + "-")]
    return found

