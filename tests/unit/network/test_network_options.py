"""Docker's `network create` option checks (skiff.network.options), the record's bridge options, the rules a
network without masquerading gets, and link aliases in the embedded DNS (scoped to the linking container)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from skiff.errors import InvalidArgumentError
from skiff.network import firewall
from skiff.network.dns import Table
from skiff.network.model import NetworkRecord
from skiff.network.options import check_bridge_options, ipam_config, key_values, parse_go_bool


def rec(**kw: object) -> NetworkRecord:
    return NetworkRecord(name="n", id="n" * 64, subnet="10.9.0.0/24", gateway="10.9.0.1", bridge="brn", **kw)  # type: ignore[arg-type]


def test_ipam_config_as_docker_cli() -> None:
    assert ipam_config("10.9.0.0/24", "10.9.0.130/28", ["a=10.9.0.5", "b=10.9.0.6"]) == \
        ("10.9.0.128/28", {"a": "10.9.0.5", "b": "10.9.0.6"})
    assert ipam_config(None, None, []) == ("", {})
    for args, msg in [((None, "10.9.0.0/28", []), "every ip-range or gateway must have a corresponding subnet"),
                      (("10.9.0.0/24", "10.8.0.0/28", []), "no matching subnet for range 10.8.0.0/28"),
                      (("10.9.0.0/24", None, ["a=10.8.0.1"]), "no matching subnet for aux-address 10.8.0.1"),
                      (("10.9.0.0/24", None, ["a"]), 'ParseAddr(""): unable to parse IP'),
                      (("nonsense", "10.9.0.0/28", []), "invalid subnet: invalid CIDR address: nonsense")]:
        with pytest.raises(InvalidArgumentError) as e:
            ipam_config(*args)  # type: ignore[arg-type]
        assert e.value.message == msg


def test_bridge_options_parse_as_moby() -> None:
    check_bridge_options({"com.docker.network.driver.mtu": "1400", "com.docker.network.bridge.enable_icc": "F",
                          "com.docker.network.bridge.host_binding_ipv4": "127.0.0.1", "anything": "kept"})
    with pytest.raises(InvalidArgumentError, match="invalid MTU number: 10"):
        check_bridge_options({"com.docker.network.driver.mtu": "10"})
    with pytest.raises(InvalidArgumentError, match="bridge name"):
        check_bridge_options({"com.docker.network.bridge.name": "much-too-long-name"})
    assert [parse_go_bool(v) for v in ("1", "True", "f", "yes")] == [True, True, False, None]
    assert key_values(["a=1", "b", "a=2=3"]) == {"a": "2=3", "b": ""}


def test_record_reads_its_bridge_options() -> None:
    r = rec(options={"com.docker.network.driver.mtu": "1400", "com.docker.network.bridge.enable_icc": "false",
                     "com.docker.network.bridge.enable_ip_masquerade": "0",
                     "com.docker.network.bridge.host_binding_ipv4": "127.0.0.1"})
    assert (r.mtu, r.icc, r.masquerade, r.host_binding_ipv4) == (1400, False, False, "127.0.0.1")
    d = rec()
    assert (d.mtu, d.icc, d.masquerade, d.host_binding_ipv4) == (None, True, True, "")


def test_no_masquerade_rule_without_ip_masquerade() -> None:
    on = firewall.render("t", [firewall.NetworkRules(rec(), [])])
    off = firewall.render("t", [firewall.NetworkRules(rec(options={
        "com.docker.network.bridge.enable_ip_masquerade": "false"}), [])])
    rule = 'ip saddr 10.9.0.0/24 oifname != "brn" masquerade'
    assert rule in on and rule not in off


def test_link_alias_resolves_only_for_the_linking_container(tmp_path: Path) -> None:
    p = tmp_path / "n.json"
    p.write_text(json.dumps({"Network": "n", "Endpoints": [
        {"ContainerId": "a" * 64, "IPv4Address": "10.9.0.2", "Name": "db"},
        {"ContainerId": "b" * 64, "IPv4Address": "10.9.0.3", "Name": "app", "Links": ["db:database"]},
        {"ContainerId": "c" * 64, "IPv4Address": "10.9.0.4", "Name": "other"}]}))
    t = Table(p)
    assert t.lookup("database", "10.9.0.3") == ["10.9.0.2"]
    assert t.lookup("database", "10.9.0.4") is None and t.lookup("database") is None
    assert t.lookup("db", "10.9.0.4") == ["10.9.0.2"]
