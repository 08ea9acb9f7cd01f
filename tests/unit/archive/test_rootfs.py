"""safe_join / open_in_root / copy_into_root: symlinks inside a rootfs never lead outside it (CVE-2018-15664,
CVE-2019-10152)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from skiff.archive import UnsafeEntryError, copy_into_root, open_in_root, safe_join


@pytest.fixture
def rootfs(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc/passwd").write_text("container passwd")
    (root / "usr/lib").mkdir(parents=True)
    os.symlink("usr/lib", root / "lib")
    os.symlink("/etc", root / "abs_etc")
    os.symlink("../../../../..", root / "up")
    os.symlink("/", root / "slash")
    os.symlink("loop2", root / "loop1")
    os.symlink("loop1", root / "loop2")
    (tmp_path / "host_secret").write_text("host")
    return root


def test_safe_join_resolves_inside(rootfs: Path) -> None:
    assert safe_join(rootfs, "/lib/x") == rootfs / "usr/lib/x"
    assert safe_join(rootfs, "abs_etc/passwd") == rootfs / "etc/passwd"
    assert safe_join(rootfs, "up/host_secret") == rootfs / "host_secret"
    assert safe_join(rootfs, "slash/etc") == rootfs / "etc"
    assert safe_join(rootfs, "/") == rootfs
    with pytest.raises(UnsafeEntryError, match="symbolic links"):
        safe_join(rootfs, "loop1/x")


def test_open_in_root_follows_links_inside_only(rootfs: Path) -> None:
    fd = open_in_root(rootfs, "/abs_etc/passwd")
    with os.fdopen(fd) as f:
        assert f.read() == "container passwd"
    with pytest.raises(FileNotFoundError):
        open_in_root(rootfs, "/up/host_secret")
    os.symlink("/etc/passwd", rootfs / "pw")
    with os.fdopen(open_in_root(rootfs, "pw")) as f:
        assert f.read() == "container passwd"
    with pytest.raises(OSError):
        open_in_root(rootfs, "pw", follow=False)


def test_copy_into_root_file_and_tree(rootfs: Path, tmp_path: Path) -> None:
    src = tmp_path / "ctx"
    (src / "sub").mkdir(parents=True)
    (src / "sub/a").write_text("A")
    os.symlink("/etc/shadow", src / "sub/link")
    (src / "f").write_text("F")
    # a folder's content goes below the destination, through the rootfs' own symlink
    copy_into_root(src, rootfs, "/lib/app", uid=1000, gid=1000)
    assert (rootfs / "usr/lib/app/sub/a").read_text() == "A"
    assert os.readlink(rootfs / "usr/lib/app/sub/link") == "/etc/shadow"
    assert os.stat(rootfs / "usr/lib/app/sub/a").st_uid == 1000
    # a file into an existing folder, and to a new name
    copy_into_root(src / "f", rootfs, "/etc")
    copy_into_root(src / "f", rootfs, "/slash/etc/renamed")
    assert (rootfs / "etc/f").read_text() == "F" and (rootfs / "etc/renamed").read_text() == "F"
    # a destination through a symlink that points outside lands inside
    copy_into_root(src / "f", rootfs, "/up/escaped")
    assert (rootfs / "escaped").read_text() == "F"
    assert not (tmp_path / "escaped").exists() and (tmp_path / "host_secret").read_text() == "host"
