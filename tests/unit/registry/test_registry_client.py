"""RegistryClient against an in-memory registry (httpx.MockTransport): auth, retries, resume, verification."""

from __future__ import annotations

import base64
import hashlib
import io
import json
from pathlib import Path

import pytest
from fake_registry import FakeRegistry, put_image

from skiff.errors import DigestMismatchError
from skiff.oci import reference
from skiff.oci.image import MT_OCI_INDEX, MT_OCI_LAYER, Platform, decode_manifest, descriptor_for
from skiff.registry.auth import AuthStore, Credentials
from skiff.registry.client import RegistryClient
from skiff.registry.config import RegistriesConfig
from skiff.registry.errors import (
    RegistryAuthError,
    RegistryError,
    RegistryNotFoundError,
    RegistryProtocolError,
)
from skiff.registry.session import RetryPolicy

FAST = RetryPolicy(attempts=3, backoff=0.0)


def client(reg: FakeRegistry, tmp_path: Path, creds: Credentials | None = None, **kw: object) -> RegistryClient:
    auth = AuthStore(tmp_path / "auth.json")
    if creds:
        auth.set(reg.host, creds)
    return RegistryClient(RegistriesConfig(), auth, transport=reg.transport(), retry=FAST, **kw)  # type: ignore[arg-type]


def ref(reg: FakeRegistry, name: str = "lib/app:1") -> reference.Reference:
    return reference.parse(f"{reg.host}/{name}")


def test_resolve_and_get_blob_anonymous_bearer(tmp_path: Path) -> None:
    reg = FakeRegistry(auth="bearer")
    d = put_image(reg, "lib/app", "1", [b"layer-one", b"layer-two"])
    with client(reg, tmp_path) as c:
        r = c.resolve(ref(reg))
        assert str(r.digest) == d
        m = decode_manifest(r.raw)
        out = io.BytesIO()
        c.get_blob(ref(reg), m.layers[1], out)
        assert out.getvalue() == b"layer-two"
        c.get_blob(ref(reg), m.layers[0], io.BytesIO())
    assert reg.token_requests == 1  # cached across requests for the same scope
    token_calls = [u for (_, u, _) in reg.log if "auth.test" in u]
    assert "scope=repository%3Alib%2Fapp%3Apull" in token_calls[0]
    assert "service=reg.test" in token_calls[0]


def test_bearer_with_credentials_and_refused(tmp_path: Path) -> None:
    reg = FakeRegistry(auth="bearer", users={"alice": "s3cret"})
    put_image(reg, "lib/app", "1", [b"x"])
    with client(reg, tmp_path, Credentials("alice", "s3cret")) as c:
        c.resolve(ref(reg))
    token_hdrs = [h for (_, u, h) in reg.log if "auth.test" in u]
    assert token_hdrs[0]["authorization"] == "Basic " + base64.b64encode(b"alice:s3cret").decode()
    with client(reg, tmp_path / "b", Credentials("alice", "wrong")) as c, \
            pytest.raises(RegistryAuthError) as e:
        c.resolve(ref(reg))
    assert "alice" in str(e.value) and "wrong" not in str(e.value) and "s3cret" not in str(e.value)


def test_token_refreshed_when_rejected(tmp_path: Path) -> None:
    reg = FakeRegistry(auth="bearer")
    put_image(reg, "lib/app", "1", [b"x"])
    with client(reg, tmp_path) as c:
        c.resolve(ref(reg))
        reg.auth = "basic"  # the token no longer works; a Basic challenge follows
        reg.users = {}
        with pytest.raises(RegistryAuthError, match="authentication required"):
            c.resolve(ref(reg))


def test_basic_auth(tmp_path: Path) -> None:
    reg = FakeRegistry(auth="basic", users={"bob": "pw"})
    put_image(reg, "lib/app", "1", [b"x"])
    with client(reg, tmp_path, Credentials("bob", "pw")) as c:
        assert c.resolve(ref(reg)).media_type.endswith("manifest.v1+json")
    with client(reg, tmp_path / "x", Credentials("bob", "nope")) as c, pytest.raises(RegistryAuthError) as e:
        c.resolve(ref(reg))
    assert "nope" not in str(e.value)


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_retries_then_succeeds(tmp_path: Path, status: int) -> None:
    reg = FakeRegistry()
    put_image(reg, "lib/app", "1", [b"x"])
    with client(reg, tmp_path) as c:
        reg.fail = [status, status]
        c.resolve(ref(reg))


@pytest.mark.parametrize(("status", "exc", "text"), [
    (500, RegistryError, "500"), (429, RegistryError, "too many requests (429) after 3 attempts"),
    (403, RegistryAuthError, "access denied"), (404, RegistryNotFoundError, "not found"),
])
def test_status_errors_name_the_reference(tmp_path: Path, status: int, exc: type, text: str) -> None:
    reg = FakeRegistry()
    with client(reg, tmp_path) as c:
        c.ping(reg.host)
        reg.fail = [status] * 5
        with pytest.raises(exc) as e:
            c.resolve(ref(reg))
    assert str(e.value).startswith("reg.test/lib/app:1: ") and text in str(e.value)


def test_manifest_unknown(tmp_path: Path) -> None:
    with client(FakeRegistry(), tmp_path) as c, pytest.raises(RegistryNotFoundError, match="manifest unknown"):
        c.resolve(reference.parse("reg.test/nope:1"))


def test_unknown_media_type(tmp_path: Path) -> None:
    reg = FakeRegistry()
    reg.manifests["lib/app:1"] = (b'{"foo": 1}', "application/x-weird")
    with client(reg, tmp_path) as c, pytest.raises(RegistryProtocolError, match="x-weird"):
        c.resolve(ref(reg))


def test_blob_digest_mismatch_and_truncation(tmp_path: Path) -> None:
    reg = FakeRegistry()
    put_image(reg, "lib/app", "1", [b"good-data", b"more-data"])
    with client(reg, tmp_path) as c:
        m = decode_manifest(c.resolve(ref(reg)).raw)
        reg.blob_override[m.layers[0].digest] = b"evil-data"
        with pytest.raises(DigestMismatchError, match="content has digest"):
            c.get_blob(ref(reg), m.layers[0], io.BytesIO())
        reg.blob_override[m.layers[1].digest] = b"more"
        with pytest.raises(DigestMismatchError, match="truncated"):
            c.get_blob(ref(reg), m.layers[1], io.BytesIO())


def test_broken_connection_resumes_with_range(tmp_path: Path) -> None:
    reg = FakeRegistry()
    data = bytes(range(256)) * 1000
    put_image(reg, "lib/app", "1", [data])
    reg.break_blob_at = 100_000
    with client(reg, tmp_path) as c:
        m = decode_manifest(c.resolve(ref(reg)).raw)
        out = io.BytesIO()
        seen: list[int] = []
        c.get_blob(ref(reg), m.layers[0], out, seen.append)
    assert out.getvalue() == data and sum(seen) == len(data)
    ranges = [h.get("range") for (_, u, h) in reg.log if m.layers[0].digest in u]
    assert ranges == [None, "bytes=100000-"]


def test_redirect_to_storage_drops_authorization(tmp_path: Path) -> None:
    reg = FakeRegistry(auth="bearer", redirect_blobs=True)
    put_image(reg, "lib/app", "1", [b"abc"])
    with client(reg, tmp_path) as c:
        m = decode_manifest(c.resolve(ref(reg)).raw)
        assert c.get_blob_bytes(ref(reg), m.layers[0]) == b"abc"
    storage = [h for (_, u, h) in reg.log if "storage.test" in u]
    assert storage and "authorization" not in storage[0]


def test_index_platform_selection(tmp_path: Path) -> None:
    reg = FakeRegistry()
    amd = put_image(reg, "lib/app", "amd", [b"a"], "amd64")
    arm = put_image(reg, "lib/app", "arm", [b"b"], "arm64")
    idx = {"schemaVersion": 2, "mediaType": MT_OCI_INDEX, "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": arm,
         "size": len(reg.manifests["lib/app:arm"][0]), "platform": {"os": "linux", "architecture": "arm64"}},
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": amd,
         "size": len(reg.manifests["lib/app:amd"][0]), "platform": {"os": "linux", "architecture": "amd64"}}]}
    raw = json.dumps(idx).encode()
    reg.manifests["lib/app:multi"] = (raw, MT_OCI_INDEX)
    with client(reg, tmp_path) as c:
        r = c.resolve(ref(reg, "lib/app:multi"), Platform(architecture="arm64", os="linux", variant="v8"))
        assert str(r.digest) == arm
        assert r.index is not None and r.index[2].value == "sha256:" + hashlib.sha256(raw).hexdigest()
        assert str(c.resolve(ref(reg, "lib/app:multi"), Platform("amd64", "linux")).digest) == amd
        with pytest.raises(RegistryNotFoundError, match=r"no image for platform linux/s390x.*linux/amd64"):
            c.resolve(ref(reg, "lib/app:multi"), Platform("s390x", "linux"))


def test_digest_reference_verified(tmp_path: Path) -> None:
    reg = FakeRegistry()
    d = put_image(reg, "lib/app", "1", [b"x"])
    bad = "sha256:" + "0" * 64
    reg.manifests[f"lib/app:{bad}"] = reg.manifests[f"lib/app:{d}"]
    with client(reg, tmp_path) as c:
        assert str(c.resolve(reference.parse(f"reg.test/lib/app@{d}")).digest) == d
        with pytest.raises(DigestMismatchError):
            c.resolve(reference.parse(f"reg.test/lib/app@{bad}"))


@pytest.mark.parametrize("chunk", [None, 4096])
def test_push_blob_monolithic_and_chunked(tmp_path: Path, chunk: int | None) -> None:
    reg = FakeRegistry(auth="bearer")
    data = b"z" * 10_000
    desc = descriptor_for(data, MT_OCI_LAYER)
    r = ref(reg)
    with client(reg, tmp_path, chunk_size=chunk) as c:
        assert not c.blob_exists(r, desc.digest)
        c.push_blob(r, desc, io.BytesIO(data))
        assert c.blob_exists(r, desc.digest)
        assert c.mount_blob(reference.parse("reg.test/other/x:1"), desc.digest, "lib/app")
    patches = [h for (m, _, h) in reg.log if m == "PATCH"]
    assert len(patches) == (3 if chunk else 0)
    if chunk:
        assert patches[1]["content-range"] == "4096-8191"
    assert reg.blobs[desc.digest] == data


def test_put_manifest_uses_media_type(tmp_path: Path) -> None:
    reg = FakeRegistry()
    raw = b'{"schemaVersion":2}'
    with client(reg, tmp_path) as c:
        d = c.put_manifest(ref(reg), raw, "application/vnd.docker.distribution.manifest.v2+json")
    assert reg.manifests["lib/app:1"] == (raw, "application/vnd.docker.distribution.manifest.v2+json")
    assert reg.manifests[f"lib/app:{d}"][0] == raw


def test_unreachable_host_one_line(tmp_path: Path) -> None:
    c = RegistryClient(RegistriesConfig(), AuthStore(tmp_path / "a.json"), retry=FAST)
    from registry_ports import closed_port

    with c, pytest.raises(RegistryError) as e:
        c.resolve(reference.parse(f"127.0.0.1:{closed_port()}/x:1"))
    assert "connection refused" in str(e.value) and "\n" not in str(e.value)


def test_resume_when_the_server_ignores_range(tmp_path: Path) -> None:
    reg = FakeRegistry(ignore_range=True)
    data = bytes(range(256)) * 1000
    put_image(reg, "lib/app", "1", [data])
    reg.break_blob_at = 50_000
    with client(reg, tmp_path) as c:
        m = decode_manifest(c.resolve(ref(reg)).raw)
        with c.open_blob(ref(reg), m.layers[0]) as r:
            got = b"".join(iter(lambda: r.read(7000), b""))
    assert got == data
