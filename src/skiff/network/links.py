"""Host devices through rtnetlink (:mod:`skiff.network.rtnl`, on pyroute2's messages): bridges, veth pairs,
addresses, routes, sysctls.

Attaching a container costs two sockets (host, container namespace) and four round trips: get the bridge;
one batch of address, up and veth; get the veth's peer inside the namespace; one batch of lo up, address, up
and default route.
"""

from __future__ import annotations

import errno
import ipaddress
import os
from pathlib import Path
from typing import Any

from skiff.network.model import NetworkError
from skiff.network.rtnl import (
    NLM_F_CREATE,
    NLM_F_EXCL,
    NLM_F_REPLACE,
    RTM_NEWADDR,
    RTM_NEWLINK,
    RTM_NEWROUTE,
    RTM_SETLINK,
    Rtnl,
    RtnlError,
)

IFF_UP = 0x1
CREATE = NLM_F_CREATE | NLM_F_EXCL


def sysctl_set(key: str, value: str) -> str:
    """Write /proc/sys/<key> and return the old value."""
    p = Path("/proc/sys") / key.replace(".", "/")
    old = p.read_text().strip()
    if old != value:
        p.write_text(value)
    return old


def _uplink_mtu(nl: Rtnl) -> int:
    for r in nl.routes():
        oif = r.get_attr("RTA_OIF")
        if r["dst_len"] == 0 and r["table"] == 254 and oif:
            for lk in nl.links():
                if lk["index"] == oif:
                    return int(lk.get_attr("IFLA_MTU") or 1500)
    return 1500


def uplink_mtu() -> int:
    """MTU of the interface that holds the host's default route (1500 without one)."""
    with Rtnl() as nl:
        return _uplink_mtu(nl)


def host_routes() -> list[tuple[ipaddress.IPv4Network, str]]:
    """IPv4 routes of the main table (no default route) with their device names."""
    out = []
    with Rtnl() as nl:
        names = {lk["index"]: lk.get_attr("IFLA_IFNAME") for lk in nl.links()}
        for r in nl.routes():
            dst = r.get_attr("RTA_DST")
            if not dst or r["dst_len"] == 0 or r["table"] != 254:
                continue
            net = ipaddress.IPv4Network(f"{dst}/{r['dst_len']}", strict=False)
            out.append((net, names.get(r.get_attr("RTA_OIF"), "")))
    return out


def list_links() -> dict[str, str]:
    """name -> kind of every host link."""
    out = {}
    with Rtnl() as nl:
        for lk in nl.links():
            info = lk.get_attr("IFLA_LINKINFO")
            kind = info.get_attr("IFLA_INFO_KIND") if info else ""
            out[lk.get_attr("IFLA_IFNAME")] = kind or ""
    return out


def delete_link(name: str) -> bool:
    """Delete a host link; False if there is none. A container's veth is usually gone already (the kernel
    destroys the pair with the container's namespace): then no netlink socket is opened."""
    if "/" not in name and name not in (".", "..") and not os.path.lexists(f"/sys/class/net/{name}"):
        return False
    with Rtnl() as nl:
        return nl.delete_link(name)


def _ensure_bridge(nl: Rtnl, name: str, gateway: str, prefixlen: int, mtu: int | None) -> tuple[int, int, list[Any]]:
    """The bridge (created if missing); returns (index, mtu, the requests that finish it: its gateway address
    and up), for the caller to batch with its own."""
    link = nl.get_link(name)
    if link is None:
        mtu = mtu or _uplink_mtu(nl)
        # a fixed MAC: otherwise the bridge takes its lowest port's, and changes when that port goes
        mac = "02:" + ":".join(f"{b:02x}" for b in os.urandom(5))
        msg = nl.link_msg(IFLA_IFNAME=name, IFLA_MTU=mtu, IFLA_ADDRESS=mac,
                          IFLA_LINKINFO={"attrs": [("IFLA_INFO_KIND", "bridge")]})
        try:
            nl.request(msg, RTM_NEWLINK, CREATE, f"cannot create bridge {name}", ok=(errno.EEXIST,))
        except RtnlError as e:
            raise NetworkError(str(e)) from None
        link = nl.get_link(name)
        if link is None:
            raise NetworkError(f"bridge {name} vanished while being created")
    index = int(link["index"])
    rl = Path(f"/proc/sys/net/ipv4/conf/{name}/route_localnet")
    if rl.read_text().strip() != "1":
        rl.write_text("1")  # 127.0.0.1-sourced DNAT'd packets may leave through the bridge
    # REPLACE: idempotent, so no address dump is needed to know whether the gateway is there
    reqs = [(nl.addr_msg(index, gateway, prefixlen), RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE,
             f"cannot add {gateway}/{prefixlen} to bridge {name}")]
    if not link["flags"] & IFF_UP:
        reqs.append((nl.link_msg(index, up=True), RTM_SETLINK, 0, f"cannot bring bridge {name} up"))
    return index, int(link.get_attr("IFLA_MTU") or mtu or 1500), reqs


def ensure_bridge(name: str, gateway: str, prefixlen: int, mtu: int | None = None) -> None:
    with Rtnl() as nl:
        _, _, reqs = _ensure_bridge(nl, name, gateway, prefixlen, mtu)
        nl.batch(reqs)


def plumb(*, bridge: str, gateway: str, prefixlen: int, host_name: str, netns_path: str, ifname: str, ip: str,
          mac: str, default_route: bool, mtu: int | None = None, isolated: bool = False,
          extra_addrs: list[tuple[str, int]] | None = None) -> None:
    """Bridge (created on demand, with the uplink's MTU unless ``mtu``), then a veth pair with the bridge's
    MTU: host end on the bridge, the other end as ``ifname`` in the container's namespace with its address
    (and ``extra_addrs``, link-local ones), lo up and (``default_route``) a default route via the gateway
    unless the namespace has one already. ``isolated``: the bridge port may not talk to the bridge's other
    isolated ports (Docker's ``enable_icc=false``), only to the host and to the world beyond it."""
    try:
        target = os.open(netns_path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as e:
        raise NetworkError(f"cannot open network namespace {netns_path}: {e.strerror}") from None
    try:
        with Rtnl() as nl:
            br, mtu, reqs = _ensure_bridge(nl, bridge, gateway, prefixlen, mtu)
            peer = {"attrs": [("IFLA_IFNAME", ifname), ("IFLA_MTU", mtu), ("IFLA_ADDRESS", mac),
                              ("IFLA_NET_NS_FD", target)]}
            veth = nl.link_msg(up=True, IFLA_IFNAME=host_name, IFLA_MTU=mtu, IFLA_MASTER=br, IFLA_LINKINFO={
                "attrs": [("IFLA_INFO_KIND", "veth"), ("IFLA_INFO_DATA", {"attrs": [("VETH_INFO_PEER", peer)]})]})
            reqs.append((veth, RTM_NEWLINK, CREATE, f"cannot create veth {host_name}"))
            nl.batch(reqs)
    finally:
        os.close(target)
    # hairpin: with br_netfilter, a container reaching its own published port through the host is
    # DNAT'ed inside the bridge and must go back out the port it came in by
    Path(f"/sys/class/net/{host_name}/brport/hairpin_mode").write_text("1")
    if isolated:  # the bridge drops frames between two isolated ports: no container-to-container traffic
        Path(f"/sys/class/net/{host_name}/brport/isolated").write_text("1")
    with Rtnl(netns_path) as nl:
        link = nl.get_link(ifname)
        if link is None:
            raise NetworkError(f"{ifname} did not arrive in {netns_path}")
        idx = link["index"]
        reqs = [(nl.link_msg(1, up=True), RTM_SETLINK, 0, f"cannot bring lo up in {netns_path}"),  # lo is 1
                (nl.addr_msg(idx, ip, prefixlen), RTM_NEWADDR, CREATE, f"cannot add {ip} in {netns_path}"),
                (nl.link_msg(idx, up=True), RTM_SETLINK, 0, f"cannot bring {ifname} up in {netns_path}")]
        reqs += [(nl.addr_msg(idx, a, plen), RTM_NEWADDR, CREATE, f"cannot add {a} in {netns_path}")
                 for a, plen in extra_addrs or ()]
        if default_route:  # EEXIST: the first network keeps the default route
            reqs.append((nl.default_route_msg(gateway, idx), RTM_NEWROUTE, CREATE,
                         f"cannot add the default route in {netns_path}"))
        nl.batch(reqs, ok=(errno.EEXIST,))


def loopback_up(netns_path: str) -> None:
    """``--network none``: only lo, up."""
    with Rtnl(netns_path) as nl:
        nl.batch([(nl.link_msg(1, up=True), RTM_SETLINK, 0, f"cannot bring lo up in {netns_path}")])
