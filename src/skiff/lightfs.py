"""Writing files that are caches (checked on every read), without ext4's flush on rename-over; and temporary
files and folders without importing tempfile.

ext4 (auto_da_alloc, on by default) writes a file's data back before it is renamed over an existing file or
after an existing file is truncated to zero: ~2-4 ms per write here, which a `skiff build` or `skiff run`
would pay several times. A cache file does not need that guarantee: its readers validate what they read and
treat anything else as a miss. :func:`replace_cache` writes the new content under a temporary name, unlinks
the old file and renames the new one into the free name: a reader sees the old file, no file, or the whole
new one (never a partial one), and nothing is flushed. Records that must survive a crash keep
write + fsync + rename-over (skiff.store.blobs.atomic_write).
"""

from __future__ import annotations

import os


def replace_cache(path: str | os.PathLike[str], data: bytes) -> None:
    """Put ``data`` at ``path`` (whole; not fsynced). Raises OSError as ``open`` does; no temp file is left."""
    path = os.fspath(path)
    tmp = f"{path}.{os.getpid()}.{os.urandom(4).hex()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
    try:
        try:
            _write_all(fd, data)
        finally:
            os.close(fd)
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        os.rename(tmp, path)  # into a free name: no flush (if another writer got there first, it replaces)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def mkstemp(dir: str | os.PathLike[str], prefix: str = "tmp-") -> tuple[int, str]:
    """``tempfile.mkstemp`` without importing tempfile (which imports shutil, random and, through shutil,
    bz2 and lzma: several ms of every build's start-up): a new file, mode 0600, open for reading and writing."""
    for _ in range(100):
        path = os.path.join(dir, f"{prefix}{os.urandom(6).hex()}")
        try:
            return os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600), path
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name in {os.fspath(dir)}")  # pragma: no cover


def mkdtemp(dir: str | os.PathLike[str], prefix: str = "tmp-") -> str:
    """``tempfile.mkdtemp`` without importing tempfile: a new folder, mode 0700."""
    for _ in range(100):
        path = os.path.join(dir, f"{prefix}{os.urandom(6).hex()}")
        try:
            os.mkdir(path, 0o700)
            return path
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name in {os.fspath(dir)}")  # pragma: no cover


def remove_tree(path: str | os.PathLike[str], *, strict: bool = False) -> None:
    """Remove a folder of ours and what is left in it (nothing when it is gone), without importing shutil:
    the walk goes through folder descriptors opened with O_NOFOLLOW, so, like ``shutil.rmtree``, it never
    follows a symbolic link, even one swapped in during the walk. What it cannot remove is left to
    ``shutil.rmtree`` (ignore_errors), or with ``strict`` raises OSError."""
    try:
        os.rmdir(path)
        return
    except FileNotFoundError:
        return
    except OSError:
        pass
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
        try:
            _empty(fd)
        finally:
            os.close(fd)
        os.rmdir(path)
        return
    except FileNotFoundError:
        return
    except OSError:
        if strict:
            raise
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def _entries(fd: int) -> list[tuple[str, bool]]:
    with os.scandir(fd) as it:
        return [(e.name, e.is_dir(follow_symlinks=False)) for e in it]


def _empty(top: int) -> None:
    """Remove everything in the folder open at ``top``: a loop, not recursion (a tree may be deeper than
    Python's recursion limit), holding one descriptor per level."""
    stack = [(top, _entries(top))]
    names: list[str] = []  # each open level's name in its parent
    try:
        while stack:
            fd, todo = stack[-1]
            if not todo:
                stack.pop()
                if stack:
                    os.close(fd)
                    os.rmdir(names.pop(), dir_fd=stack[-1][0])
                continue
            name, is_dir = todo.pop()
            if not is_dir:
                os.unlink(name, dir_fd=fd)
                continue
            sub = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd)
            try:
                entries = _entries(sub)
            except BaseException:
                os.close(sub)
                raise
            names.append(name)
            stack.append((sub, entries))
    finally:
        for fd, _ in stack[1:]:
            os.close(fd)


def copy_file(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
    """Copy a regular file's content to a new file ``dst`` (mode 0600; the caller sets mode, owner and
    times), as ``shutil.copyfile`` does on Linux (sendfile) but without importing shutil. Neither path may
    be a symbolic link (O_NOFOLLOW); a file already at ``dst`` is replaced (a later COPY source wins)."""
    fin = os.open(src, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        try:
            fout = os.open(dst, flags, 0o600)
        except FileExistsError:
            os.unlink(dst)
            fout = os.open(dst, flags, 0o600)
        try:
            size = os.fstat(fin).st_size
            offset = 0
            try:
                while True:
                    n = os.sendfile(fout, fin, offset, max(size - offset, 1 << 20))
                    if n == 0:
                        break
                    offset += n
            except OSError:
                if offset:  # part sent: a plain copy from the same point
                    os.lseek(fin, offset, os.SEEK_SET)
                while chunk := os.read(fin, 1 << 20):
                    _write_all(fout, chunk)
        finally:
            os.close(fout)
    finally:
        os.close(fin)


class TemporaryFolder:
    """``tempfile.TemporaryDirectory`` without importing tempfile: ``with TemporaryFolder(dir) as path``."""

    def __init__(self, dir: str | os.PathLike[str], prefix: str = "tmp-") -> None:
        self.name = mkdtemp(dir=dir, prefix=prefix)

    def __enter__(self) -> str:
        return self.name

    def __exit__(self, *exc: object) -> None:
        remove_tree(self.name)
