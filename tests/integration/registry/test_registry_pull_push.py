"""skiff pull / push through the real CLI against a real docker-registry, with skopeo and podman as peers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from images import BuiltImage, files_tar, make_image, make_index, push_raw, skopeo_env, write_oci_layout
from registry_server import RegistryServer

from skiff.oci import reference
from skiff.registry.auth import AuthStore
from skiff.registry.client import RegistryClient
from skiff.registry.config import RegistriesConfig
from skiff.store.store import Store


def _client(tmp_path: Path) -> RegistryClient:
    return RegistryClient(RegistriesConfig(), AuthStore(tmp_path / "fixture-auth.json"))


def _store(base: Path) -> Store:
    return Store(base / "root", base / "run")


def run_image(skiff_at: Any, base: Path, name: str) -> str:
    """Run the pulled image's command: with `skiff run` when the containers work is in, else chroot into
    the unpacked layers (a one-directory view is enough for these images: busybox + /etc/motd)."""
    from skiff.cli.commands import COMMANDS

    if ("run",) in COMMANDS:
        return skiff_at(base, "run", "--rm", "--network", "none", name).stdout.decode()
    st = _store(base)
    rec = st.resolve_image(name)
    view = base / "view"
    for d in st.layer_dirs(rec):
        shutil.copytree(d, view, symlinks=True, dirs_exist_ok=True)
    cfg = st.image_config(rec)
    return subprocess.run(["chroot", str(view), *(cfg.config.cmd or [])], capture_output=True, text=True,
                          check=True).stdout


def test_push_and_pull_back_same_digests(skiff_at: Any, registry: RegistryServer, busybox_image: BuiltImage,
                                         tmp_path: Path) -> None:
    src = f"{registry.host}/bb/busybox:1"
    with _client(tmp_path) as c:
        push_raw(c, reference.parse(src), busybox_image)
    a = tmp_path / "a"
    out = skiff_at(a, "pull", src).stdout.decode().splitlines()
    assert out[-1] == src and out[-3] == f"Digest: {busybox_image.digest}"
    assert "Downloaded newer image" in out[-2]
    again = skiff_at(a, "pull", "-q", src).stdout.decode()
    assert again.strip() == src
    dst = f"{registry.host}/copy/busybox:2"
    pushed = skiff_at(a, "push", src, dst).stdout.decode()
    assert f"2: digest: {busybox_image.digest} size: {len(busybox_image.manifest)}" in pushed
    b = tmp_path / "b"
    skiff_at(b, "pull", "-q", dst)
    recs = _store(b).list_images()
    assert [r.id for r in recs] == [busybox_image.config_digest]
    assert recs[0].names == [dst] and recs[0].digests == [f"{registry.host}/copy/busybox@{busybox_image.digest}"]
    assert recs[0].layer_blobs == busybox_image.layer_digests
    assert "hello from busybox" in run_image(skiff_at, b, dst)
    raw = skiff_at(b, "manifest", "inspect", dst).stdout
    assert raw.rstrip(b"\n") == busybox_image.manifest


def test_chunked_push_to_another_registry(skiff_at: Any, registry: RegistryServer, busybox_image: BuiltImage,
                                          tmp_path: Path) -> None:
    src = f"{registry.host}/bb/busybox:1"
    with _client(tmp_path) as c:
        push_raw(c, reference.parse(src), busybox_image)
    skiff_at(tmp_path, "pull", "-q", src)
    other = RegistryServer(tmp_path / "other").start()
    try:
        dst = f"{other.host}/chunked/busybox:1"  # nothing to mount from there: every blob is uploaded
        skiff_at(tmp_path, "push", "-q", "--chunk-size", "64k", src, dst)
        with _client(tmp_path) as c:
            assert str(c.resolve(reference.parse(dst)).digest) == busybox_image.digest
        again = skiff_at(tmp_path, "push", src, dst).stdout.decode()
        assert "Already exists" in again or "digest:" in again
    finally:
        other.stop()


def test_skopeo_push_skiff_pull_and_multiarch(skiff_at: Any, registry: RegistryServer,
                                               busybox_image: BuiltImage, tmp_path: Path) -> None:
    arm = make_image([files_tar({"etc/arch": b"arm64\n"})], arch="arm64")
    index = make_index({"linux/amd64": busybox_image, "linux/arm64/v8": arm})
    layout = write_oci_layout(tmp_path / "layout", [busybox_image, arm], top=index, tag="multi")
    dest = f"{registry.host}/multi/busybox:1"
    subprocess.run(["skopeo", "copy", "--all", "--dest-tls-verify=false", f"oci:{layout}:multi",
                    f"docker://{dest}"], check=True, capture_output=True, env=skopeo_env())
    shown = json.loads(skiff_at(tmp_path, "manifest", "inspect", dest).stdout)
    assert [m["platform"]["architecture"] for m in shown["manifests"]] == ["amd64", "arm64"]
    out = skiff_at(tmp_path, "pull", dest).stdout.decode()
    index_digest = "sha256:" + __import__("hashlib").sha256(index).hexdigest()
    assert f"Digest: {index_digest}" in out
    assert "hello from busybox" in run_image(skiff_at, tmp_path, dest)
    other = tmp_path / "arm"
    skiff_at(other, "pull", "-q", "--platform", "linux/arm64", dest)
    assert [r.id for r in _store(other).list_images()] == [arm.config_digest]
    bad = skiff_at(other, "pull", "--platform", "linux/s390x", dest, check=False)
    assert bad.returncode == 1 and "no image for platform linux/s390x" in bad.stderr.decode()


@pytest.mark.slow
@pytest.mark.needs_tools
def test_skiff_push_podman_pull_and_run(skiff_at: Any, registry: RegistryServer, busybox_image: BuiltImage,
                                        tmp_path: Path) -> None:
    src = f"{registry.host}/bb/busybox:1"
    with _client(tmp_path) as c:
        push_raw(c, reference.parse(src), busybox_image)
    skiff_at(tmp_path, "pull", "-q", src)
    dst = f"{registry.host}/frompodman/busybox:1"
    skiff_at(tmp_path, "push", "-q", src, dst)
    import tempfile

    prun = tempfile.mkdtemp(prefix="skiff-prun-")  # podman wants a runroot under 50 characters
    pr = ["podman", "--root", str(tmp_path / "proot"), "--runroot", prun, "--storage-driver", "vfs"]
    (tmp_path / "podman-auth.json").write_text('{"auths": {}}')
    env = {**os.environ, "REGISTRY_AUTH_FILE": str(tmp_path / "podman-auth.json")}  # never the user's file
    try:
        p = subprocess.run([*pr, "pull", "-q", "--tls-verify=false", dst], capture_output=True, text=True, env=env)
        assert p.returncode == 0, p.stderr
        r = subprocess.run([*pr, "run", "--rm", "--network", "none", dst], capture_output=True, text=True,
                           env=env)
        assert r.returncode == 0 and "hello from busybox" in r.stdout, r.stderr
        ins = subprocess.run(["skopeo", "inspect", "--tls-verify=false", f"docker://{dst}"], check=True,
                             capture_output=True, text=True, env=skopeo_env()).stdout
        assert json.loads(ins)["Digest"] == busybox_image.digest
    finally:
        subprocess.run([*pr, "rmi", "-a", "-f"], capture_output=True, env=env)
        shutil.rmtree(prun, ignore_errors=True)


def test_docker_schema2_image_round_trip(skiff_at: Any, registry: RegistryServer, busybox_rootfs: Path,
                                         tmp_path: Path) -> None:
    from images import layer_tar

    img = make_image([layer_tar(busybox_rootfs)], docker=True, cmd=["/bin/echo", "schema2"])
    src = f"{registry.host}/docker/busybox:1"
    with _client(tmp_path) as c:
        push_raw(c, reference.parse(src), img)
    skiff_at(tmp_path, "pull", "-q", src)
    rec = _store(tmp_path).list_images()[0]
    assert rec.manifest == img.digest and rec.manifest_media_type.endswith("manifest.v2+json")
    dst = f"{registry.host}/docker/copy:1"
    skiff_at(tmp_path, "push", "-q", src, dst)
    with _client(tmp_path) as c:
        got = c.resolve(reference.parse(dst))
    assert (str(got.digest), got.media_type) == (img.digest, "application/vnd.docker.distribution.manifest.v2+json")
    assert "schema2" in run_image(skiff_at, tmp_path, src)
