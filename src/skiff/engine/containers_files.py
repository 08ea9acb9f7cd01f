"""File operations on a container's filesystem: cp (both directions), diff, export, commit.

cp resolves container paths one component at a time inside the container's root (``containers_paths``),
and writes into the container only through :func:`skiff.archive.copy_into_root`, which does the same; so a
symlink planted or swapped by the container cannot send a read or a write outside (CVE-2018-15664).
A running container is reached through ``/proc/PID/root`` (its volumes included); a stopped one through
its mounted rootfs.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from skiff.errors import InvalidArgumentError, NotFoundError, SkiffError

from .containers_paths import open_in_root

if TYPE_CHECKING:
    from .containers import ContainerEngine


@contextlib.contextmanager
def container_root(eng: ContainerEngine, cid: str) -> Iterator[str]:
    st = eng.cs.state(cid)
    if st.st.is_live and st.pid:
        yield f"/proc/{st.pid}/root"
        return
    drv = eng.store.driver
    root = str(drv.mount(cid))
    try:
        yield root
    finally:
        if not eng.cs.state(cid).st.is_live:
            with contextlib.suppress(SkiffError, OSError):
                drv.unmount(cid)


def split_arg(text: str) -> tuple[str | None, str]:
    """``CONTAINER:PATH`` -> (container, path); a local path -> (None, path)."""
    if text.startswith(("/", ".")) or ":" not in text:
        return None, text
    c, _, p = text.partition(":")
    return c, p


def copy(eng: ContainerEngine, src: str, dst: str, *, follow_link: bool = False) -> None:
    """`skiff cp`. ``follow_link`` (-L) copies what a source symlink points at, resolved inside the
    container's root, instead of the link itself."""
    sc, sp = split_arg(src)
    dc, dp = split_arg(dst)
    if (sc is None) == (dc is None):
        raise InvalidArgumentError("copying between containers is not supported" if sc else
                                   "must specify at least one container source")
    if sc is not None:
        _copy_out(eng, eng.cs.resolve(sc), sp, dp, follow_link=follow_link)
    else:
        assert dc is not None
        _copy_in(eng, eng.cs.resolve(dc), sp, dp)


def _copy_in(eng: ContainerEngine, cid: str, host_src: str, cpath: str) -> None:
    from skiff.archive import copy_into_root

    if not os.path.lexists(host_src.rstrip("/") or "/"):
        raise NotFoundError(f"could not find the file {host_src} in the local filesystem")
    src = host_src
    contents_only = host_src.endswith("/.")
    with container_root(eng, cid) as root:
        if not cpath.startswith("/"):
            cpath = "/" + cpath
        dest = cpath
        is_dir_src = os.path.isdir(src) and not os.path.islink(src)
        try:
            fd = open_in_root(root, cpath)
            dest_is_dir = stat.S_ISDIR(os.fstat(fd).st_mode)
            os.close(fd)
        except FileNotFoundError:
            dest_is_dir = False
            if cpath.endswith("/") and not is_dir_src:
                raise NotFoundError(f"no such directory: {cpath}") from None
        except OSError as e:
            raise SkiffError(f"{cpath}: {e.strerror}") from None
        if is_dir_src and dest_is_dir and not contents_only:
            dest = cpath.rstrip("/") + "/" + os.path.basename(src.rstrip("/"))
        elif is_dir_src is False and dest_is_dir:
            dest = cpath.rstrip("/") + "/"
        # "/." keeps /proc/PID/root usable as a folder for an O_NOFOLLOW open (a str: pathlib drops it)
        copy_into_root(Path(src), f"{root}/.", dest)  # type: ignore[arg-type]


def _copy_out(eng: ContainerEngine, cid: str, cpath: str, host_dst: str, *, follow_link: bool = False) -> None:
    from skiff.archive import copy_into_root

    contents_only = cpath.endswith("/.")
    with container_root(eng, cid) as root:
        try:
            fd = open_in_root(root, cpath or "/", follow_last=follow_link or contents_only or cpath.endswith("/"))
        except FileNotFoundError:
            raise NotFoundError(f"Could not find the file {cpath} in container {cid[:12]}") from None
        except OSError as e:
            raise SkiffError(f"{cpath}: {e.strerror or e}") from None
        try:
            st = os.fstat(fd)
            if host_dst == "-":
                raise InvalidArgumentError("cp to stdout (tar) is not supported; give a local path")
            dst_exists_dir = os.path.isdir(host_dst)
            name = os.path.basename(cpath.rstrip("/").rstrip(".").rstrip("/")) or "root"
            if stat.S_ISDIR(st.st_mode):
                if dst_exists_dir and not contents_only:
                    parent, target = host_dst, name
                else:
                    if not os.path.isdir(os.path.dirname(os.path.abspath(host_dst))):
                        raise NotFoundError(f"no such directory: {os.path.dirname(host_dst)}")
                    parent, target = os.path.dirname(os.path.abspath(host_dst)), os.path.basename(host_dst)
                # a str, not a Path: pathlib would drop the "/." that makes lstat see the folder behind the fd
                copy_into_root(f"/proc/self/fd/{fd}/.", Path(parent), target)  # type: ignore[arg-type]
                return
            if dst_exists_dir:
                out = os.path.join(host_dst, name)
            elif host_dst.endswith("/"):
                raise NotFoundError(f"no such directory: {host_dst}")
            else:
                out = host_dst
            _copy_file_fd(fd, st, out)
        finally:
            os.close(fd)


def _copy_file_fd(pfd: int, st: os.stat_result, out: str) -> None:
    if stat.S_ISLNK(st.st_mode):
        target = os.readlink("", dir_fd=pfd)  # readlinkat(fd, ""): the link itself
        with contextlib.suppress(FileNotFoundError):
            os.unlink(out)
        os.symlink(target, out)
        return
    if not stat.S_ISREG(st.st_mode):
        raise SkiffError(f"{out}: only regular files, folders and symlinks can be copied")
    rfd = os.open(f"/proc/self/fd/{pfd}", os.O_RDONLY | os.O_CLOEXEC)
    try:
        tmp = f"{out}.skiff-cp-{os.getpid()}"
        wfd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            while chunk := os.read(rfd, 1 << 20):
                os.write(wfd, chunk)
            os.fchmod(wfd, stat.S_IMODE(st.st_mode))
            with contextlib.suppress(PermissionError):
                os.fchown(wfd, st.st_uid, st.st_gid)
            os.utime(wfd, ns=(st.st_atime_ns, st.st_mtime_ns))
        finally:
            os.close(wfd)
        os.rename(tmp, out)
    finally:
        os.close(rfd)


def diff(eng: ContainerEngine, text: str) -> list[Any]:
    cid = eng.cs.resolve(text)
    return list(eng.store.driver.diff(cid))


def export(eng: ContainerEngine, text: str, out: BinaryIO) -> None:
    from skiff.archive import create_layer

    cid = eng.cs.resolve(text)
    drv = eng.store.driver
    root = drv.mount(cid)
    try:
        create_layer(root, out, compression="none", mode="dir")
    finally:
        if not eng.cs.state(cid).st.is_live:
            with contextlib.suppress(SkiffError, OSError):
                drv.unmount(cid)


def commit(eng: ContainerEngine, text: str, reference: str | None, *, changes: list[str], message: str | None,
           author: str | None, pause: bool = True) -> str:
    """A new image: the container's image plus one layer with the container's changes."""
    from .containers_commit import commit_container

    cid = eng.cs.resolve(text)
    return commit_container(eng, cid, reference, changes=changes, message=message, author=author, pause=pause)
