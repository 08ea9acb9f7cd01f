"""auth.json reading/writing, registries.toml, WWW-Authenticate parsing, platforms."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest

from skiff.oci import reference
from skiff.oci.image import Platform
from skiff.registry import challenge
from skiff.registry.auth import AuthStore, Credentials
from skiff.registry.config import RegistriesConfig
from skiff.registry.errors import RegistryConfigError, RegistryError
from skiff.registry.platforms import parse_platform


def test_auth_paths_from_env(tmp_path: Path) -> None:
    s = AuthStore.default({"REGISTRY_AUTH_FILE": str(tmp_path / "a.json"), "HOME": str(tmp_path)})
    assert s.path == tmp_path / "a.json"
    assert s.read_paths[-1] == tmp_path / ".docker" / "config.json"
    s = AuthStore.default({"XDG_RUNTIME_DIR": str(tmp_path / "xdg")})
    assert s.path == tmp_path / "xdg" / "containers" / "auth.json"
    s = AuthStore.default({"DOCKER_CONFIG": str(tmp_path / "dc")})
    assert s.path.name == "auth.json" and str(s.path).startswith("/run/containers/")
    assert s.read_paths[-1] == tmp_path / "dc" / "config.json"


def test_set_get_remove_file_mode(tmp_path: Path) -> None:
    s = AuthStore(tmp_path / "d" / "auth.json")
    s.set("localhost:5000", Credentials("u", "p:w"))
    data = json.loads(s.path.read_text())
    assert base64.b64decode(data["auths"]["localhost:5000"]["auth"]) == b"u:p:w"
    assert stat.S_IMODE(s.path.stat().st_mode) == 0o600
    got = s.get("localhost:5000")
    assert got is not None and (got.username, got.password) == ("u", "p:w")
    assert "p:w" not in repr(got) and "p:w" not in str(got)
    assert s.remove("localhost:5000") and s.get("localhost:5000") is None
    assert not s.remove("localhost:5000")


def test_docker_config_fallback_and_legacy_hub_key(tmp_path: Path) -> None:
    docker = tmp_path / "config.json"
    docker.write_text(json.dumps({"auths": {"https://index.docker.io/v1/": {
        "auth": base64.b64encode(b"hub:pw").decode()}, "reg.test/team": {"auth": base64.b64encode(b"t:1").decode()}}}))
    s = AuthStore(tmp_path / "auth.json", [tmp_path / "auth.json", docker])
    hub = s.get("docker.io")
    assert hub is not None and hub.username == "hub"
    team = s.get("reg.test", "team/app")
    assert team is not None and team.username == "t"
    assert s.get("reg.test", "other/app") is None


def test_bad_auth_file(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text("{nope")
    with pytest.raises(RegistryConfigError, match=r"a.json: not valid JSON"):
        AuthStore(tmp_path / "a.json").get("x")


def test_config_mirrors_and_prefix_rewrite(tmp_path: Path) -> None:
    (tmp_path / "registries.toml").write_text('''
unqualified-search-registries = ["docker.io"]
[[registry]]
prefix = "docker.io"
[[registry.mirror]]
location = "127.0.0.1:5000/hub"
insecure = true
[[registry]]
prefix = "example.com/team"
location = "127.0.0.1:6000/t"
insecure = true
[[registry]]
location = "bad.example"
blocked = true
''')
    cfg = RegistriesConfig.find(tmp_path, env={})
    eps = cfg.endpoints(reference.parse("python:3.11-slim"))
    assert [(e.host, e.path, e.insecure, e.mirror) for e in eps] == [
        ("127.0.0.1:5000", "hub/library/python", True, True), ("docker.io", "library/python", False, False)]
    assert eps[1].api_host == "registry-1.docker.io"
    assert [str(e) for e in cfg.endpoints(reference.parse("python"), pull=False)] == ["docker.io/library/python"]
    (e,) = cfg.endpoints(reference.parse("example.com/team/app/x:1"))
    assert (e.host, e.path, e.insecure) == ("127.0.0.1:6000", "t/app/x", True)
    (e,) = cfg.endpoints(reference.parse("example.com/teamx/app"))
    assert (e.host, e.insecure) == ("example.com", False)
    with pytest.raises(RegistryError, match="blocked"):
        cfg.endpoints(reference.parse("bad.example/x"))
    assert cfg.with_tls_verify(False).endpoints(reference.parse("example.com/a"))[0].insecure


@pytest.mark.parametrize(("text", "msg"), [
    ("[[registry]]\nprefix = 'x.io'\nfoo = 1\n", r"registry\[0\]: unknown key 'foo'"),
    ("[[registry]]\nlocation = 'x.io'\ninsecure = 'yes'\n", "insecure must be true or false"),
    ("[[registry]]\nlocation = 'x.io'\nca-file = '/nonexistent'\n", "ca-file"),
    ("nope = [", "registries.toml"),
])
def test_config_errors(tmp_path: Path, text: str, msg: str) -> None:
    p = tmp_path / "registries.toml"
    p.write_text(text)
    with pytest.raises(RegistryConfigError, match=msg):
        RegistriesConfig.load(p)


def test_config_env_override(tmp_path: Path) -> None:
    with pytest.raises(RegistryConfigError, match="SKIFF_REGISTRIES_CONF"):
        RegistriesConfig.find(tmp_path, env={"SKIFF_REGISTRIES_CONF": str(tmp_path / "none.toml")})


def test_challenge_parse() -> None:
    (c,) = challenge.parse('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
                           'scope="repository:library/busybox:pull,push"')
    assert c.scheme == "bearer" and c.realm == "https://auth.docker.io/token"
    assert c.params["scope"] == "repository:library/busybox:pull,push"
    cs = challenge.parse('Basic realm="a \\"q\\"", Bearer realm="r"')
    assert [x.scheme for x in cs] == ["basic", "bearer"] and cs[0].realm == 'a "q"'


def test_platform_parse() -> None:
    assert parse_platform("linux/arm64/v8") == Platform("arm64", "linux", variant="v8")
    assert parse_platform("arm64") == Platform("arm64", "linux")
    with pytest.raises(RegistryConfigError):
        parse_platform("a/b/c/d")
