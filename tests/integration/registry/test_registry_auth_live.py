"""The client against a real docker-registry: htpasswd+TLS with a test CA, and the token flow."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pki import USERS, TokenServer
from registry_server import RegistryServer

from skiff.oci import reference
from skiff.oci.image import MT_OCI_CONFIG, MT_OCI_LAYER, MT_OCI_MANIFEST, Manifest, descriptor_for, encode
from skiff.registry.auth import AuthStore, Credentials
from skiff.registry.client import RegistryClient
from skiff.registry.config import RegistriesConfig
from skiff.registry.errors import RegistryAuthError, RegistryUnreachableError
from skiff.registry.session import RetryPolicy

FAST = RetryPolicy(attempts=2, backoff=0.05)


def _push_small(c: RegistryClient, ref: reference.Reference) -> str:
    cfg = b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'
    layer = b"hello" * 1000
    cd, ld = descriptor_for(cfg, MT_OCI_CONFIG), descriptor_for(layer, MT_OCI_LAYER)
    for d, data in ((cd, cfg), (ld, layer)):
        if not c.blob_exists(ref, d.digest):
            c.push_blob(ref, d, io.BytesIO(data))
    return str(c.put_manifest(ref, encode(Manifest(config=cd, layers=[ld])), MT_OCI_MANIFEST))


def test_tls_with_test_ca_and_htpasswd(tls_registry: RegistryServer, tmp_path: Path) -> None:
    conf = RegistriesConfig.from_mapping({"registry": [{"location": tls_registry.host,
                                                        "ca-file": str(tls_registry.ca_file)}]})
    auth = AuthStore(tmp_path / "auth.json")
    ref = reference.parse(f"{tls_registry.host}/team/app:1")
    with RegistryClient(conf, auth, retry=FAST) as c:
        with pytest.raises(RegistryAuthError, match="authentication required"):
            c.resolve(ref)
        with pytest.raises(RegistryAuthError) as e:
            c.login(tls_registry.host, Credentials("alice", "wrong-pass"))
        assert "wrong-pass" not in str(e.value)
    with RegistryClient(conf, auth, retry=FAST) as c:
        c.login(tls_registry.host, Credentials("alice", USERS["alice"]))
        auth.set(tls_registry.host, Credentials("alice", USERS["alice"]))
    with RegistryClient(conf, auth, retry=FAST) as c:
        d = _push_small(c, ref)
        assert str(c.resolve(ref).digest) == d
    # Without the CA the certificate is refused; with --tls-verify=false it is not checked.
    with RegistryClient(RegistriesConfig(), auth, retry=FAST) as c, \
            pytest.raises(RegistryUnreachableError, match="certificate"):
        c.resolve(ref)
    with RegistryClient(RegistriesConfig().with_tls_verify(False), auth, retry=FAST) as c:
        assert str(c.resolve(ref).digest) == d


def test_token_flow(token_registry: tuple[RegistryServer, TokenServer], tmp_path: Path) -> None:
    srv, tok = token_registry
    auth = AuthStore(tmp_path / "auth.json")
    ref = reference.parse(f"{srv.host}/team/app:1")
    with RegistryClient(RegistriesConfig(), auth, retry=FAST) as c, pytest.raises(RegistryAuthError):
        _push_small(c, ref)  # anonymous: pull only
    with RegistryClient(RegistriesConfig(), auth, retry=FAST) as c, pytest.raises(RegistryAuthError):
        c.login(srv.host, Credentials("alice", "nope"))
    auth.set(srv.host, Credentials("alice", USERS["alice"]))
    with RegistryClient(RegistriesConfig(), auth, retry=FAST) as c:
        d = _push_small(c, ref)
    n = len(tok.requests)
    assert any("repository:team/app:pull,push" in q.get("scope", []) for q in tok.requests)
    (tmp_path / "auth.json").unlink()
    with RegistryClient(RegistriesConfig(), AuthStore(tmp_path / "auth.json"), retry=FAST) as c:
        r = c.resolve(ref)  # anonymous pull
        assert str(r.digest) == d
    assert len(tok.requests) == n + 1  # one token for the pull scope, reused
