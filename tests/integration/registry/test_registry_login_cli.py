"""skiff login / logout / manifest inspect through the real CLI, against real registries."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pki import USERS, TokenServer
from registry_ports import closed_port
from registry_server import RegistryServer


def _conf(env: dict[str, str], text: str) -> None:
    Path(env["SKIFF_REGISTRIES_CONF"]).write_text(text)


def test_login_tls_htpasswd(skiff: Any, tls_registry: RegistryServer, auth_env: dict[str, str]) -> None:
    _conf(auth_env, f'[[registry]]\nlocation = "{tls_registry.host}"\nca-file = "{tls_registry.ca_file}"\n')
    pw = USERS["alice"]
    bad = skiff("login", "-u", "alice", "--password-stdin", tls_registry.host, input=b"not-it\n", check=False,
                env=auth_env)
    assert bad.returncode == 1
    err = bad.stderr.decode()
    assert len(err.strip().splitlines()) == 1 and "alice" in err and "not-it" not in err + bad.stdout.decode()
    assert not Path(auth_env["REGISTRY_AUTH_FILE"]).exists()
    ok = skiff("login", "-u", "alice", "--password-stdin", tls_registry.host, input=pw.encode() + b"\n",
               env=auth_env)
    assert ok.stdout.decode().strip() == "Login Succeeded!" and pw not in ok.stdout.decode() + ok.stderr.decode()
    data = json.loads(Path(auth_env["REGISTRY_AUTH_FILE"]).read_text())
    assert list(data["auths"]) == [tls_registry.host]
    # The stored credentials serve the next command: an unknown manifest is a 404, not a 401.
    miss = skiff("manifest", "inspect", f"{tls_registry.host}/nope:1", check=False, env=auth_env)
    assert miss.returncode == 1 and "not found" in miss.stderr.decode(), miss.stderr
    out = skiff("logout", tls_registry.host, env=auth_env)
    assert f"Removed login credentials for {tls_registry.host}" in out.stdout.decode()
    assert json.loads(Path(auth_env["REGISTRY_AUTH_FILE"]).read_text())["auths"] == {}
    denied = skiff("manifest", "inspect", f"{tls_registry.host}/nope:1", check=False, env=auth_env)
    assert denied.returncode == 1 and "authentication required" in denied.stderr.decode()
    # No CA: the certificate is refused; --tls-verify=false accepts it.
    _conf(auth_env, "")
    refused = skiff("login", "-u", "alice", "--password-stdin", tls_registry.host, input=pw.encode(),
                    check=False, env=auth_env)
    assert refused.returncode == 1 and "certificate" in refused.stderr.decode()
    skiff("login", "--tls-verify=false", "-u", "alice", "--password-stdin", tls_registry.host,
          input=pw.encode(), env=auth_env)


def test_login_token_registry(skiff: Any, token_registry: tuple[RegistryServer, TokenServer],
                              auth_env: dict[str, str]) -> None:
    srv, tok = token_registry
    bad = skiff("login", "-u", "alice", "--password-stdin", srv.host, input=b"x", check=False, env=auth_env)
    assert bad.returncode == 1 and "refused the credentials" in bad.stderr.decode()
    skiff("login", "-u", "alice", "--password-stdin", srv.host, input=USERS["alice"].encode(), env=auth_env)
    assert tok.requests[-1].get("account") == ["alice"]


def test_unreachable_and_bad_names(skiff: Any, auth_env: dict[str, str]) -> None:
    port = closed_port()
    r = skiff("manifest", "inspect", f"127.0.0.1:{port}/x:1", check=False, env=auth_env)
    err = r.stderr.decode().strip()
    assert r.returncode == 1 and len(err.splitlines()) == 1
    assert f"127.0.0.1:{port}/x:1" in err and "connection refused" in err
    r = skiff("manifest", "inspect", "127.0.0.1:5000/Bad_Name!", check=False, env=auth_env)
    assert r.returncode == 1 and "invalid reference format" in r.stderr.decode()
    r = skiff("logout", "127.0.0.1:1", env=auth_env)
    assert "Not logged in to 127.0.0.1:1" in r.stdout.decode()


def test_token_registry_push_and_anonymous_pull(skiff_at: Any, registry: RegistryServer,
                                                token_registry: tuple[RegistryServer, TokenServer],
                                                busybox_image: Any, tmp_path: Path) -> None:
    from images import push_raw

    from skiff.oci import reference
    from skiff.registry.auth import AuthStore
    from skiff.registry.client import RegistryClient
    from skiff.registry.config import RegistriesConfig

    srv, tok = token_registry
    src = f"{registry.host}/bb/busybox:1"
    with RegistryClient(RegistriesConfig(), AuthStore(tmp_path / "fixture.json")) as c:
        push_raw(c, reference.parse(src), busybox_image)
    skiff_at(tmp_path / "a", "pull", "-q", src)
    dst = f"{srv.host}/team/busybox:1"
    denied = skiff_at(tmp_path / "a", "push", "-q", src, dst, check=False)
    assert denied.returncode == 1 and dst in denied.stderr.decode()
    skiff_at(tmp_path / "a", "login", "-u", "alice", "--password-stdin", srv.host, input=USERS["alice"].encode())
    skiff_at(tmp_path / "a", "push", "-q", src, dst)
    skiff_at(tmp_path / "a", "logout", srv.host)
    out = skiff_at(tmp_path / "b", "pull", dst).stdout.decode()
    assert f"Digest: {busybox_image.digest}" in out
    assert any("repository:team/busybox:pull,push" in q.get("scope", []) for q in tok.requests)
