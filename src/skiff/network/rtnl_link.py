"""The link message (struct ifinfomsg) declared with only the attributes skiff reads or writes, on
pyroute2's netlink message framework.

pyroute2's own ``ifinfmsg`` module declares every link kind the kernel knows (bond, vxlan, wireguard...)
and loads their plugins: about two thirds of the cost of the netlink import. Attribute codes are the
kernel's (include/uapi/linux/if_link.h, veth.h); attributes not listed decode as raw bytes and are ignored.
"""

from __future__ import annotations

from pyroute2.netlink import nla, nlmsg

_FIELDS = (("family", "B"), ("__align", "x"), ("ifi_type", "H"), ("index", "i"), ("flags", "I"),
           ("change", "I"))


class _linkinfo(nla):  # type: ignore[misc]
    prefix = "IFLA_INFO_"
    nla_map = ((1, "IFLA_INFO_KIND", "asciiz"), (2, "IFLA_INFO_DATA", "veth_data"))

    class veth_data(nla):  # type: ignore[misc]
        nla_map = ((1, "VETH_INFO_PEER", "peer"),)

        class peer(nla):  # type: ignore[misc]
            prefix = "IFLA_"
            fields = _FIELDS
            nla_map = ((1, "IFLA_ADDRESS", "l2addr"), (3, "IFLA_IFNAME", "asciiz"), (4, "IFLA_MTU", "uint32"),
                       (28, "IFLA_NET_NS_FD", "uint32"))


class _linkinfo_read(nla):  # type: ignore[misc]
    """IFLA_LINKINFO as read back: the kind only (the kind-specific data stays raw)."""

    prefix = "IFLA_INFO_"
    nla_map = ((1, "IFLA_INFO_KIND", "asciiz"), (2, "IFLA_INFO_DATA", "hex"))


class ifinfmsg(nlmsg):  # type: ignore[misc]
    prefix = "IFLA_"
    fields = _FIELDS
    nla_map = ((1, "IFLA_ADDRESS", "l2addr"), (3, "IFLA_IFNAME", "asciiz"), (4, "IFLA_MTU", "uint32"),
               (10, "IFLA_MASTER", "uint32"), (18, "IFLA_LINKINFO", "linkinfo"),
               (28, "IFLA_NET_NS_FD", "uint32"))

    linkinfo = _linkinfo_read


class ifinfmsg_new(nlmsg):  # type: ignore[misc]
    """For creating links: IFLA_INFO_DATA is a veth's peer. (Not a subclass of :class:`ifinfmsg`: pyroute2
    caches the compiled attribute table on the class, and a subclass would find its parent's.)"""

    prefix = "IFLA_"
    fields = _FIELDS
    nla_map = ifinfmsg.nla_map
    linkinfo = _linkinfo
