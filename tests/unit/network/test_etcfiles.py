from __future__ import annotations

from pathlib import Path

import pytest

from skiff.errors import InvalidArgumentError
from skiff.network.etcfiles import host_resolvers, write_etc_files
from skiff.network.model import Attachment


def att(dns: str | None) -> Attachment:
    return Attachment(network="n", container_id="c" * 64, ip="10.89.0.5", gateway="10.89.0.1", prefixlen=24,
                      mac="02:42:0a:59:00:05", ifname="eth0", veth="v", dns_server=dns, aliases=["web", "w"])


def test_loopback_resolver_is_replaced(tmp_path: Path) -> None:
    rc = tmp_path / "resolv.conf"
    rc.write_text("nameserver 127.0.0.53\noptions edns0\nsearch example.org\n")
    got = host_resolvers(rc)
    assert "127.0.0.53" not in got.nameservers and got.nameservers
    assert got.search == ["example.org"] and got.options == ["edns0"]


def test_user_network_gets_embedded_dns(tmp_path: Path) -> None:
    rc = tmp_path / "host-resolv"
    rc.write_text("nameserver 10.0.0.53\n")
    out = write_etc_files(tmp_path / "etc", "web", [att("10.89.0.1")], extra_hosts=["db:10.1.2.3",
                          "gw:host-gateway"], host_resolv=rc)
    hosts = out["hosts"].read_text()
    assert "10.89.0.5\tweb w c" not in hosts and "10.89.0.5\tweb w" in hosts
    assert "10.1.2.3\tdb" in hosts and "10.89.0.1\tgw" in hosts and "127.0.0.1\tlocalhost" in hosts
    assert out["hostname"].read_text() == "web\n"
    resolv = out["resolv.conf"].read_text()
    assert resolv.startswith("nameserver 10.89.0.1\n") and "ndots:0" in resolv


def test_explicit_dns_and_search_win(tmp_path: Path) -> None:
    rc = tmp_path / "host-resolv"
    rc.write_text("nameserver 10.0.0.53\nsearch a.b\n")
    out = write_etc_files(tmp_path, "h", [att(None)], dns=["1.1.1.1"], dns_search=["x.y"],
                          dns_options=["timeout:1"], host_resolv=rc)
    assert out["resolv.conf"].read_text() == "nameserver 1.1.1.1\nsearch x.y\noptions timeout:1\n"
    out = write_etc_files(tmp_path, "h", [att(None)], host_resolv=rc)
    assert out["resolv.conf"].read_text() == "nameserver 10.0.0.53\nsearch a.b\n"


@pytest.mark.parametrize(("kw", "flag"), [({"dns": ["nope"]}, "--dns"), ({"extra_hosts": ["x"]}, "--add-host"),
                                          ({"extra_hosts": ["x:1.2.3"]}, "--add-host")])
def test_bad_flags(tmp_path: Path, kw: dict[str, list[str]], flag: str) -> None:
    with pytest.raises(InvalidArgumentError, match=flag):
        write_etc_files(tmp_path, "h", [], **kw)  # type: ignore[arg-type]
    assert not (tmp_path / "hosts").exists()
