"""Fixtures for the image command tests: a busybox rootfs tarball, an image imported from it, podman on a
private store (its own --root/--runroot in a temp folder, removed afterwards)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from helpers.images import store_state  # noqa: F401  (re-exported for the tests)


@pytest.fixture(scope="session")
def bb_tar(busybox_rootfs: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bbtar") / "busybox.tar"
    with tarfile.open(out, "w") as t:
        t.add(busybox_rootfs, arcname=".")
    return out


@pytest.fixture
def bb(skiff: Any, bb_tar: Path) -> Any:
    """The `skiff` runner with busybox:latest imported (Cmd sh, Env A=1)."""
    skiff("import", "-c", 'CMD ["/bin/sh"]', "-c", "ENV A=1", str(bb_tar), "busybox:latest")
    return skiff




def _unmount_below(path: Path) -> None:
    with open("/proc/self/mountinfo") as f:
        mounts = [line.split(" ")[4] for line in f]
    for m in sorted((m for m in mounts if m.startswith(str(path) + "/")), key=len, reverse=True):
        subprocess.run(["umount", "-l", m], capture_output=True)


@pytest.fixture
def podman(tmp_path: Path) -> Iterator[Callable[..., subprocess.CompletedProcess[str]]]:
    if shutil.which("podman") is None:
        pytest.skip("podman is not installed (scripts/setup.sh installs it)")
    base = tmp_path / "podman"
    run_dir = Path(tempfile.mkdtemp(prefix="skiff-podman-", dir="/tmp"))  # podman wants a runroot < 50 chars
    args = ["podman", "--root", str(base / "root"), "--runroot", str(run_dir), "--storage-driver", "overlay",
            "--tmpdir", str(base / "tmp")]

    def run(*a: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        cp = subprocess.run([*args, *a], capture_output=True, text=True, timeout=180,
                            env=dict(os.environ, TMPDIR=str(tmp_path)))
        if check and cp.returncode != 0:
            raise AssertionError(f"podman {' '.join(a)} exited {cp.returncode}: {cp.stderr}")
        return cp

    try:
        yield run
    finally:
        run("rm", "-a", "-f", check=False)
        run("rmi", "-a", "-f", check=False)
        for d in (base, run_dir):
            _unmount_below(d)
            shutil.rmtree(d, ignore_errors=True)
