from __future__ import annotations

from skiff.network.firewall import NetworkRules, render
from skiff.network.model import Endpoint, NetworkRecord, PortMapping


def rec(name: str, subnet: str, bridge: str, internal: bool = False) -> NetworkRecord:
    return NetworkRecord(name=name, id=name * 8, subnet=subnet, gateway=subnet.replace("0/24", "1"),
                         bridge=bridge, internal=internal)


def ep(ip: str, *ports: PortMapping) -> Endpoint:
    return Endpoint(container_id="c", ip=ip, mac="m", veth="v", ports=list(ports))


def test_no_networks_deletes_the_table_and_a_network_without_endpoints_keeps_its_rules() -> None:
    assert render("t", []) == "table inet t {}\ndelete table inet t\n"
    s = render("t", [NetworkRules(rec("a", "10.1.0.0/24", "b0"), [])])
    assert 'ip saddr 10.1.0.0/24 oifname != "b0" masquerade' in s and "element" not in s


def test_rules_for_ports_nat_and_isolation() -> None:
    s = render("t", [NetworkRules(rec("a", "10.1.0.0/24", "b0"),
                                  [ep("10.1.0.2", PortMapping(80, "tcp", "127.0.0.1", 8080),
                                      PortMapping(53, "udp", "", 5353))]),
                     NetworkRules(rec("i", "10.2.0.0/24", "b1", internal=True), [ep("10.2.0.2")])])
    assert "add element inet t ports_ip { 127.0.0.1 . tcp . 8080 : 10.1.0.2 . 80 }\n" in s
    assert "add element inet t ports_any { udp . 5353 : 10.1.0.2 . 53 }\n" in s
    assert 'ip saddr 10.1.0.0/24 oifname != "b0" masquerade' in s
    assert 'ip saddr 10.2.0.0/24 oifname != "b1" masquerade' not in s  # internal: no way out
    assert 'iifname "b1" drop' in s and 'oifname "b1" drop' in s
    assert 'iifname { "b0", "b1" } oifname { "b0", "b1" } drop' in s
    assert 'oifname "b0" ip saddr 127.0.0.0/8 masquerade' in s
