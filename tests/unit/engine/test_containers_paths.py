"""Resolution inside a container's root never leaves it, whatever links the container planted."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from skiff.engine.containers_paths import find_executable, host_path, open_in_root, read_small


@pytest.fixture
def root(tmp_path: Path) -> Path:
    r = tmp_path / "root"
    (r / "etc").mkdir(parents=True)
    (r / "bin").mkdir()
    (r / "etc" / "passwd").write_text("root:x:0:0::/root:/bin/sh\n")
    (r / "bin" / "tool").write_text("#!/bin/sh\n")
    os.chmod(r / "bin" / "tool", 0o755)
    (r / "bin" / "plain").write_text("x")
    os.symlink("/", r / "up")
    os.symlink("../../../../..", r / "dotdot")
    os.symlink("/etc/passwd", r / "abs_passwd")
    os.symlink("loop2", r / "loop1")
    os.symlink("loop1", r / "loop2")
    (tmp_path / "outside").write_text("host secret")
    return r


def test_links_resolve_inside(root: Path) -> None:
    assert host_path(str(root), "/up/etc/passwd") == str(root / "etc" / "passwd")
    assert host_path(str(root), "/dotdot/etc/passwd") == str(root / "etc" / "passwd")
    with pytest.raises(FileNotFoundError):  # looked up inside the root, where it does not exist
        host_path(str(root), "/../../outside")
    assert read_small(str(root), "/abs_passwd") == b"root:x:0:0::/root:/bin/sh\n"
    assert read_small(str(root), "/dotdot/outside") is None


def test_loops_and_last_component(root: Path) -> None:
    with pytest.raises(OSError) as e:
        open_in_root(str(root), "/loop1/x")
    assert e.value.errno == errno.ELOOP
    fd = open_in_root(str(root), "/up", follow_last=False)
    try:
        assert os.readlink("", dir_fd=fd) == "/"
    finally:
        os.close(fd)


def test_create_dirs_stays_inside(root: Path, tmp_path: Path) -> None:
    os.close(open_in_root(str(root), "/up/new/dir", create_dirs=True))
    assert (root / "new" / "dir").is_dir() and not (tmp_path / "new").exists()


def test_find_executable(root: Path) -> None:
    env = ["PATH=/usr/bin:/bin"]
    assert find_executable(str(root), "tool", env) == ("/bin/tool", 0)
    assert find_executable(str(root), "nope", env) == (None, errno.ENOENT)
    assert find_executable(str(root), "/bin/plain", env) == (None, errno.EACCES)
