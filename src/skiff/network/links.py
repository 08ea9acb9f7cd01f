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
        link = _get_link(ipr, name)
        if link is None:
            return False
        try:
            ipr.link("del", index=link["index"])
        except _netlink_error() as e:
            if getattr(e, "code", 0) != 19:  # ENODEV: gone meanwhile
                raise
        return True


def _get_link(ipr: Any, name: str) -> Any | None:
    """One link by name, asked of the kernel (not a dump filtered here)."""
    try:
        return ipr.link("get", ifname=name)[0]
    except _netlink_error() as e:
        if getattr(e, "code", 0) == 19:  # ENODEV
            return None
        raise


def _ensure_bridge(ipr: Any, name: str, gateway: str, prefixlen: int, mtu: int) -> int:
    """Create (or repair) the bridge with its gateway address and up; returns its index."""
    link = _get_link(ipr, name)
    if link is None:
        # a fixed MAC: otherwise the bridge takes its lowest port's, and changes when that port goes
        mac = "02:" + ":".join(f"{b:02x}" for b in os.urandom(5))
        try:
            ipr.link("add", ifname=name, kind="bridge", mtu=mtu, address=mac)
        except _netlink_error() as e:
            if getattr(e, "code", 0) != 17:  # EEXIST: created meanwhile
                raise NetworkError(f"cannot create bridge {name}: {e}") from None
        link = _get_link(ipr, name)
        if link is None:
            raise NetworkError(f"bridge {name} vanished while being created")
    index = int(link["index"])
    have = {a.get_attr("IFA_ADDRESS") for a in ipr.get_addr(index=index, family=2)}
    if gateway not in have:
        ipr.addr("add", index=index, address=gateway, prefixlen=prefixlen)
    if not link["flags"] & 1:
        ipr.link("set", index=index, state="up")
    rl = Path(f"/proc/sys/net/ipv4/conf/{name}/route_localnet")
    if rl.read_text().strip() != "1":
        rl.write_text("1")  # 127.0.0.1-sourced DNAT'd packets may leave through the bridge
    return index


def ensure_bridge(name: str, gateway: str, prefixlen: int, mtu: int) -> None:
    with contextlib.closing(_ipr()) as ipr:
        _ensure_bridge(ipr, name, gateway, prefixlen, mtu)


def plumb(*, bridge: str, gateway: str, prefixlen: int, mtu: int, host_name: str, netns_path: str,
          ifname: str, ip: str, mac: str, default_route: bool) -> None:
    """Bridge (created on demand), then a veth pair: host end on the bridge, the other end as ``ifname`` in
    the container's namespace with its address, lo up and (``default_route``) a default route via the
    gateway unless the namespace has one already."""
    try:
        target = os.open(netns_path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as e:
        raise NetworkError(f"cannot open network namespace {netns_path}: {e.strerror}") from None
    try:
        with contextlib.closing(_ipr()) as ipr:
            br = _ensure_bridge(ipr, bridge, gateway, prefixlen, mtu)
            try:
                ipr.link("add", ifname=host_name, kind="veth", mtu=mtu, master=br, state="up",
                         peer={"ifname": ifname, "mtu": mtu, "address": mac, "net_ns_fd": target})
            except _netlink_error() as e:
                raise NetworkError(f"cannot create veth {host_name}: {e}") from None
        # hairpin: with br_netfilter, a container reaching its own published port through the host is
        # DNAT'ed inside the bridge and must go back out the port it came in by
        Path(f"/sys/class/net/{host_name}/brport/hairpin_mode").write_text("1")
    finally:
        os.close(target)
    with ipr_in_netns(netns_path) as nipr:
        lo = _get_link(nipr, "lo")
        if lo is not None and not lo["flags"] & 1:
            nipr.link("set", index=lo["index"], state="up")
        link = _get_link(nipr, ifname)
        if link is None:
            raise NetworkError(f"{ifname} did not arrive in {netns_path}")
        idx = link["index"]
        nipr.addr("add", index=idx, address=ip, prefixlen=prefixlen)
        nipr.link("set", index=idx, state="up")
        if default_route and not nipr.get_default_routes(family=2):  # the first network keeps it
            nipr.route("add", dst="0.0.0.0/0", gateway=gateway, oif=idx)


def loopback_up(netns_path: str) -> None:
    """``--network none``: only lo, up."""
    with ipr_in_netns(netns_path) as nipr:
        lo = nipr.link_lookup(ifname="lo")
        if lo:
            nipr.link("set", index=lo[0], state="up")
