"""Writing files that are caches (checked on every read), without ext4's flush on rename-over.

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
