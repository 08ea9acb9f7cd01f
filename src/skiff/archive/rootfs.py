"""Resolving paths inside a root folder without ever leaving it (SECURITY.md #1, #2, #8, #9).

Every component is opened relative to its parent's fd with O_NOFOLLOW. A symlink met on the way is read and
resolved as if the root were ``/`` (absolute targets restart at the root, ``..`` stops at the root), like
``openat2(RESOLVE_IN_ROOT)`` or a chroot: the kernel never follows a link for us, so no name in the tree can
lead outside it, and nothing is resolved first and opened later by path (no realpath-then-open).
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from skiff.archive.errors import ArchiveError, UnsafeEntryError

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
MAX_SYMLINKS = 40


def clean(path: str, what: str = "path") -> str:
    """A member name made relative and lexically clean (``a/./b/`` -> ``a/b``, leading ``/`` stripped, as
    Docker does); ``..`` that would climb above the root is refused. The root itself is ``""``."""
    if "\0" in path:
        raise UnsafeEntryError(f"{what} {path!r}: contains a NUL byte")
    out: list[str] = []
    for part in path.split("/"):
        if part == "" or part == ".":
            continue
        if part == "..":
            if not out:
                raise UnsafeEntryError(f"{what} {path!r}: escapes the root with '..'")
            out.pop()
        else:
            out.append(part)
    return "/".join(out)


def _clamp_join(base: str, target: str) -> str:
    """``target`` (a symlink's value) seen from folder ``base``, with the root as ``/``."""
    parts = [] if target.startswith("/") or not base else base.split("/")
    for part in target.split("/"):
        if part == "" or part == ".":
            continue
        if part == "..":
            if parts:
                parts.pop()
        else:
            parts.append(part)
    return "/".join(parts)


class RootDir:
    """An open root folder with a cache of resolved directory fds (keys are clean relative paths).

    Use as a context manager; :meth:`invalidate` must be called when something at a path is removed or
    replaced so that cached fds never point at a stale tree.
    """

    def __init__(self, root: Path | str, *, max_cached: int = 512) -> None:
        self.root = str(root)
        try:
            self.root_fd = os.open(self.root, _DIR_FLAGS)
        except OSError as e:
            raise ArchiveError(f"{self.root}: cannot open as a folder: {e.strerror}") from None
        self._cache: dict[str, int] = {"": self.root_fd}
        self._via_link: set[str] = set()
        self._real: dict[str, str] = {}
        self._max = max_cached
        self.created_dirs: list[str] = []

    def __enter__(self) -> RootDir:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for fd in self._cache.values():
            os.close(fd)
        self._cache = {}

    def trim(self) -> None:
        """Close cached fds beyond the limit (call between operations, never while holding an fd)."""
        if len(self._cache) > self._max:
            keys = [k for k in self._cache if k][: len(self._cache) // 2]
            for k in keys:
                os.close(self._cache.pop(k))
                self._via_link.discard(k)
                self._real.pop(k, None)

    def invalidate(self, path: str) -> None:
        """Forget ``path`` and everything below it (and every fd found through a symlink)."""
        prefix = path + "/"
        drop = [k for k in self._cache if k and (k == path or k.startswith(prefix) or k in self._via_link)]
        for k in drop:
            os.close(self._cache.pop(k))
            self._real.pop(k, None)
        self._via_link.clear()

    def remember(self, path: str, fd: int) -> None:
        """Cache an fd of a directory just created or opened at ``path`` (takes ownership)."""
        old = self._cache.pop(path, None)
        if old is not None:
            os.close(old)
        self._cache[path] = fd
        parent, _, name = path.rpartition("/")
        self._real[path] = self.real(parent) + "/" + name if parent else name

    def dir_fd(self, path: str, *, create: bool = False, _depth: int = 0) -> int:
        """The fd of folder ``path`` (clean, relative), following symlinks inside the root; missing
        components are created (0755, root-owned) when ``create``. Raises FileNotFoundError/NotADirectoryError."""
        fd = self._cache.get(path)
        if fd is not None:
            return fd
        parts = path.split("/")
        i = len(parts) - 1
        while i > 0 and "/".join(parts[:i]) not in self._cache:
            i -= 1
        cur = "/".join(parts[:i])
        for name in parts[i:]:
            sub = f"{cur}/{name}" if cur else name
            self._open_child(cur, name, sub, create, _depth)
            cur = sub
        return self._cache[path]

    def _open_child(self, parent: str, name: str, path: str, create: bool, depth: int) -> None:
        pfd = self._cache[parent]
        try:
            fd = os.open(name, _DIR_FLAGS, dir_fd=pfd)
            real = self.real(parent) + "/" + name if parent else name
        except FileNotFoundError:
            if not create:
                raise
            os.mkdir(name, 0o755, dir_fd=pfd)
            self.created_dirs.append(path)
            fd = os.open(name, _DIR_FLAGS, dir_fd=pfd)
            real = self.real(parent) + "/" + name if parent else name
        except OSError as e:
            if e.errno not in (errno.ELOOP, errno.ENOTDIR):
                raise
            try:
                target = os.readlink(name, dir_fd=pfd)
            except OSError:
                raise NotADirectoryError(errno.ENOTDIR, f"{path}: not a directory") from None
            if depth >= MAX_SYMLINKS:
                raise UnsafeEntryError(f"{path}: too many levels of symbolic links") from None
            real = _clamp_join(self.real(parent), target)
            fd = os.dup(self.dir_fd(real, create=create, _depth=depth + 1))
            real = self.real(real)
            self._via_link.add(path)
        self._cache[path] = fd
        self._real[path] = real

    def real(self, path: str) -> str:
        """The symlink-free path of a folder already resolved by :meth:`dir_fd`."""
        return self._real.get(path, path) if path else ""

    def parent(self, path: str, *, create: bool = False) -> tuple[int, str]:
        """(fd of the parent folder, last component) of a clean, non-empty ``path``."""
        parent, _, name = path.rpartition("/")
        return self.dir_fd(parent, create=create), name

    def resolve(self, path: str, *, follow: bool = True) -> str:
        """``path`` with every symlink resolved inside the root (the last one too when ``follow``);
        components that do not exist are kept as they are."""
        todo = [p for p in path.split("/") if p not in ("", ".")][::-1]
        parts: list[str] = []
        hops = 0
        while todo:
            name = todo.pop()
            if name == "..":
                if parts:
                    parts.pop()
                continue
            cur = "/".join(parts)
            try:
                pfd = self.dir_fd(cur)
                st = os.stat(name, dir_fd=pfd, follow_symlinks=False)
            except (FileNotFoundError, NotADirectoryError):
                return "/".join([*parts, name, *reversed(todo)])
            if stat.S_ISLNK(st.st_mode) and (todo or follow):
                hops += 1
                if hops > MAX_SYMLINKS:
                    raise UnsafeEntryError(f"{path}: too many levels of symbolic links")
                target = os.readlink(name, dir_fd=pfd)
                if target.startswith("/"):
                    parts = []
                todo.extend(p for p in reversed(target.split("/")) if p not in ("", "."))
                continue
            parts.append(name)
        return "/".join(parts)


def safe_join(root: Path | str, path: str) -> Path:
    """The host path of ``path`` inside ``root`` with every symlink resolved inside the root.

    For display and for handing a path to tools; to read or write, use :func:`open_in_root` (a path can
    change between resolving and opening when the tree is live, CVE-2018-15664)."""
    with RootDir(root) as rd:
        rel = rd.resolve(path)
    return Path(root, rel) if rel else Path(root)


def open_in_root(root: Path | str, path: str, flags: int = os.O_RDONLY, mode: int = 0o644, *,
                 follow: bool = True) -> int:
    """Open ``path`` inside ``root`` (symlinks resolved inside the root, per component, O_NOFOLLOW);
    with ``follow`` a final symlink is followed inside the root too. Returns a new fd (O_CLOEXEC)."""
    with RootDir(root) as rd:
        rel = clean(path)
        for _ in range(MAX_SYMLINKS):
            if not rel:
                return os.dup(rd.root_fd) if not flags & (os.O_WRONLY | os.O_RDWR) else \
                    os.open(".", flags | os.O_CLOEXEC, dir_fd=rd.root_fd)
            pfd, name = rd.parent(rel, create=False)
            try:
                return os.open(name, flags | os.O_NOFOLLOW | os.O_CLOEXEC, mode, dir_fd=pfd)
            except OSError as e:
                if e.errno != errno.ELOOP or not follow:
                    raise
                rel = rd.resolve(_clamp_join(rd.real(rel.rpartition("/")[0]), os.readlink(name, dir_fd=pfd)),
                                 follow=False)
        raise UnsafeEntryError(f"{path}: too many levels of symbolic links")
