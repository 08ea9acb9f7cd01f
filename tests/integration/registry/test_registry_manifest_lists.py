"""skiff manifest create / annotate / inspect / push / rm through the real CLI against real docker-registry
processes (127.0.0.1 only): two single-platform busybox images (linux/amd64 and linux/arm64 by their configs'
architecture) made into a manifest list, pushed, read back from the registry and pulled by tag."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from images import BuiltImage, files_tar, layer_tar, make_image, push_raw
from pki import USERS, TokenServer
from registry_server import RegistryServer

from skiff.oci import reference
from skiff.registry.auth import AuthStore, Credentials
from skiff.registry.client import RegistryClient
from skiff.registry.config import RegistriesConfig
from skiff.registry.platforms import host_platform
from skiff.store.store import Store

MT_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
MT_INDEX = "application/vnd.oci.image.index.v1+json"
MT_DOCKER = "application/vnd.docker.distribution.manifest.v2+json"
MT_OCI = "application/vnd.oci.image.manifest.v1+json"


def _client(tmp_path: Path, auth: AuthStore | None = None) -> RegistryClient:
    return RegistryClient(RegistriesConfig(), auth or AuthStore(tmp_path / "fixture-auth.json"))


def _sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def platform_images(busybox_rootfs: Path) -> dict[str, BuiltImage]:
    """busybox twice, as Docker schema2 images whose configs say linux/amd64 and linux/arm64."""
    base = layer_tar(busybox_rootfs)
    return {arch: make_image([base, files_tar({"etc/arch": f"{arch}\n".encode()})], arch=arch, docker=True,
                             cmd=["/bin/cat", "/etc/arch"])
            for arch in ("amd64", "arm64")}


def _out(cp: Any) -> str:
    return str(cp.stdout.decode())


def _err(cp: Any) -> str:
    return str(cp.stderr.decode()).strip()


def test_create_annotate_inspect_push_pull(skiff_at: Any, registry: RegistryServer, tmp_path: Path,
                                           platform_images: dict[str, BuiltImage]) -> None:
    h = registry.host
    amd, arm = platform_images["amd64"], platform_images["arm64"]
    with _client(tmp_path) as c:
        push_raw(c, reference.parse(f"{h}/src/app:amd64"), amd)  # another repository: copied by the push
        push_raw(c, reference.parse(f"{h}/team/app:arm64"), arm)  # the list's own repository
    a = tmp_path / "a"
    lst = f"{h}/team/app:multi"
    out = skiff_at(a, "manifest", "create", lst, f"{h}/src/app:amd64", f"{h}/team/app:arm64")
    assert _out(out) == f"Created manifest list {lst}\n"
    folder = a / "root" / "manifests" / f"{h.replace(':', '%')}#team#app%multi"
    assert sorted(p.name for p in folder.iterdir()) == [f"{h.replace(':', '%')}#src#app%amd64.json",
                                                       f"{h.replace(':', '%')}#team#app%arm64.json"]
    stored = json.loads((folder / f"{h.replace(':', '%')}#src#app%amd64.json").read_bytes())
    assert stored["Ref"] == f"{h}/src/app:amd64" and base64.b64decode(stored["Raw"]) == amd.manifest
    assert stored["Descriptor"] == {"mediaType": MT_DOCKER, "digest": amd.digest, "size": len(amd.manifest),
                                    "platform": {"architecture": "amd64", "os": "linux"}}
    assert stored["SchemaV2Manifest"] == json.loads(amd.manifest)

    # annotate: Docker's refusal of an unknown os/arch pair, then a variant and os features
    bad = skiff_at(a, "manifest", "annotate", "--arch", "arm65", lst, f"{h}/team/app:arm64", check=False)
    assert bad.returncode == 1
    assert _err(bad) == "Error: manifest entry for image has unsupported os/arch combination: /arm65"
    skiff_at(a, "manifest", "annotate", "--variant", "v8", "--os-features", "f1,f2", "--os-features", "f1",
             lst, f"{h}/team/app:arm64")
    missing = skiff_at(a, "manifest", "annotate", "--os", "linux", lst, f"{h}/team/app:nope", check=False)
    assert missing.returncode == 1
    assert _err(missing) == f"Error: manifest for image {h}/team/app:nope does not exist in {lst}"

    # inspect: the list as docker/cli prints it (distribution's three-space JSON), an entry, -v
    shown = skiff_at(a, "manifest", "inspect", lst).stdout
    doc = json.loads(shown)
    assert shown.startswith(b'{\n   "schemaVersion": 2,\n   "mediaType": "' + MT_LIST.encode() + b'",\n')
    assert doc == {"schemaVersion": 2, "mediaType": MT_LIST, "manifests": [
        {"mediaType": MT_DOCKER, "size": len(amd.manifest), "digest": amd.digest,
         "platform": {"architecture": "amd64", "os": "linux"}},
        {"mediaType": MT_DOCKER, "size": len(arm.manifest), "digest": arm.digest,
         "platform": {"architecture": "arm64", "os": "linux", "os.features": ["f1", "f2"], "variant": "v8"}}]}
    entry = skiff_at(a, "manifest", "inspect", lst, f"{h}/team/app:arm64").stdout
    assert json.loads(entry) == json.loads(arm.manifest) and b'\n\t"schemaVersion": 2,' in entry
    verbose = json.loads(skiff_at(a, "manifest", "inspect", "-v", lst, f"{h}/team/app:arm64").stdout)
    assert list(verbose) == ["Ref", "Descriptor", "Raw", "SchemaV2Manifest"]
    assert verbose["Descriptor"]["platform"]["variant"] == "v8"
    assert [e["Ref"] for e in json.loads(skiff_at(a, "manifest", "inspect", "-v", lst).stdout)] == \
        [f"{h}/src/app:amd64", f"{h}/team/app:arm64"]
    gone = skiff_at(a, "manifest", "inspect", lst, f"{h}/team/app:nope", check=False)
    assert gone.returncode == 1 and _err(gone) == f"Error: No such manifest: {h}/team/app:nope"

    # push: the amd64 image is copied into team/app (blobs mounted, manifest by digest), then the list
    pushed = _out(skiff_at(a, "manifest", "push", lst)).splitlines()
    want = _sha(shown.rstrip(b"\n"))
    assert pushed == [f"Pushed ref {h}/team/app@{amd.digest} with digest: {amd.digest}", want]
    with _client(tmp_path) as c:
        got = c.get_manifest(reference.parse(lst))
        assert got.media_type == MT_LIST and str(got.digest) == want and got.raw == shown.rstrip(b"\n")
        copied = c.get_manifest(reference.parse(f"{h}/team/app"), digest=amd.digest)
        assert copied.raw == amd.manifest
        for d in [amd.config_digest, *amd.layer_digests]:
            assert c.blob_exists(reference.parse(f"{h}/team/app"), d)
    assert (a / "root" / "manifests").exists() and folder.exists()  # no --purge: kept

    # pull by tag in a fresh store: this host's entry
    b = tmp_path / "b"
    pulled = _out(skiff_at(b, "pull", lst)).splitlines()
    assert pulled[-3] == f"Digest: {want}" and pulled[-1] == lst
    mine = amd if host_platform().architecture == "amd64" else arm
    recs = Store(b / "root", b / "run").list_images()
    assert [r.id for r in recs] == [mine.config_digest]
    assert recs[0].layer_blobs == mine.layer_digests
    arm_pull = skiff_at(tmp_path / "c", "pull", "-q", "--platform", "linux/arm64", lst)
    assert _out(arm_pull).strip() == lst
    assert [r.id for r in Store(tmp_path / "c" / "root", tmp_path / "c" / "run").list_images()] == \
        [arm.config_digest]

    # -v of a registry's image manifest: docker/cli's entry, the platform read from its config
    single = json.loads(skiff_at(a, "manifest", "inspect", "-v", f"{h}/src/app:amd64").stdout)
    assert single["Ref"] == f"{h}/src/app:amd64" and single["SchemaV2Manifest"] == json.loads(amd.manifest)
    assert single["Descriptor"] == {"mediaType": MT_DOCKER, "digest": amd.digest, "size": len(amd.manifest),
                                    "platform": {"architecture": "amd64", "os": "linux"}}

    # a list cannot go in a list
    nested = skiff_at(a, "manifest", "create", f"{h}/team/app:nested", lst, check=False)
    assert nested.returncode == 1 and _err(nested) == f"Error: {lst} is a manifest list"
    assert not (a / "root" / "manifests" / f"{h.replace(':', '%')}#team#app%nested").exists()

    # rm: the local list goes; inspect then asks the registry (the raw list as served)
    skiff_at(a, "manifest", "rm", lst)
    assert not folder.exists()
    assert skiff_at(a, "manifest", "inspect", lst).stdout.rstrip(b"\n") == shown.rstrip(b"\n")
    remote_v = json.loads(skiff_at(a, "manifest", "inspect", "-v", lst).stdout)
    assert [(e["Ref"], e["Descriptor"]["platform"]["architecture"]) for e in remote_v] == \
        [(f"{lst}@{amd.digest}", "amd64"), (f"{lst}@{arm.digest}", "arm64")]


def test_amend_errors_rm_and_purge(skiff_at: Any, registry: RegistryServer, tmp_path: Path,
                                   platform_images: dict[str, BuiltImage]) -> None:
    h = registry.host
    amd, arm = platform_images["amd64"], platform_images["arm64"]
    with _client(tmp_path) as c:
        push_raw(c, reference.parse(f"{h}/app:amd64"), amd)
        push_raw(c, reference.parse(f"{h}/app:arm64"), arm)
    a = tmp_path / "a"
    lst = f"{h}/app:v1"
    skiff_at(a, "manifest", "create", lst, f"{h}/app:amd64")
    again = skiff_at(a, "manifest", "create", lst, f"{h}/app:arm64", check=False)
    assert again.returncode == 1
    assert _err(again) == "Error: refusing to amend an existing manifest list with no --amend flag"
    skiff_at(a, "manifest", "annotate", "--os-version", "1.0", lst, f"{h}/app:amd64")
    skiff_at(a, "manifest", "create", "--amend", lst, f"{h}/app:arm64", f"{h}/app:amd64")
    doc = json.loads(skiff_at(a, "manifest", "inspect", lst).stdout)
    assert [(m["digest"], m["platform"]) for m in doc["manifests"]] == [
        (amd.digest, {"architecture": "amd64", "os": "linux", "os.version": "1.0"}),  # kept, not fetched again
        (arm.digest, {"architecture": "arm64", "os": "linux"})]

    nothing = skiff_at(a, "manifest", "create", f"{h}/app:v2", f"{h}/app:nope", check=False)
    assert nothing.returncode == 1 and _err(nothing) == f"Error: no such manifest: {h}/app:nope"
    badname = skiff_at(a, "manifest", "create", "Bad!", f"{h}/app:amd64", check=False)
    assert badname.returncode == 1
    assert _err(badname).startswith("Error: error parsing name for manifest list Bad!: invalid reference format")

    # images from another registry than the list's: refused by inspect and push, as docker/cli does
    other = "localhost:1/app:v1"
    skiff_at(a, "manifest", "create", other, f"{h}/app:amd64")
    for cmd in (("inspect",), ("push",)):
        r = skiff_at(a, "manifest", *cmd, other, check=False)
        assert r.returncode == 1
        assert _err(r) == (f"Error: cannot use source images from a different registry than the target image: "
                           f"{h} != localhost:1")

    # rm: every name tried, the missing ones reported together
    r = skiff_at(a, "manifest", "rm", other, "nope", "nope2:1", check=False)
    assert r.returncode == 1
    assert _err(r) == ("Error: No such manifest: docker.io/library/nope:latest\n"
                       "No such manifest: docker.io/library/nope2:1")
    assert not (a / "root" / "manifests" / "localhost%1#app%v1").exists()
    r = skiff_at(a, "manifest", "push", "nope", check=False)
    assert r.returncode == 1 and _err(r) == "Error: No such manifest: docker.io/library/nope:latest"

    # push --purge: nothing to copy (same repository), the list pushed, the local list removed
    out = _out(skiff_at(a, "manifest", "push", "--purge", lst)).splitlines()
    with _client(tmp_path) as c:
        got = c.get_manifest(reference.parse(lst))
    assert out == [str(got.digest)] and got.media_type == MT_LIST
    assert json.loads(got.raw)["manifests"][0]["platform"]["os.version"] == "1.0"
    assert not (a / "root" / "manifests" / f"{h.replace(':', '%')}#app%v1").exists()
    r = skiff_at(a, "manifest", "rm", lst, check=False)
    assert r.returncode == 1 and _err(r) == f"Error: No such manifest: {lst}"


def test_oci_entries_make_an_oci_index(skiff_at: Any, registry: RegistryServer, tmp_path: Path,
                                       busybox_rootfs: Path) -> None:
    h = registry.host
    imgs = {arch: make_image([files_tar({"etc/arch": arch.encode()})], arch=arch) for arch in ("amd64", "arm64")}
    with _client(tmp_path) as c:
        for arch, img in imgs.items():
            push_raw(c, reference.parse(f"{h}/oci/app:{arch}"), img)
    a = tmp_path / "a"
    lst = f"{h}/oci/app:latest"
    skiff_at(a, "manifest", "create", f"{h}/oci/app", f"{h}/oci/app:amd64", f"{h}/oci/app:arm64")
    digest = _out(skiff_at(a, "manifest", "push", "-p", lst)).strip()
    with _client(tmp_path) as c:
        got = c.get_manifest(reference.parse(lst))
    assert got.media_type == MT_INDEX and str(got.digest) == digest
    doc = json.loads(got.raw)
    assert doc["mediaType"] == MT_INDEX
    assert [(m["mediaType"], m["digest"], m["size"], m["platform"]["architecture"]) for m in doc["manifests"]] == \
        [(MT_OCI, imgs[x].digest, len(imgs[x].manifest), x) for x in ("amd64", "arm64")]
    skiff_at(tmp_path / "b", "pull", "-q", f"{h}/oci/app")
    mine = imgs["amd64" if host_platform().architecture == "amd64" else "arm64"]
    assert [r.id for r in Store(tmp_path / "b" / "root", tmp_path / "b" / "run").list_images()] == \
        [mine.config_digest]


def test_token_auth_push_copies_across_repositories(skiff_at: Any,
                                                    token_registry: tuple[RegistryServer, TokenServer],
                                                    tmp_path: Path, platform_images: dict[str, BuiltImage]) -> None:
    srv, tok = token_registry
    h = srv.host
    auth = AuthStore(tmp_path / "fixture-auth.json")
    auth.set(h, Credentials("alice", USERS["alice"]))
    amd, arm = platform_images["amd64"], platform_images["arm64"]
    with _client(tmp_path, auth) as c:
        push_raw(c, reference.parse(f"{h}/base/x:amd64"), amd)
        push_raw(c, reference.parse(f"{h}/base/y:arm64"), arm)
    a = tmp_path / "a"
    lst = f"{h}/team/multi:1"
    skiff_at(a, "manifest", "create", lst, f"{h}/base/x:amd64", f"{h}/base/y:arm64")  # anonymous pull is allowed
    denied = skiff_at(a, "manifest", "push", lst, check=False)
    assert denied.returncode == 1 and "team/multi" in _err(denied)
    skiff_at(a, "login", "-u", "alice", "--password-stdin", h, input=USERS["alice"].encode())
    out = _out(skiff_at(a, "manifest", "push", lst)).splitlines()
    assert out[:2] == [f"Pushed ref {h}/team/multi@{amd.digest} with digest: {amd.digest}",
                       f"Pushed ref {h}/team/multi@{arm.digest} with digest: {arm.digest}"]
    assert any("repository:base/x:pull" in q.get("scope", []) for q in tok.requests)  # the mount's source
    with _client(tmp_path, auth) as c:
        got = c.get_manifest(reference.parse(lst))
        assert str(got.digest) == out[2]
        for img in (amd, arm):
            assert c.get_manifest(reference.parse(f"{h}/team/multi"), digest=img.digest).raw == img.manifest


def test_push_uploads_blobs_the_registry_will_not_mount(skiff_at: Any, registry: RegistryServer, tmp_path: Path,
                                                       platform_images: dict[str, BuiltImage]) -> None:
    """A registry that answers a cross-repository mount with a plain upload session (202): the blobs are
    downloaded from the source repository and uploaded to the list's."""
    from urllib.parse import parse_qsl, urlencode, urlsplit

    from faulty_proxy import FaultyProxy

    class NoMounts(FaultyProxy):
        def _handle(self, h: Any) -> None:
            u = urlsplit(h.path)
            if h.command == "POST" and "mount=" in u.query:
                q = [(k, v) for k, v in parse_qsl(u.query) if k not in ("mount", "from")]
                h.path = u.path + ("?" + urlencode(q) if q else "")
            super()._handle(h)

    p = NoMounts(registry.host).start()
    try:
        h = p.host
        amd = platform_images["amd64"]
        with _client(tmp_path) as c:
            push_raw(c, reference.parse(f"{registry.host}/src/app:amd64"), amd)
        a = tmp_path / "a"
        lst = f"{h}/dst/app:1"
        skiff_at(a, "manifest", "create", lst, f"{h}/src/app:amd64")
        out = _out(skiff_at(a, "manifest", "push", "--purge", lst)).splitlines()
        assert out[0] == f"Pushed ref {h}/dst/app@{amd.digest} with digest: {amd.digest}"
        puts = [path for m, path, _ in p.faults.log if m == "PUT" and "/dst/app/blobs/uploads/" in path]
        assert len(puts) == 1 + len(amd.layer_digests)  # config and layers uploaded
        with _client(tmp_path) as c:
            for d in [amd.config_digest, *amd.layer_digests]:
                assert c.blob_exists(reference.parse(f"{registry.host}/dst/app"), d)
            assert str(c.get_manifest(reference.parse(f"{registry.host}/dst/app:1")).digest) == out[1]
    finally:
        p.stop()
