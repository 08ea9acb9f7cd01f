"""Paths inside a container's root, resolved the way the container would see them, never escaping it.

:func:`open_in_root` walks one component at a time with ``openat(O_NOFOLLOW)`` from a directory fd on the
root, reading each symlink and resolving it against the container's root (an absolute target restarts at the
root, ``..`` stops at the root). The kernel never follows a link for us, so a component swapped for a symlink
between checks (CVE-2018-15664, CVE-2019-10152) cannot lead outside. Callers get an fd or an error.
"""

from __future__ import annotations

import errno
import os
import stat

from skiff.errors import SkiffError

MAX_LINKS = 40


class PathEscapeError(SkiffError):
    """A path inside a container that could not be resolved inside its root."""


def _split(path: str) -> list[str]:
    return [p for p in path.split("/") if p and p != "."]


def open_in_root(root: str, path: str, *, follow_last: bool = True, flags: int = os.O_RDONLY,
                 create_dirs: bool = False, mode: int = 0o755) -> int:
    """An fd for ``path`` inside ``root`` (``O_PATH`` for the last component unless ``flags`` say more).

    With ``create_dirs`` missing directories are made (as the workdir is, on container start)."""
    rootfd = os.open(root, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    stack: list[int] = [rootfd]  # directory fds from the root down
    todo = _split(path)
    links = 0
    try:
        while todo:
            name = todo.pop(0)
            if name == "..":
                if len(stack) > 1:
                    os.close(stack.pop())
                continue
            last = not todo
            cur = stack[-1]
            try:
                st = os.stat(name, dir_fd=cur, follow_symlinks=False)
            except FileNotFoundError:
                if create_dirs:
                    os.mkdir(name, mode, dir_fd=cur)
                    st = os.stat(name, dir_fd=cur, follow_symlinks=False)
                elif last:
                    return _open_last(cur, name, flags)
                else:
                    raise
            if stat.S_ISLNK(st.st_mode) and (not last or follow_last):
                links += 1
                if links > MAX_LINKS:
                    raise OSError(errno.ELOOP, "too many levels of symbolic links", path)
                target = os.readlink(name, dir_fd=cur)
                if target.startswith("/"):
                    while len(stack) > 1:
                        os.close(stack.pop())
                todo = _split(target) + todo
                continue
            if last:
                return _open_last(cur, name, flags)
            if not stat.S_ISDIR(st.st_mode):
                raise NotADirectoryError(errno.ENOTDIR, "not a directory", path)
            stack.append(os.open(name, os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=cur))
        return os.dup(stack[-1]) if flags == os.O_RDONLY else os.open(".", flags | os.O_CLOEXEC,
                                                                         dir_fd=stack[-1])
    finally:
        for fd in stack:
            os.close(fd)


def _open_last(dirfd: int, name: str, flags: int) -> int:
    if flags == os.O_RDONLY:
        flags = os.O_PATH
    return os.open(name, flags | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644, dir_fd=dirfd)


def host_path(root: str, path: str, *, follow_last: bool = True) -> str:
    """The host path of ``path`` resolved inside ``root`` (for handing to a tool; prefer fds when writing)."""
    fd = open_in_root(root, path, follow_last=follow_last)
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    finally:
        os.close(fd)


def read_small(root: str, path: str, limit: int = 1 << 20) -> bytes | None:
    """A small regular file inside the root (``/etc/passwd``), or None; never blocks on a FIFO."""
    try:
        pfd = open_in_root(root, path)
    except OSError:
        return None
    try:
        st = os.fstat(pfd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > limit:
            return None
        fd = os.open(f"/proc/self/fd/{pfd}", os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        try:
            return os.read(fd, limit)
        finally:
            os.close(fd)
    finally:
        os.close(pfd)


def find_executable(root: str, name: str, env: list[str]) -> tuple[str | None, int]:
    """Resolve argv[0] the way exec would inside the container: (path, 0), or (None, errno)."""
    if "/" in name:
        candidates = [name]
    else:
        path = next((e[5:] for e in env if e.startswith("PATH=")), "/usr/local/sbin:/usr/local/bin:"
                    "/usr/sbin:/usr/bin:/sbin:/bin")
        candidates = [f"{d or '.'}/{name}" for d in path.split(":")]
    err = errno.ENOENT
    for cand in candidates:
        try:
            fd = open_in_root(root, cand)
        except OSError:
            continue
        try:
            st = os.fstat(fd)
        finally:
            os.close(fd)
        if stat.S_ISREG(st.st_mode) and st.st_mode & 0o111:
            return cand, 0
        err = errno.EACCES
    return None, err
