from __future__ import annotations

import socket

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skiff.errors import InvalidArgumentError
from skiff.network.model import PortMapping
from skiff.network.ports import expand_exposed, parse_publish, pick_port, port_is_free

GOOD = [
    ("80", [PortMapping(80)]),
    ("8080:80", [PortMapping(80, "tcp", "", 8080)]),
    ("127.0.0.1:8080:80", [PortMapping(80, "tcp", "127.0.0.1", 8080)]),
    ("127.0.0.1::80", [PortMapping(80, "tcp", "127.0.0.1", 0)]),
    ("53/udp", [PortMapping(53, "udp")]),
    ("5353:53/UDP", [PortMapping(53, "udp", "", 5353)]),
    ("8000-8001:80-81", [PortMapping(80, "tcp", "", 8000), PortMapping(81, "tcp", "", 8001)]),
    ("80-81", [PortMapping(80), PortMapping(81)]),
    ("9000-9010:80", [PortMapping(80, "tcp", "", 9000, 9010)]),
    ("0.0.0.0:1:65535/tcp", [PortMapping(65535, "tcp", "0.0.0.0", 1)]),
]

BAD = [
    ("", "no container port"),
    ("abc", "invalid container port"),
    ("0", "outside 1-65535"),
    ("65536", "outside 1-65535"),
    ("70000:80", "outside 1-65535"),
    ("80/sctp", "unsupported protocol"),
    ("80/xyz", "unsupported protocol"),
    ("1.2.3:80:80", "invalid IP address"),
    ("a:b:c:d", "too many colons"),
    ("8000-8002:80-81", "differ in size"),
    ("90-80", "invalid container port range"),
    ("8080:", "no container port"),
    ("[::1]:80:80", "IPv6"),
]


@pytest.mark.parametrize(("spec", "want"), GOOD)
def test_parse_publish(spec: str, want: list[PortMapping]) -> None:
    assert parse_publish(spec) == want


@pytest.mark.parametrize(("spec", "why"), BAD)
def test_parse_publish_rejects(spec: str, why: str) -> None:
    with pytest.raises(InvalidArgumentError) as ei:
        parse_publish(spec)
    msg = str(ei.value)
    assert why in msg and "\n" not in msg and repr(spec) in msg
    assert ei.value.exit_code == 125


def test_expand_exposed() -> None:
    got = expand_exposed({"80/tcp": {}, "53/udp": {}, "9000": {}, "132/sctp": {}})
    assert got == [PortMapping(53, "udp"), PortMapping(80, "tcp"), PortMapping(9000, "tcp")]
    with pytest.raises(InvalidArgumentError, match="exposed port"):
        expand_exposed(["99999/tcp"])


@pytest.mark.parametrize("proto", ["tcp", "udp"])
def test_port_is_free_sees_a_bound_port_and_holds_nothing(proto: str) -> None:
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        if proto == "tcp":
            s.listen()
        port = s.getsockname()[1]
        assert not port_is_free("127.0.0.1", port, proto)
        assert not port_is_free("", port, proto)
    assert port_is_free("127.0.0.1", port, proto)
    assert port_is_free("127.0.0.1", port, proto)  # the check itself left nothing bound


def test_pick_port_skips_taken() -> None:
    p = pick_port("127.0.0.1", "tcp", set())
    assert 1 <= p <= 65535
    q = pick_port("127.0.0.1", "tcp", {("tcp", p)}, p, p + 50)
    assert q != p and p < q <= p + 50


@given(st.text(alphabet="0123456789.:-/[]tcpudxa ", max_size=30))
def test_parse_publish_only_raises_user_errors(spec: str) -> None:
    try:
        got = parse_publish(spec)
    except InvalidArgumentError as e:
        assert "\n" not in str(e)
        return
    for p in got:
        assert 1 <= p.container_port <= 65535 and p.protocol in ("tcp", "udp")
        assert p.host_port == 0 or 1 <= p.host_port <= 65535
