"""save/load round trips in the three formats, and interop with podman, skopeo and umoci."""

from __future__ import annotations

import json
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import pytest


def inspect(skiff: Any, ref: str) -> dict[str, Any]:
    obj: dict[str, Any] = json.loads(skiff("image", "inspect", ref).stdout)[0]
    return obj


@pytest.mark.parametrize("fmt", ["docker-archive", "oci-archive", "oci-dir"])
def test_round_trip(bb: Any, tmp_path: Path, fmt: str) -> None:
    before = inspect(bb, "busybox")
    bb("tag", "busybox", "me/app:v2")
    out = tmp_path / "out"
    bb("save", "--format", fmt, "-o", str(out), "busybox", "me/app:v2")
    bb("rmi", "-f", before["Id"])
    cp = bb("load", "-i", str(out))
    assert cp.stdout.decode().splitlines() == ["Loaded image: busybox:latest", "Loaded image: me/app:v2"]
    after = inspect(bb, "me/app:v2")
    assert after["Id"] == before["Id"] and after["RootFS"] == before["RootFS"]
    assert sorted(after["RepoTags"]) == ["busybox:latest", "me/app:v2"]


def test_save_to_stdout_and_load_from_stdin(bb: Any) -> None:
    data = bb("save", "busybox").stdout
    with tarfile.open(fileobj=__import__("io").BytesIO(data)) as t:
        names = t.getnames()
        manifest = json.loads(t.extractfile("manifest.json").read())  # type: ignore[union-attr]
    assert "manifest.json" in names and "oci-layout" in names and "index.json" in names
    assert manifest[0]["RepoTags"] == ["busybox:latest"]
    bb("rmi", "busybox")
    assert bb("load", input=data).stdout.decode().strip() == "Loaded image: busybox:latest"
    cp = bb("load", input=b"", check=False)
    assert cp.returncode == 1 and "stdin is empty" in cp.stderr.decode()


def test_save_by_id_loads_untagged(bb: Any, tmp_path: Path) -> None:
    image_id = inspect(bb, "busybox")["Id"]
    bb("save", "-o", str(tmp_path / "a.tar"), image_id[7:19])
    bb("rmi", "busybox")
    assert bb("load", "-i", str(tmp_path / "a.tar")).stdout.decode().strip() == f"Loaded image ID: {image_id}"
    assert "<none>" in bb("images").stdout.decode()


@pytest.mark.needs_tools
def test_podman_loads_and_runs_skiff_image(bb: Any, podman: Any, tmp_path: Path) -> None:
    for fmt in ("docker-archive", "oci-archive"):
        path = tmp_path / f"{fmt}.tar"
        bb("save", "--format", fmt, "-o", str(path), "busybox")
        cp = podman("load", "-i", str(path))
        assert "busybox:latest" in cp.stdout
    cp = podman("run", "--rm", "--network", "none", "docker.io/library/busybox:latest", "sh", "-c", "echo $A; true")
    assert cp.stdout.strip() == "1"
    cp = podman("image", "inspect", "docker.io/library/busybox:latest")
    assert json.loads(cp.stdout)[0]["RootFS"]["Layers"] == inspect(bb, "busybox")["RootFS"]["Layers"]


@pytest.mark.needs_tools
def test_skiff_loads_podman_save_with_same_layers(bb: Any, podman: Any, tmp_path: Path) -> None:
    bb("save", "-o", str(tmp_path / "in.tar"), "busybox")
    podman("load", "-i", str(tmp_path / "in.tar"))
    podman("tag", "docker.io/library/busybox:latest", "docker.io/library/frompodman:1")
    want = json.loads(podman("image", "inspect", "frompodman:1").stdout)[0]["RootFS"]["Layers"]
    for fmt in ("docker-archive", "oci-archive"):
        out = tmp_path / f"podman-{fmt}.tar"
        podman("save", "--format", fmt, "-o", str(out), "docker.io/library/frompodman:1")
        cp = bb("load", "-i", str(out))
        assert "frompodman:1" in cp.stdout.decode()
        assert inspect(bb, "frompodman:1")["RootFS"]["Layers"] == want
        bb("rmi", "frompodman:1")


@pytest.mark.needs_tools
def test_skopeo_and_umoci_accept_oci_layout(bb: Any, tmp_path: Path) -> None:
    if not shutil.which("skopeo") or not shutil.which("umoci"):
        pytest.skip("skopeo/umoci not installed")
    layout = tmp_path / "layout"
    bb("save", "--format", "oci-dir", "-o", str(layout), "busybox")
    cp = subprocess.run(["skopeo", "inspect", f"oci:{layout}:latest"], capture_output=True, text=True)
    assert cp.returncode == 0, cp.stderr
    assert json.loads(cp.stdout)["Env"] == ["A=1"]
    bundle = tmp_path / "bundle"
    cp = subprocess.run(["umoci", "unpack", "--image", f"{layout}:latest", str(bundle)], capture_output=True,
                        text=True)
    assert cp.returncode == 0, cp.stderr
    assert (bundle / "rootfs" / "bin" / "busybox").is_file()
    # skopeo can copy it back in as an OCI archive that skiff loads
    arch = tmp_path / "skopeo.tar"
    cp = subprocess.run(["skopeo", "copy", f"oci:{layout}:latest", f"oci-archive:{arch}:docker.io/library/sk:1"],
                        capture_output=True, text=True)
    assert cp.returncode == 0, cp.stderr
    assert "sk:1" in bb("load", "-i", str(arch)).stdout.decode()
