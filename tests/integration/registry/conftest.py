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


@pytest.fixture
def skiff_at(auth_env: dict[str, str]):  # type: ignore[no-untyped-def]
    """Run the real CLI on any store: skiff_at(root, *args, input=..., check=True)."""
    import os
    import shutil
    import subprocess

    exe = shutil.which("skiff", path=str(Path(sys.executable).parent)) or "skiff"

    def _run(root: Path, *args: str, check: bool = True, input: bytes | None = None,
             env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[bytes]:
        full = dict(os.environ, **auth_env, **(env or {}))
        cp = subprocess.run([exe, "--root", str(root / "root"), "--runroot", str(root / "run"), *args],
                            capture_output=True, input=input, env=full, timeout=timeout)
        if check and cp.returncode != 0:
            raise AssertionError(f"skiff {' '.join(args)} exited {cp.returncode}:\n{cp.stderr.decode()}")
        return cp

    return _run


@pytest.fixture(scope="session")
def busybox_image(busybox_rootfs: Path):  # type: ignore[no-untyped-def]
    """A two-layer busybox image (BuiltImage) built from the session's busybox rootfs."""
    from images import files_tar, layer_tar, make_image

    return make_image([layer_tar(busybox_rootfs), files_tar({"etc/motd": b"pulled by skiff\n"})],
                      cmd=["/bin/echo", "hello from busybox"])


@pytest.fixture
def proxy(registry: RegistryServer) -> Iterator[object]:
    from faulty_proxy import FaultyProxy

    p = FaultyProxy(registry.host).start()
    try:
        yield p
    finally:
        p.stop()
