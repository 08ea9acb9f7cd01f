"""Host devices through pyroute2 (the only user of it): bridges, veth pairs, addresses, routes, sysctls."""

from __future__ import annotations

import contextlib
import ctypes
import ipaddress
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from skiff.network.model import NetworkError

CLONE_NEWNET = 0x40000000


def _ipr() -> Any:
    from pyroute2 import IPRoute

    return IPRoute()


def _netlink_error() -> type[Exception]:
    from pyroute2 import NetlinkError

    return NetlinkError  # type: ignore[no-any-return]


@contextlib.contextmanager
def ipr_in_netns(netns_path: str) -> Iterator[Any]:
    """An IPRoute socket inside the network namespace at ``netns_path`` (created there, used from here)."""
    libc = ctypes.CDLL(None, use_errno=True)
    try:
        target = os.open(netns_path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as e:
        raise NetworkError(f"cannot open network namespace {netns_path}: {e.strerror}") from None
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    try:
        if libc.setns(target, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise NetworkError(f"cannot enter network namespace {netns_path}: {os.strerror(err)}")
        try:
            ipr = _ipr()
        finally:
            if libc.setns(own, CLONE_NEWNET) != 0:  # pragma: no cover - would leave the thread elsewhere
                raise SystemExit("skiff: cannot return to the host network namespace")
    finally:
        os.close(target)
        os.close(own)
    try:
        yield ipr
    finally:
        ipr.close()


def sysctl_set(key: str, value: str) -> str:
    """Write /proc/sys/<key> and return the old value."""
    p = Path("/proc/sys") / key.replace(".", "/")
    old = p.read_text().strip()
    if old != value:
        p.write_text(value)
    return old


def uplink_mtu() -> int:
    """MTU of the interface that holds the host's default route (1500 without one)."""
    with contextlib.closing(_ipr()) as ipr:
        for r in ipr.get_default_routes(family=2):
            oif = r.get_attr("RTA_OIF")
            if oif:
                links = ipr.get_links(oif)
                if links:
                    return int(links[0].get_attr("IFLA_MTU") or 1500)
    return 1500


def host_routes() -> list[tuple[ipaddress.IPv4Network, str]]:
    """IPv4 routes of the main table (no default route) with their device names."""
    out = []
    with contextlib.closing(_ipr()) as ipr:
        names = {lk["index"]: lk.get_attr("IFLA_IFNAME") for lk in ipr.get_links()}
        for r in ipr.get_routes(family=2, table=254):
            dst = r.get_attr("RTA_DST")
            if not dst or r["dst_len"] == 0:
                continue
            net = ipaddress.IPv4Network(f"{dst}/{r['dst_len']}", strict=False)
            out.append((net, names.get(r.get_attr("RTA_OIF"), "")))
    return out


def list_links() -> dict[str, str]:
    """name -> kind of every host link."""
    out = {}
    with contextlib.closing(_ipr()) as ipr:
        for lk in ipr.get_links():
            info = lk.get_attr("IFLA_LINKINFO")
            kind = info.get_attr("IFLA_INFO_KIND") if info else ""
            out[lk.get_attr("IFLA_IFNAME")] = kind or ""
    return out


def delete_link(name: str) -> bool:
    with contextlib.closing(_ipr()) as ipr:
        idx = ipr.link_lookup(ifname=name)
        if not idx:
            return False
        try:
            ipr.link("del", index=idx[0])
        except _netlink_error() as e:
            if getattr(e, "code", 0) != 19:  # ENODEV: gone meanwhile
                raise
        return True


def ensure_bridge(name: str, gateway: str, prefixlen: int, mtu: int) -> None:
    """Create (or repair) the bridge with its gateway address, up, with route_localnet for 127.0.0.1 DNAT."""
    with contextlib.closing(_ipr()) as ipr:
        idx = ipr.link_lookup(ifname=name)
        if not idx:
            try:
                # a fixed MAC: otherwise the bridge takes its lowest port's, and changes when that port goes
                mac = "02:" + ":".join(f"{b:02x}" for b in os.urandom(5))
                ipr.link("add", ifname=name, kind="bridge", mtu=mtu, address=mac)
            except _netlink_error() as e:
                if getattr(e, "code", 0) != 17:  # EEXIST: a concurrent command of another root
                    raise NetworkError(f"cannot create bridge {name}: {e}") from None
            idx = ipr.link_lookup(ifname=name)
        index = idx[0]
        have = {a.get_attr("IFA_ADDRESS") for a in ipr.get_addr(index=index, family=2)}
        if gateway not in have:
            ipr.addr("add", index=index, address=gateway, prefixlen=prefixlen)
        ipr.link("set", index=index, state="up")
    sysctl_set(f"net/ipv4/conf/{name}/route_localnet", "1")


def create_veth(*, host_name: str, bridge: str, netns_path: str, ifname: str, ip: str, prefixlen: int,
                gateway: str | None, mac: str, mtu: int) -> None:
    """A veth pair: host end on the bridge, the other end as ``ifname`` inside the container's netns."""
    try:
        target = os.open(netns_path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as e:
        raise NetworkError(f"cannot open network namespace {netns_path}: {e.strerror}") from None
    try:
        with contextlib.closing(_ipr()) as ipr:
            br = ipr.link_lookup(ifname=bridge)
            if not br:
                raise NetworkError(f"bridge {bridge} is missing")
            try:
                ipr.link("add", ifname=host_name, kind="veth", mtu=mtu,
                         peer={"ifname": ifname, "mtu": mtu, "address": mac, "net_ns_fd": target})
            except _netlink_error() as e:
                raise NetworkError(f"cannot create veth {host_name}: {e}") from None
            hidx = ipr.link_lookup(ifname=host_name)[0]
            ipr.link("set", index=hidx, master=br[0], state="up")
    finally:
        os.close(target)
    with ipr_in_netns(netns_path) as nipr:
        lo = nipr.link_lookup(ifname="lo")
        if lo:
            nipr.link("set", index=lo[0], state="up")
        idx = nipr.link_lookup(ifname=ifname)[0]
        nipr.addr("add", index=idx, address=ip, prefixlen=prefixlen)
        nipr.link("set", index=idx, state="up")
        if gateway and not nipr.get_default_routes(family=2):  # the first network keeps the default route
            nipr.route("add", dst="0.0.0.0/0", gateway=gateway, oif=idx)


def free_ifname(netns_path: str) -> str:
    """The first ``ethN`` not present in the namespace."""
    with ipr_in_netns(netns_path) as nipr:
        names = {lk.get_attr("IFLA_IFNAME") for lk in nipr.get_links()}
    n = 0
    while f"eth{n}" in names:
        n += 1
    return f"eth{n}"


def loopback_up(netns_path: str) -> None:
    """``--network none``: only lo, up."""
    with ipr_in_netns(netns_path) as nipr:
        lo = nipr.link_lookup(ifname="lo")
        if lo:
            nipr.link("set", index=lo[0], state="up")
