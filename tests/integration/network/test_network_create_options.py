"""`skiff network create` options beyond subnet and gateway (--ip-range, --aux-address, -o bridge options,
--ipam-*, --attachable, --scope, --config-only/--config-from, --ingress, --ipv4/--ipv6), `network prune
--filter` and `network connect --link/--driver-opt/--link-local-ip/--ip6`, through the real CLI on the
test's own store, bridge prefix and nft table. Traffic goes only between the test's containers and bridges."""

from __future__ import annotations

import contextlib
import datetime
import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from netns_helpers import tagged_network_env  # type: ignore[import-not-found]


@pytest.fixture
def net_env(skiff, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The tag used as bridge prefix, table name and the start of every bridge name a test picks."""
    with tagged_network_env(skiff, monkeypatch, "sko", containers=True) as tag:
        yield tag


def out(cp: subprocess.CompletedProcess[bytes]) -> str:
    return cp.stdout.decode()


def fails(skiff, *args: str) -> str:  # type: ignore[no-untyped-def]
    """The one error line of a command that must fail with exit 1."""
    cp = skiff(*args, check=False)
    lines = cp.stderr.decode().strip().splitlines()
    assert cp.returncode == 1 and len(lines) == 1, (args, cp.returncode, lines)
    return lines[0]


def inspect(skiff, name: str) -> dict:  # type: ignore[no-untyped-def,type-arg]
    return json.loads(out(skiff("network", "inspect", name)))[0]  # type: ignore[no-any-return]


def test_create_options_in_inspect_and_docker_errors(skiff, net_env: str) -> None:  # type: ignore[no-untyped-def]
    br = net_env + "br"
    nid = out(skiff("network", "create", "--subnet", "10.231.60.0/24", "--gateway", "10.231.60.1",
                    "--ip-range", "10.231.60.128/28", "--aux-address", "router=10.231.60.130",
                    "--aux-address", "printer=10.231.60.131", "-o", f"com.docker.network.bridge.name={br}",
                    "-o", "com.docker.network.driver.mtu=1400", "--opt", "custom.key=v", "--ipam-driver", "default",
                    "--ipam-opt", "foo=bar", "--attachable", "--scope", "local", "--ipv4", "--ipv6=false",
                    "--label", "x=y", "full")).strip()
    net = inspect(skiff, "full")
    assert net["Id"] == nid and net["Scope"] == "local" and net["Driver"] == "bridge"
    assert net["EnableIPv4"] is True and net["EnableIPv6"] is False
    assert net["IPAM"] == {"Driver": "default", "Options": {"foo": "bar"}, "Config": [
        {"Subnet": "10.231.60.0/24", "IPRange": "10.231.60.128/28", "Gateway": "10.231.60.1",
         "AuxiliaryAddresses": {"router": "10.231.60.130", "printer": "10.231.60.131"}}]}
    assert net["Options"] == {"com.docker.network.bridge.name": br, "com.docker.network.driver.mtu": "1400",
                              "custom.key": "v"}
    assert net["Attachable"] is True and net["Ingress"] is False and net["ConfigOnly"] is False
    assert net["ConfigFrom"] == {"Network": ""} and net["Labels"] == {"x": "y"}
    assert list(net) == ["Name", "Id", "Created", "Scope", "Driver", "EnableIPv4", "EnableIPv6", "IPAM",
                         "Internal", "Attachable", "Ingress", "ConfigFrom", "ConfigOnly", "Containers", "Options",
                         "Labels"]
    plain = inspect(skiff, out(skiff("network", "create", "--subnet", "10.231.61.0/24", "plain")).strip())
    assert plain["IPAM"]["Config"] == [{"Subnet": "10.231.61.0/24", "Gateway": "10.231.61.1"}]
    assert plain["IPAM"]["Options"] is None and plain["Attachable"] is False

    mtu = "com.docker.network.driver.mtu"
    icc = "com.docker.network.bridge.enable_icc"
    for args, err in [
        (("--ip-range", "10.231.62.0/28"), "every ip-range or gateway must have a corresponding subnet"),
        (("--subnet", "10.231.62.0/24", "--ip-range", "10.231.63.0/28"), "no matching subnet for range "
                                                                           "10.231.63.0/28"),
        (("--subnet", "10.231.62.0/24", "--ip-range", "bad"), 'invalid argument "bad" for "--ip-range" flag'),
        (("--subnet", "10.231.62.0/24", "--aux-address", "a=10.231.63.5"), "no matching subnet for aux-address "
                                                                            "10.231.63.5"),
        (("--subnet", "10.231.62.0/24", "--aux-address", "a=nope"), 'ParseAddr("nope"): unable to parse IP'),
        (("--aux-address", "a=10.231.62.5"), "no matching subnet for aux-address 10.231.62.5"),
        (("--ipam-driver", "other"), 'plugin "other" not found'),
        (("--scope", "swarm"), "cannot create a swarm scoped network when swarm is not active"),
        (("--scope", "global"), "--scope global"),
        (("--ingress",), "Ingress network can only be global scope network"),
        (("--ipv6",), "--ipv6: skiff's networks are IPv4 only"),
        (("--ipv4=false",), "IPv4 or IPv6 must be enabled"),
        (("-o", f"{mtu}=big"), f'failed to parse {mtu} value: big (strconv.Atoi: parsing "big": invalid syntax)'),
        (("-o", f"{mtu}=-5"), "invalid MTU number: -5"),
        (("-o", f"{icc}=maybe"), f'failed to parse {icc} value: maybe (strconv.ParseBool: parsing "maybe": '
                                 "invalid syntax)"),
        (("-o", "com.docker.network.bridge.host_binding_ipv4=nope"), "(nil ip)"),
        (("-o", f"com.docker.network.bridge.name={br}"), "networks have same bridge name"),
        (("-o", "com.docker.network.bridge.name=lo"), "the host has an interface named lo"),
        (("--config-from", "nosuch"), 'configuration network "nosuch" does not exist'),
        (("--config-from", "full"), 'configuration network "full" does not exist'),
        (("--config-only", "--internal"), "configuration network can only contain network specific fields"),
        (("--config-only", "--config-from", "x"), "a configuration network cannot depend on another configuration "
                                                  "network"),
    ]:
        assert err in fails(skiff, "network", "create", *args, "bad"), args
    assert "bad" not in out(skiff("network", "ls", "--format", "{{.Name}}")).split()


def test_config_only_and_config_from(skiff, net_env: str, busybox_image: str) -> None:  # type: ignore[no-untyped-def]
    """A config-only network holds settings, takes no subnet and cannot be attached to; --config-from
    makes a network with them; the config network stays while one made from it exists."""
    cid = out(skiff("network", "create", "--config-only", "--subnet", "10.231.64.0/24", "--ip-range",
                    "10.231.64.32/29", "--aux-address", "r=10.231.64.33", "-o",
                    "com.docker.network.driver.mtu=1380", "--label", "from=cfg", "cfg")).strip()
    cfg = inspect(skiff, "cfg")
    assert cfg["Id"] == cid and cfg["ConfigOnly"] is True and cfg["Driver"] == "null"
    assert cfg["Options"] == {"com.docker.network.driver.mtu": "1380"}
    assert cfg["IPAM"]["Config"] == [{"Subnet": "10.231.64.0/24", "IPRange": "10.231.64.32/29",
                                      "AuxiliaryAddresses": {"r": "10.231.64.33"}}]
    rows = out(skiff("network", "ls", "--format", "{{.Name}} {{.Driver}}")).splitlines()
    assert "cfg null" in rows
    # no subnet is taken by a config-only network: another network may use it
    skiff("network", "create", "--config-only", "--subnet", "10.231.64.0/24", "cfg2")
    skiff("network", "create", "--config-from", "cfg", "made")
    made = inspect(skiff, "made")
    assert made["ConfigFrom"] == {"Network": "cfg"} and made["ConfigOnly"] is False and made["Driver"] == "bridge"
    assert made["IPAM"]["Config"] == [{"Subnet": "10.231.64.0/24", "IPRange": "10.231.64.32/29",
                                       "Gateway": "10.231.64.1", "AuxiliaryAddresses": {"r": "10.231.64.33"}}]
    assert made["Options"]["com.docker.network.driver.mtu"] == "1380" and made["Labels"] == {"from": "cfg"}
    for args, err in [(("--config-from", "cfg", "--subnet", "10.231.65.0/24"), "user specified configurations "
                                                                                 "are not supported"),
                      (("--config-from", "cfg", "-o", "a=b"), "network driver options are not supported if the "
                                                              "network depends on a configuration network")]:
        assert err in fails(skiff, "network", "create", *args, "bad"), args
    c = out(skiff("run", "-d", "--name", "m1", "--network", "made", busybox_image, "sleep", "600")).strip()
    shown = out(skiff("exec", c, "sh", "-c", "ip -o -4 addr show eth0; cat /sys/class/net/eth0/mtu"))
    assert "10.231.64.32/24" in shown and "1380" in shown.split(), shown  # the range's first, the MTU of cfg
    err = fails(skiff, "network", "connect", "cfg", "m1")
    assert err.endswith("cannot attach to configuration-only network cfg"), err
    assert fails(skiff, "network", "rm", "cfg") == 'Error: configuration network "cfg" is in use'
    skiff("rm", "-f", c)
    assert out(skiff("network", "prune", "-f")).split() == ["Deleted", "Networks:", "made", "cfg", "cfg2"]


def _ips(skiff, name: str, network: str) -> str:  # type: ignore[no-untyped-def]
    return json.loads(out(skiff("inspect", name)))[0]["NetworkSettings"]["Networks"][network]["IPAddress"]  # type: ignore[no-any-return]


def test_ip_range_aux_bridge_name_and_mtu(skiff, net_env: str, busybox_image: str) -> None:  # type: ignore[no-untyped-def]
    """Addresses come from the range only, never an --aux-address; the bridge has the name and MTU asked
    for, and so has the container's end of its veth."""
    br = net_env + "r"
    skiff("network", "create", "--subnet", "10.231.66.0/24", "--ip-range", "10.231.66.8/30", "--aux-address",
          "host1=10.231.66.9", "-o", f"com.docker.network.bridge.name={br}", "-o",
          "com.docker.network.driver.mtu=1300", "ranged")
    got = []
    for n in ("r1", "r2", "r3"):
        skiff("run", "-d", "--name", n, "--network", "ranged", busybox_image, "sleep", "600")
        got.append(_ips(skiff, n, "ranged"))
    assert got == ["10.231.66.8", "10.231.66.10", "10.231.66.11"]  # .9 is reserved
    cp = skiff("run", "-d", "--name", "r4", "--network", "ranged", busybox_image, "sleep", "600", check=False)
    assert cp.returncode == 125 and "no free address left in network ranged (10.231.66.8/30)" in cp.stderr.decode()
    cp = skiff("run", "-d", "--network", "ranged", "--ip", "10.231.66.9", busybox_image, "true", check=False)
    assert cp.returncode == 125 and "10.231.66.9 is already in use" in cp.stderr.decode()
    assert Path(f"/sys/class/net/{br}/bridge").is_dir()
    assert Path(f"/sys/class/net/{br}/mtu").read_text().strip() == "1300"
    assert out(skiff("exec", "r1", "cat", "/sys/class/net/eth0/mtu")).strip() == "1300"
    assert inspect(skiff, "ranged")["Options"]["com.docker.network.bridge.name"] == br
    skiff("rm", "-f", "r1", "r2", "r3")
    skiff("network", "rm", "ranged")
    assert not Path(f"/sys/class/net/{br}").exists()


def _ping(skiff, ctr: str, ip: str) -> bool:  # type: ignore[no-untyped-def]
    return skiff("exec", ctr, "ping", "-c", "1", "-W", "2", ip, check=False).returncode == 0


def test_enable_icc_false_isolates_containers(skiff, net_env: str, busybox_image: str) -> None:  # type: ignore[no-untyped-def]
    skiff("network", "create", "--subnet", "10.231.67.0/24", "open")
    skiff("network", "create", "--subnet", "10.231.68.0/24", "-o", "com.docker.network.bridge.enable_icc=false",
          "closed")
    for n, net in (("o1", "open"), ("o2", "open"), ("c1", "closed"), ("c2", "closed")):
        skiff("run", "-d", "--name", n, "--network", net, busybox_image, "sleep", "600")
    assert _ping(skiff, "o1", _ips(skiff, "o2", "open"))
    assert not _ping(skiff, "c1", _ips(skiff, "c2", "closed"))
    assert _ping(skiff, "c1", "10.231.68.1")  # the gateway (the host) stays reachable


def test_masquerade_false_and_host_binding_ipv4(skiff, net_env: str, busybox_image: str) -> None:  # type: ignore[no-untyped-def]
    skiff("network", "create", "--subnet", "10.231.69.0/24", "-o",
          "com.docker.network.bridge.enable_ip_masquerade=false", "-o",
          "com.docker.network.bridge.host_binding_ipv4=127.0.0.1", "nomasq")
    skiff("network", "create", "--subnet", "10.231.70.0/24", "masq")
    skiff("run", "-d", "--name", "p1", "--network", "nomasq", "-p", "18791:80", busybox_image,
          "sh", "-c", "echo hi | nc -l -p 80")
    skiff("run", "-d", "--name", "p2", "--network", "masq", busybox_image, "sleep", "600")
    table = subprocess.run(["nft", "list", "table", "inet", net_env], capture_output=True, text=True).stdout
    assert "ip saddr 10.231.70.0/24 oifname" in table and "masquerade" in table
    assert "ip saddr 10.231.69.0/24 oifname" not in table
    assert out(skiff("port", "p1")).split() == ["80/tcp", "->", "127.0.0.1:18791"]
    ports = json.loads(out(skiff("inspect", "p1")))[0]["NetworkSettings"]["Ports"]
    assert ports["80/tcp"] == [{"HostIp": "127.0.0.1", "HostPort": "18791"}]
    got = b""
    for _ in range(50):  # the listener may not be up yet
        with contextlib.suppress(OSError):
            import socket

            with socket.create_connection(("127.0.0.1", 18791), timeout=2) as s:
                got = s.recv(16)
            if got:
                break
        time.sleep(0.1)
    assert got == b"hi\n"


def test_prune_filters(skiff, net_env: str) -> None:  # type: ignore[no-untyped-def]
    skiff("network", "create", "--label", "keep", "--label", "team=a", "old1")
    skiff("network", "create", "--label", "team=b", "old2")
    time.sleep(1.1)
    cut = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    time.sleep(0.1)
    skiff("network", "create", "--label", "team=a", "new1")
    for args, err in [(("colour=red",), "invalid filter 'colour'"),
                      (("until=soon",), "until"),
                      (("label",), "bad format of filter (expected name=value): label")]:
        assert err in fails(skiff, "network", "prune", "-f", *(a for v in args for a in ("--filter", v))), args
    assert out(skiff("network", "prune", "-f", "--filter", "until=1h")) == ""  # all younger than an hour
    assert out(skiff("network", "prune", "-f", "--filter", "label=team=a", "--filter", "label!=keep")).split() \
        == ["Deleted", "Networks:", "new1"]
    assert out(skiff("network", "prune", "-f", "--filter", f"until={cut}")).split() == \
        ["Deleted", "Networks:", "old1", "old2"]
    assert out(skiff("network", "ls", "--format", "{{.Name}}")).split() == ["bridge", "host", "none"]


def test_connect_link_driver_opt_link_local(skiff, net_env: str, busybox_image: str) -> None:  # type: ignore[no-untyped-def]
    """connect --link NAME:ALIAS: the alias resolves, through the network's DNS, to NAME's address for the
    connected container; --driver-opt and --link-local-ip are kept on its endpoint."""
    skiff("network", "create", "--subnet", "10.231.71.0/24", "ln")
    skiff("run", "-d", "--name", "db1", "--network", "ln", busybox_image, "sleep", "600")
    # app's resolv.conf names ln's DNS (written at its start); it leaves ln and comes back with the link
    skiff("run", "-d", "--name", "app", "--network", "ln", busybox_image, "sleep", "600")
    skiff("network", "disconnect", "ln", "app")
    for args, err in [(("--ip6", "2001:db8::5"), "--ip6 2001:db8::5: skiff's networks are IPv4 only"),
                      (("--link", "nosuch:x"), "could not get container for nosuch"),
                      (("--link-local-ip", "10.0.0.1"), "invalid link-local IP address 10.0.0.1"),
                      (("--link-local-ip", "fe80::1"), "skiff's networks are IPv4 only")]:
        assert err in fails(skiff, "network", "connect", *args, "ln", "app"), args
    assert fails(skiff, "network", "connect", "--link", "db1:x", "bridge", "app") == \
        "Error: links are only supported for user-defined networks"
    skiff("network", "connect", "--link", "db1:database", "--driver-opt", "com.example.k=v",
          "--link-local-ip", "169.254.7.7", "ln", "app")
    ep = json.loads(out(skiff("inspect", "app")))[0]["NetworkSettings"]["Networks"]["ln"]
    assert ep["Links"] == ["db1:database"] and ep["DriverOpts"] == {"com.example.k": "v"}
    assert ep["IPAMConfig"]["LinkLocalIPs"] == ["169.254.7.7"]
    db_ip = _ips(skiff, "db1", "ln")
    shown = out(skiff("exec", "app", "sh", "-c", "ping -c1 -W3 database; ip -o -4 addr"))
    assert f"({db_ip})" in shown and "169.254.7.7/16" in shown, shown
