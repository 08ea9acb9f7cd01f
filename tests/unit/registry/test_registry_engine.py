"""Engine helpers for the registry use cases: server names, unqualified-search candidates, login through a
fake registry (credentials stored only when accepted)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fake_registry import FakeRegistry

from skiff.engine.registry import (
    LoginOptions,
    LogoutOptions,
    RegistryOptions,
    _candidates,
    login,
    logout,
    normalize_server,
)
from skiff.errors import InvalidArgumentError
from skiff.oci import reference
from skiff.registry.errors import RegistryAuthError


def test_normalize_server() -> None:
    assert normalize_server(None) == "docker.io"
    assert normalize_server("https://index.docker.io/v1/") == "docker.io"
    assert normalize_server("http://127.0.0.1:5000/") == "127.0.0.1:5000"
    with pytest.raises(InvalidArgumentError):
        normalize_server("host/with/path")


def test_unqualified_search_candidates() -> None:
    ref = reference.parse("busybox")
    search = ("127.0.0.1:5000", "docker.io")
    assert [str(c) for c in _candidates("busybox", ref, search)] == [
        "127.0.0.1:5000/busybox:latest", "docker.io/library/busybox:latest"]
    assert _candidates("busybox", ref, ("docker.io",)) == [ref]
    q = reference.parse("quay.io/a/b")
    assert _candidates("quay.io/a/b", q, search) == [q]


def test_login_stores_only_accepted_credentials(tmp_path: Path) -> None:
    reg = FakeRegistry(auth="basic", users={"u": "right"})
    env = {"REGISTRY_AUTH_FILE": str(tmp_path / "auth.json"), "SKIFF_REGISTRIES_CONF": str(tmp_path / "r.toml")}
    (tmp_path / "r.toml").write_text("")
    opts = RegistryOptions(env=env, transport=reg.transport())
    with pytest.raises(RegistryAuthError) as e:
        login(tmp_path, LoginOptions("reg.test", "u", "wrong", opts))
    assert "wrong" not in str(e.value) and not (tmp_path / "auth.json").exists()
    rep = login(tmp_path, LoginOptions("reg.test", "u", "right", opts))
    assert rep.authfile == str(tmp_path / "auth.json")
    assert list(json.loads((tmp_path / "auth.json").read_text())["auths"]) == ["reg.test"]
    assert logout(LogoutOptions("reg.test", registry=opts)).removed == ["reg.test"]
    assert logout(LogoutOptions("reg.test", registry=opts)).not_logged_in == ["reg.test"]
