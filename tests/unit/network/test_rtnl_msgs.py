"""skiff's trimmed link message encodes byte for byte as pyroute2's full ifinfmsg, and decodes its output."""

from __future__ import annotations

from skiff.network import rtnl


def _veth(cls: type) -> bytes:  # type: ignore[type-arg]
    m = cls()
    m["index"], m["flags"], m["change"] = 0, 1, 1
    peer = {"attrs": [("IFLA_IFNAME", "eth0"), ("IFLA_MTU", 1400), ("IFLA_ADDRESS", "02:42:0a:00:00:02"),
                      ("IFLA_NET_NS_FD", 7)]}
    m["attrs"] = [("IFLA_IFNAME", "skiffv0123"), ("IFLA_MTU", 1400), ("IFLA_MASTER", 12),
                  ("IFLA_LINKINFO", {"attrs": [("IFLA_INFO_KIND", "veth"),
                                               ("IFLA_INFO_DATA", {"attrs": [("VETH_INFO_PEER", peer)]})]})]
    m["header"]["type"], m["header"]["flags"], m["header"]["sequence_number"] = 16, 0x605, 3
    m.encode()
    return bytes(m.data)


def test_veth_request_matches_pyroute2() -> None:
    _, new, _, _ = rtnl.load()
    from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg as full

    assert _veth(new) == _veth(full)


def test_link_reply_decodes() -> None:
    link, _, _, _ = rtnl.load()
    from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg as full

    m = full()
    m["index"], m["flags"] = 5, 0x1003
    m["attrs"] = [("IFLA_IFNAME", "skiff0"), ("IFLA_MTU", 1500), ("IFLA_TXQLEN", 1000),
                  ("IFLA_LINKINFO", {"attrs": [("IFLA_INFO_KIND", "bridge")]})]
    m["header"]["type"] = 16
    m.encode()
    got = link(bytes(m.data))
    got.decode()
    assert got["index"] == 5 and got["flags"] & 1 and got.get_attr("IFLA_IFNAME") == "skiff0"
    assert got.get_attr("IFLA_MTU") == 1500
    assert got.get_attr("IFLA_LINKINFO").get_attr("IFLA_INFO_KIND") == "bridge"


def test_netlink_path_imports_little() -> None:
    """The attach path loads pyroute2's netlink core and two message modules, not the package's __init__
    (IPRoute, NDB, asyncio...); a later `from pyroute2 import IPRoute` still gets the whole package."""
    import subprocess
    import sys

    code = ("import sys\nfrom skiff.network import rtnl\nrtnl.load()\n"
            "heavy = [m for m in ('asyncio', 'pyroute2.iproute', 'pyroute2.ndb', 'pyroute2.netlink.rtnl.ifinfmsg')"
            " if m in sys.modules]\nassert not heavy, heavy\n"
            "from pyroute2 import IPRoute, NetlinkError\nassert IPRoute.__name__ == 'IPRoute'\n")
    cp = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert cp.returncode == 0, cp.stderr
