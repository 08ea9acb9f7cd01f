"""skiff.lightfs: cache files replaced whole, temporary names, file copies, all without tempfile or shutil."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from skiff import lightfs


def test_replace_cache_and_temporaries(tmp_path: Path) -> None:
    p = tmp_path / "c.json"
    lightfs.replace_cache(p, b"one")
    lightfs.replace_cache(p, b"two" * 50_000)
    assert p.read_bytes() == b"two" * 50_000 and os.listdir(tmp_path) == ["c.json"]
    fd, name = lightfs.mkstemp(dir=tmp_path, prefix="x-")
    os.close(fd)
    assert os.path.basename(name).startswith("x-") and os.stat(name).st_mode & 0o777 == 0o600
    d = lightfs.mkdtemp(dir=tmp_path, prefix="d-")
    assert os.stat(d).st_mode & 0o777 == 0o700
    os.makedirs(os.path.join(d, "a/b/c"))
    Path(d, "a/b/c/f").write_text("x")
    Path(d, "top").write_text("y")
    os.mkfifo(os.path.join(d, "a/fifo"))
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep").write_text("k")
    os.symlink("/etc", os.path.join(d, "a/link"))  # removed as a link, never followed
    os.symlink(outside, os.path.join(d, "a/b/out"))
    lightfs.remove_tree(d)
    assert (outside / "keep").read_text() == "k"
    lightfs.remove_tree(d)  # gone: nothing to do
    assert not os.path.exists(d) and os.path.isdir("/etc")
    with lightfs.TemporaryFolder(tmp_path) as t:
        Path(t, "f").write_text("x")
    assert not os.path.exists(t)


def test_copy_file(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.write_bytes(os.urandom(3 << 20))
    lightfs.copy_file(src, tmp_path / "dst")
    assert (tmp_path / "dst").read_bytes() == src.read_bytes()
    lightfs.copy_file(tmp_path / "dst", tmp_path / "dst2")
    (tmp_path / "small").write_text("later source wins")
    lightfs.copy_file(tmp_path / "small", tmp_path / "dst2")
    assert (tmp_path / "dst2").read_text() == "later source wins"
    os.symlink(src, tmp_path / "link")
    with pytest.raises(OSError):
        lightfs.copy_file(tmp_path / "link", tmp_path / "dst3")


def test_importing_it_is_light() -> None:
    code = "import sys, skiff.lightfs; print(sorted({'tempfile', 'shutil', 'random'} & set(sys.modules)))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip() == "[]"


def test_remove_tree_deeper_than_the_recursion_limit(tmp_path: Path) -> None:
    import sys

    top = tmp_path / "deep"
    fd = os.open(tmp_path, os.O_RDONLY)
    try:
        os.mkdir("deep", dir_fd=fd)
        cur = os.open("deep", os.O_RDONLY, dir_fd=fd)
        for _ in range(sys.getrecursionlimit() + 200):
            os.mkdir("d", dir_fd=cur)
            nxt = os.open("d", os.O_RDONLY, dir_fd=cur)
            os.close(cur)
            cur = nxt
        os.close(os.open("f", os.O_WRONLY | os.O_CREAT, 0o600, dir_fd=cur))
        os.close(cur)
    finally:
        os.close(fd)
    lightfs.remove_tree(top, strict=True)
    assert not top.exists()
    lightfs.remove_tree(top, strict=True)  # gone: nothing to do
