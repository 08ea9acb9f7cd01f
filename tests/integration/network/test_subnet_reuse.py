"""A network's bridge made again (after a reboot, or a teardown) checks that its subnet is still free on the
host: the default network moves to a free pool, any other network is refused, naming the route in the way.
A second route to the same subnet sent the containers' traffic to the other interface (found when another
store's bridge had taken the default store's subnet while its bridge was down)."""

from __future__ import annotations

import ipaddress
import subprocess

import pytest

from skiff.errors import ConflictError
from skiff.network import links
from skiff.network.manager import DEFAULT_NETWORK, NetworkManager


def _squat(name: str, subnet: str) -> None:
    """Another interface holding ``subnet`` (as another store's bridge would)."""
    net = ipaddress.IPv4Network(subnet)
    subprocess.run(["ip", "link", "add", name, "type", "bridge"], check=True)
    subprocess.run(["ip", "addr", "add", f"{net.network_address + 1}/{net.prefixlen}", "dev", name], check=True)
    subprocess.run(["ip", "link", "set", name, "up"], check=True)


def test_the_default_network_moves_off_a_subnet_routed_elsewhere(netmgr: NetworkManager, make_ctr) -> None:  # type: ignore[no-untyped-def]
    squatter = f"{netmgr.prefix}q"
    try:
        c1 = make_ctr()
        netmgr.attach(c1.id, c1.netns, DEFAULT_NETWORK)
        old = netmgr.store.get(DEFAULT_NETWORK)
        assert old is not None
        netmgr.release_all(c1.id)
        links.delete_link(old.bridge)  # as after a reboot: the record stays, the bridge is gone
        _squat(squatter, old.subnet)
        c2 = make_ctr()
        att = netmgr.attach(c2.id, c2.netns, DEFAULT_NETWORK)
        new = netmgr.store.get(DEFAULT_NETWORK)
        assert new is not None and new.id == old.id and new.subnet != old.subnet
        assert not ipaddress.IPv4Network(new.subnet).overlaps(ipaddress.IPv4Network(old.subnet))
        assert ipaddress.IPv4Address(att.ip) in ipaddress.IPv4Network(new.subnet)
        assert att.gateway == new.gateway
        assert c2.run("busybox", "ping", "-c", "1", "-W", "2", new.gateway, check=False).returncode == 0
        routes = dict((str(n), dev) for n, dev in links.host_routes())
        assert routes[old.subnet] == squatter and routes[new.subnet] == new.bridge
    finally:
        links.delete_link(squatter)


def test_a_user_network_whose_subnet_is_routed_elsewhere_is_refused(netmgr: NetworkManager, make_ctr) -> None:  # type: ignore[no-untyped-def]
    squatter = f"{netmgr.prefix}q"
    try:
        rec = netmgr.create_network("web", subnet="10.233.7.0/24")
        c = make_ctr()
        netmgr.attach(c.id, c.netns, "web")
        netmgr.release_all(c.id)
        links.delete_link(rec.bridge)
        _squat(squatter, "10.233.0.0/16")
        with pytest.raises(ConflictError, match=rf"network web: its subnet 10.233.7.0/24 overlaps with host route "
                                                rf"via {squatter} \(10.233.0.0/16\)"):
            netmgr.attach(c.id, c.netns, "web")
        assert squatter in links.list_links() and rec.bridge not in links.list_links()
        assert netmgr.attachments(c.id) == []
    finally:
        links.delete_link(squatter)
