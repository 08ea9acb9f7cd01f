"""Shared fixtures: every test gets its own store (--root/--runroot in a temporary folder)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

sys.path.insert(0, str(Path(__file__).parent))

# scripts/test.sh (what CI runs) uses the "ci" profile: the property tests draw a fixed sequence of examples,
# so a CI verdict is reproducible and never depends on the run's seed. Run them without it (the default
# profile) to explore new examples; a failure prints the seed and blob that reproduce it.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.load_profile(os.environ.get("SKIFF_HYPOTHESIS_PROFILE", "default"))

from helpers.cli import skiff_cmd  # noqa: E402


@pytest.fixture
def store_dirs(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    root = tmp_path / "root"
    runroot = tmp_path / "run"
    root.mkdir()
    runroot.mkdir()
    try:
        yield root, runroot
    finally:
        cleanup_store(root, runroot)


def cleanup_store(root: Path, runroot: Path) -> None:
    """Whatever a test left in its store goes: containers (and their monitors, cgroups, veths), the store's
    bridge, nft table and DNS responders, and any mount below the store."""
    if (root / "containers").is_dir() and any((root / "containers").iterdir()):
        ids = subprocess.run(skiff_cmd(root, runroot, "ps", "-aq", "--no-trunc"), capture_output=True,
                             text=True, timeout=120).stdout.split()
        if ids:
            subprocess.run(skiff_cmd(root, runroot, "rm", "-f", "-v", *ids), capture_output=True, timeout=300)
    if (root / "networks").is_dir():
        from skiff.engine.networks import network_manager

        try:
            network_manager(root, runroot).teardown()
        except Exception as e:  # a clean-up must not hide the test's own result
            print(f"network teardown of {root}: {e}", file=sys.stderr)
    remove_empty_skiff_cgroups()
    prefixes = (str(root) + "/", str(runroot) + "/")
    mounts = [line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines()]
    for m in sorted((m for m in mounts if m.startswith(prefixes)), key=len, reverse=True):
        subprocess.run(["umount", "-l", m], capture_output=True)




@pytest.fixture
def skiff(store_dirs: tuple[Path, Path]):  # type: ignore[no-untyped-def]
    """Run the real `skiff` CLI against the test's own store; returns CompletedProcess."""
    root, runroot = store_dirs

    def _run(*args: str, check: bool = True, input: bytes | None = None, timeout: float = 300,
             env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
        full_env = dict(os.environ, **(env or {}))
        cp = subprocess.run(skiff_cmd(root, runroot, *args), capture_output=True, input=input,
                            timeout=timeout, env=full_env)
        if check and cp.returncode != 0:
            raise AssertionError(f"skiff {' '.join(args)} exited {cp.returncode}:\n{cp.stderr.decode()}")
        return cp

    _run.root = root  # type: ignore[attr-defined]
    _run.runroot = runroot  # type: ignore[attr-defined]
    return _run




@pytest.fixture(scope="session")
def busybox_rootfs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A busybox rootfs shared by the session's tests (read-only by convention: copy before changing it)."""
    from helpers.rootfs import make_busybox_rootfs

    return make_busybox_rootfs(tmp_path_factory.mktemp("busybox") / "rootfs")


@pytest.fixture
def busybox_image(skiff, busybox_rootfs: Path, tmp_path: Path) -> str:  # type: ignore[no-untyped-def]
    """A `busybox:latest` image in the test's own store, imported from the busybox rootfs."""
    tar = tmp_path / "busybox.tar"
    subprocess.run(["tar", "-C", str(busybox_rootfs), "-cf", str(tar), "."], check=True)
    skiff("import", "--change", 'CMD ["sh"]', str(tar), "busybox:latest")
    return "busybox:latest"


@pytest.fixture
def python_base(skiff) -> str:  # type: ignore[no-untyped-def]
    """`python:3.11-slim` (a debootstrap'd bookworm with python3 and pip) loaded into the test's own store."""
    from helpers.pybase import REF, python_base_archive

    skiff("load", "-i", str(python_base_archive()), timeout=600)
    return REF


def remove_empty_skiff_cgroups() -> None:
    """crun and runc (--runtime) make the shared `skiff` parent cgroup in every hierarchy and leave it; rmdir
    removes one only when no container is left in it."""
    for parent in Path("/sys/fs/cgroup").glob("*/skiff"):
        try:
            parent.rmdir()
        except OSError:
            pass


@pytest.fixture(scope="session", autouse=True)
def _no_skiff_cgroups_left() -> Iterator[None]:
    yield
    remove_empty_skiff_cgroups()
