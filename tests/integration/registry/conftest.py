"""Fixtures: real docker-registry processes on free loopback ports (plain, htpasswd+TLS, token auth)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from pki import USERS, TokenServer, make_htpasswd, make_tls
from registry_server import RegistryServer


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[RegistryServer]:
    srv = RegistryServer(tmp_path / "registry").start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def tls_registry(tmp_path: Path) -> Iterator[RegistryServer]:
    ca, cert, key = make_tls(tmp_path / "pki")
    srv = RegistryServer(tmp_path / "registry-tls", htpasswd=make_htpasswd(tmp_path / "htpasswd", USERS),
                         tls=(cert, key), ca_file=ca).start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def token_registry(tmp_path: Path) -> Iterator[tuple[RegistryServer, TokenServer]]:
    tok = TokenServer(tmp_path / "token", USERS).start()
    try:
        srv = RegistryServer(tmp_path / "registry-token", token=tok.registry_config()).start()
        try:
            yield srv, tok
        finally:
            srv.stop()
    finally:
        tok.stop()


@pytest.fixture
def auth_env(tmp_path: Path) -> dict[str, str]:
    """Points every credential and config path at the test's own files (never the user's)."""
    d = tmp_path / "authdir"
    d.mkdir()
    (d / "registries.toml").write_text("")
    return {"REGISTRY_AUTH_FILE": str(d / "auth.json"), "DOCKER_CONFIG": str(d / "docker"),
            "XDG_RUNTIME_DIR": str(d / "xdg"), "HOME": str(d / "home"),
            "SKIFF_REGISTRIES_CONF": str(d / "registries.toml")}
