"""Broken registries: resume after a cut, concurrent pulls, and bad answers (exit 1, one line naming the
reference and the cause, nothing half-stored, no credential in the output)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from faulty_proxy import FaultyProxy
from images import BuiltImage, push_raw
from registry_ports import closed_port
from registry_server import RegistryServer

from skiff.oci import reference
from skiff.registry.auth import AuthStore
from skiff.registry.client import RegistryClient
from skiff.registry.config import RegistriesConfig
from skiff.store.store import Store

FAST = ("--retry", "2", "--retry-delay", "0.01")


@pytest.fixture
def pushed(registry: RegistryServer, busybox_image: BuiltImage, tmp_path: Path) -> str:
    with RegistryClient(RegistriesConfig(), AuthStore(tmp_path / "fixture-auth.json")) as c:
        push_raw(c, reference.parse(f"{registry.host}/bb/busybox:1"), busybox_image)
    return "bb/busybox:1"


def _nothing_stored(base: Path, img: BuiltImage) -> None:
    st = Store(base / "root", base / "run")
    assert st.list_images() == []
    from skiff.oci.digest import Digest

    big = max(img.layer_digests, key=lambda d: len(img.blobs[d]))
    assert not st.has_blob(Digest(big))
    tmp = base / "root" / "tmp"
    assert not tmp.exists() or list(tmp.iterdir()) == []
    overlay = base / "root" / "overlay"
    assert not overlay.exists() or not [p for p in overlay.iterdir() if p.name.startswith(".tmp-")]


def test_interrupted_pull_resumes(skiff_at: Any, proxy: FaultyProxy, pushed: str, busybox_image: BuiltImage,
                                  tmp_path: Path) -> None:
    proxy.faults.cut_blob_after = 300_000
    ref = f"{proxy.host}/{pushed}"
    skiff_at(tmp_path, "pull", "-q", ref)
    gets = proxy.blob_gets()
    assert any(rng == "bytes=300000-" for (_, _, rng) in gets), gets
    rec = Store(tmp_path / "root", tmp_path / "run").list_images()
    assert [r.id for r in rec] == [busybox_image.config_digest]


def test_concurrent_pulls_store_once(skiff_at: Any, proxy: FaultyProxy, pushed: str, busybox_image: BuiltImage,
                                     tmp_path: Path, auth_env: dict[str, str]) -> None:
    import os
    import shutil
    import sys

    exe = shutil.which("skiff", path=str(Path(sys.executable).parent)) or "skiff"
    ref = f"{proxy.host}/{pushed}"
    cmd = [exe, "--root", str(tmp_path / "root"), "--runroot", str(tmp_path / "run"), "pull", "-q", ref]
    env = dict(os.environ, **auth_env)
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    st = Store(tmp_path / "root", tmp_path / "run")
    assert [r.id for r in st.list_images()] == [busybox_image.config_digest]
    assert len(st.layers.records()) == len(busybox_image.layer_digests)
    per_blob: dict[str, int] = {}
    for _, path, _ in proxy.blob_gets():
        per_blob[path.rsplit("/", 1)[1]] = per_blob.get(path.rsplit("/", 1)[1], 0) + 1
    assert all(n == 1 for n in per_blob.values()), per_blob  # each blob downloaded once


@pytest.mark.parametrize(("fault", "value", "cause"), [
    ("corrupt_blobs", True, "content has digest"),
    ("truncate_blobs", True, "truncated"),
    ("manifest_type", "application/x-unknown", "unsupported manifest media type 'application/x-unknown'"),
    ("status", 401, "(401)"),
    ("status", 403, "access denied"),
    ("status", 404, "not found"),
    ("status", 429, "too many requests (429) after 3 attempts"),
    ("status", 500, "registry answered 500"),
])
def test_bad_registry_answers(skiff_at: Any, proxy: FaultyProxy, pushed: str, busybox_image: BuiltImage,
                              tmp_path: Path, fault: str, value: object, cause: str) -> None:
    setattr(proxy.faults, fault, value)
    ref = f"{proxy.host}/{pushed}"
    r = skiff_at(tmp_path, "pull", *FAST, ref, check=False)
    err = r.stderr.decode().strip().splitlines()
    errors = [x for x in err if x.startswith("Error:")]
    assert r.returncode == 1, r.stderr
    assert len(errors) == 1 and ref in errors[0] and cause in errors[0], err
    _nothing_stored(tmp_path, busybox_image)


def test_unreachable_and_invalid_name(skiff_at: Any, tmp_path: Path) -> None:
    port = closed_port()
    r = skiff_at(tmp_path, "pull", f"127.0.0.1:{port}/x/y:1", check=False)
    errors = [x for x in r.stderr.decode().splitlines() if x.startswith("Error:")]
    assert r.returncode == 1 and len(errors) == 1 and "connection refused" in errors[0]
    r = skiff_at(tmp_path, "pull", "127.0.0.1:5000/in valid", check=False)
    assert r.returncode == 1 and "invalid reference format" in r.stderr.decode()
    r = skiff_at(tmp_path, "push", "nothing-here:1", f"127.0.0.1:{port}/x:1", check=False)
    assert r.returncode == 1 and "nothing-here" in r.stderr.decode()


def test_mirror_serves_docker_io(skiff_at: Any, registry: RegistryServer, busybox_image: BuiltImage,
                                 tmp_path: Path, auth_env: dict[str, str]) -> None:
    with RegistryClient(RegistriesConfig(), AuthStore(tmp_path / "fixture-auth.json")) as c:
        push_raw(c, reference.parse(f"{registry.host}/hub/library/python:3.11-slim"), busybox_image)
    Path(auth_env["SKIFF_REGISTRIES_CONF"]).write_text(
        f'[[registry]]\nprefix = "docker.io"\nlocation = "docker.io"\n'
        f'[[registry.mirror]]\nlocation = "{registry.host}/hub"\ninsecure = true\n')
    out = skiff_at(tmp_path, "pull", "python:3.11-slim").stdout.decode().splitlines()
    assert out[-1] == "docker.io/library/python:3.11-slim"
    assert "Status: Downloaded newer image for python:3.11-slim" in out
    recs = Store(tmp_path / "root", tmp_path / "run").list_images()
    assert recs[0].names == ["docker.io/library/python:3.11-slim"]
