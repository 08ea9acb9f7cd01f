"""Whiteouts: OCI semantics on apply, overlay whiteouts for per-layer dirs, and the diff modes of create."""

from __future__ import annotations

import io
import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from skiff.archive import apply_layer, create_layer, list_layer

from .treeutil import dirent, raw_tar, reg, snapshot


def apply(data: bytes, root: Path, **kw: object) -> None:
    apply_layer(io.BytesIO(data), root, **kw)  # type: ignore[arg-type]


LOWER = raw_tar(dirent("d"), reg("d/old1"), reg("d/old2"), dirent("d/sub"), reg("d/sub/x"), reg("keep"),
                reg("gone"), dirent("gonedir"), reg("gonedir/y"))
# opaque marker sorted AFTER the layer's own entries of the same folder (SECURITY.md #34)
UPPER = raw_tar(dirent("d"), reg("d/-new", b"new"), reg("d/.wh..wh..opq", b""), reg("d/zz", b"zz"),
                reg(".wh.gone", b""), reg(".wh.gonedir", b""), reg("keep", b"v2"), reg(".wh.keep", b""))


def test_whiteouts_apply_and_opaque_keeps_same_layer(tmp_path: Path) -> None:
    apply(LOWER, tmp_path)
    apply(UPPER, tmp_path)
    assert sorted(os.listdir(tmp_path)) == ["d", "keep"]
    assert sorted(os.listdir(tmp_path / "d")) == ["-new", "zz"]
    assert (tmp_path / "keep").read_bytes() == b"v2"  # a whiteout never hides its own layer's entry


def test_whiteout_of_missing_entry_is_harmless(tmp_path: Path) -> None:
    apply(raw_tar(reg("nope/.wh.x", b""), reg(".wh.absent", b"")), tmp_path)
    assert os.listdir(tmp_path) == []


def _overlay_supported() -> bool:
    return os.geteuid() == 0 and "overlay" in Path("/proc/filesystems").read_text()


@pytest.fixture
def mounts() -> Iterator[list[Path]]:
    done: list[Path] = []
    try:
        yield done
    finally:
        for m in reversed(done):
            subprocess.run(["umount", str(m)], check=False)


def mount_overlay(mounts: list[Path], target: Path, lowers: list[Path], upper: Path | None = None,
                  work: Path | None = None) -> None:
    opts = "lowerdir=" + ":".join(str(p) for p in lowers)
    if upper is not None and work is not None:
        opts += f",upperdir={upper},workdir={work}"
    target.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "overlay", "overlay", "-o", opts, str(target)], check=True)
    mounts.append(target)


@pytest.mark.skipif(not _overlay_supported(), reason="needs root and overlayfs")
def test_overlay_whiteouts_stack_like_plain_apply(tmp_path: Path, mounts: list[Path]) -> None:
    flat = tmp_path / "flat"
    flat.mkdir()
    apply(LOWER, flat)
    apply(UPPER, flat)
    l1, l2 = tmp_path / "l1", tmp_path / "l2"
    l1.mkdir()
    l2.mkdir()
    apply(LOWER, l1, overlay_whiteouts=True)
    apply(UPPER, l2, overlay_whiteouts=True)
    st = os.lstat(l2 / "gone")
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == 0
    assert os.getxattr(l2 / "d", "trusted.overlay.opaque") == b"y"
    merged = tmp_path / "merged"
    mount_overlay(mounts, merged, [l2, l1])
    assert snapshot(merged, dir_mtimes=False) == snapshot(flat, dir_mtimes=False)


@pytest.mark.skipif(not _overlay_supported(), reason="needs root and overlayfs")
def test_overlay_upper_layer_reproduces_merged_view(tmp_path: Path, mounts: list[Path]) -> None:
    lower, upper, work, merged = (tmp_path / n for n in ("lower", "upper", "work", "merged"))
    for p in (lower, upper, work):
        p.mkdir()
    apply(LOWER, lower)
    mount_overlay(mounts, merged, [lower], upper, work)
    os.unlink(merged / "gone")
    shutil.rmtree(merged / "d")
    (merged / "d").mkdir()  # rm -rf + mkdir: overlayfs marks it opaque
    (merged / "d/fresh").write_text("f")
    (merged / "added").write_text("a")
    os.chmod(merged / "keep", 0o600)
    blob = io.BytesIO()
    create_layer(upper, blob, mode="overlay-upper")
    names = {e.name for e in list_layer(io.BytesIO(blob.getvalue()))}
    assert {".wh.gone", "d/.wh..wh..opq", "d/fresh", "added", "keep"} <= names
    replay = tmp_path / "replay"
    replay.mkdir()
    apply(LOWER, replay)
    apply(blob.getvalue(), replay)
    assert snapshot(replay, dir_mtimes=False) == snapshot(merged, dir_mtimes=False)


def test_diff_mode_two_trees(tmp_path: Path) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir()
    apply(LOWER, old)
    shutil.copytree(old, new, symlinks=True, copy_function=shutil.copy2)
    for d in (new / "d", new):
        os.utime(d, (os.stat(old / d.relative_to(new)).st_atime, os.stat(old / d.relative_to(new)).st_mtime))
    shutil.copystat(old, new)
    os.unlink(new / "gone")
    shutil.rmtree(new / "gonedir")
    (new / "d/old1").write_text("changed!")
    (new / "added").write_text("a")
    blob = io.BytesIO()
    create_layer(new, blob, mode="diff", lower=[old])
    names = [e.name for e in list_layer(io.BytesIO(blob.getvalue()))]
    assert ".wh.gone" in names and ".wh.gonedir" in names and "d/old1" in names and "added" in names
    assert "d/sub/x" not in names and "keep" not in names
    apply(blob.getvalue(), old)
    assert snapshot(old) == snapshot(new)
