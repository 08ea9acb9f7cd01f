"""Docker's value syntaxes for run/create: each bad value is one clear InvalidArgumentError."""

from __future__ import annotations

import pytest

from skiff.engine.containers_options import (
    merge_env,
    parse_bytes,
    parse_cpus,
    parse_env_line,
    parse_mount,
    parse_restart,
    parse_signal,
    parse_ulimit,
    parse_volume,
)
from skiff.errors import InvalidArgumentError


@pytest.mark.parametrize(("text", "value"), [("512m", 512 << 20), ("1g", 1 << 30), ("100", 100), ("1.5k", 1536),
                                             ("64MB", 64 << 20), ("2 g", 2 << 30)])
def test_bytes(text: str, value: int) -> None:
    assert parse_bytes(text, "--memory") == value


@pytest.mark.parametrize("text", ["lots", "-1m", "1x", ""])
def test_bad_bytes(text: str) -> None:
    with pytest.raises(InvalidArgumentError, match='for "--memory" flag'):
        parse_bytes(text, "--memory")


def test_volume_forms() -> None:
    b = parse_volume("/host:/c:ro,rshared")
    assert (b.type, b.source, b.target, b.read_only, b.propagation) == ("bind", "/host", "/c", True, "rshared")
    v = parse_volume("data:/d")
    assert (v.type, v.source, v.target, v.read_only) == ("volume", "data", "/d", False)
    a = parse_volume("/anon")
    assert (a.type, a.source, a.target) == ("volume", "", "/anon")
    assert parse_volume("/anon:ro").read_only


@pytest.mark.parametrize("spec", ["", "a:b:c:d", "/x:rel", "/a:/b:zz", "bad name!:/x", "vol:/x:rshared", "/h:/",
                                  ":/x"])
def test_bad_volumes(spec: str) -> None:
    with pytest.raises(InvalidArgumentError, match="invalid volume specification"):
        parse_volume(spec)


def test_mount() -> None:
    m = parse_mount("type=bind,source=/s,target=/t,readonly,bind-propagation=rslave")
    assert (m.type, m.source, m.target, m.read_only, m.propagation) == ("bind", "/s", "/t", True, "rslave")
    t = parse_mount("type=tmpfs,target=/tmp,tmpfs-size=1m")
    assert t.options == ["size=1048576"]
    for bad in ("type=nfs,target=/x", "type=bind,source=rel,target=/x", "target=/x,bind-propagation=evil",
                "type=bind,source=/s,target=/t,bind-propagation=shared,foo=1", "type=volume,target=rel"):
        with pytest.raises(InvalidArgumentError, match='"--mount" flag'):
            parse_mount(bad)


def test_env() -> None:
    assert parse_env_line("A=1") == "A=1"
    assert parse_env_line("EMPTY=") == "EMPTY="
    with pytest.raises(InvalidArgumentError):
        parse_env_line("=x")
    assert merge_env(["PATH=/bin", "A=1"], ["A=2", "B=3"]) == ["PATH=/bin", "A=2", "B=3"]


def test_restart_ulimit_signal_cpus() -> None:
    assert parse_restart("on-failure:3").maximum_retry_count == 3
    assert parse_restart("unless-stopped").name == "unless-stopped"
    for bad in ("sometimes", "always:3", "on-failure:x"):
        with pytest.raises(InvalidArgumentError):
            parse_restart(bad)
    u = parse_ulimit("nofile=1024:2048")
    assert (u.name, u.soft, u.hard) == ("nofile", 1024, 2048)
    for bad in ("nofile", "bogus=1", "nofile=2:1", "nofile=x"):
        with pytest.raises(InvalidArgumentError):
            parse_ulimit(bad)
    assert parse_signal("SIGTERM") == 15 and parse_signal("kill") == 9 and parse_signal("10") == 10
    with pytest.raises(InvalidArgumentError):
        parse_signal("SIGNOPE")
    assert parse_cpus("1.5") == 1_500_000_000
    with pytest.raises(InvalidArgumentError):
        parse_cpus("-1")
