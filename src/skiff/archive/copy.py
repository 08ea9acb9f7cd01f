"""copy_into_root: host files into a root folder with the extractor's guarantees (for `cp` and COPY/ADD).

The destination and every parent are resolved inside the root per component with O_NOFOLLOW (never
realpath-then-open), so a symlink planted in the container cannot redirect the write (CVE-2018-15664,
CVE-2019-10152). Symlinks in the source are copied as symlinks, never followed.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from skiff.archive.errors import ArchiveError
from skiff.archive.extract import ExtractOptions, Extractor
from skiff.archive.rootfs import clean
from skiff.archive.walk import Walker


def copy_into_root(src: Path, root: Path, dest: str, *, uid: int | None = None, gid: int | None = None,
                   chown: bool | None = None, link_source: Callable[[str], str | None] | None = None) -> int:
    """Copy ``src`` (file, symlink or folder) into ``root`` at ``dest``; returns the number of entries.

    A folder's *content* goes into ``dest`` (created if missing), like COPY. A file goes to ``dest``, or
    into it when ``dest`` ends with ``/`` or is an existing folder. ``uid``/``gid`` force the owner
    (``--chown``); otherwise owners are kept when running as root. ``link_source`` maps a source file to an
    immutable file with the same content (a store layer's copy, when ``src`` is an overlay of layers) that
    may be hard-linked instead of copied when its metadata is already the copy's (see Extractor.add)."""
    src_s = os.fspath(src)
    try:
        st = os.lstat(src_s)
    except OSError as e:
        raise ArchiveError(f"{src_s}: {e.strerror}") from None
    target = clean(dest, "destination")
    walker = Walker()
    with Extractor(root, ExtractOptions(uid=uid, gid=gid, chown=chown)) as ex:
        try:
            if stat.S_ISDIR(st.st_mode):
                if target:
                    ex.rd.dir_fd(target, create=True)
                items = walker.tree(src_s, target)
            else:
                resolved = ex.rd.resolve(target)
                into = dest.endswith("/") or not target or _is_dir(ex, resolved)
                name = f"{target}/{os.path.basename(src_s)}" if into and target else (
                    os.path.basename(src_s) if into else target)
                items = iter([walker.entry(name, src_s, st)])
            for item in items:
                if item.source is not None:
                    link = link_source(item.source) if link_source is not None else None
                    if link is not None:
                        lazy = _Unread(item.source)
                        try:
                            ex.add(item.entry, lazy, link=link)
                        finally:
                            lazy.close()
                        continue
                    with open(item.source, "rb") as f:
                        ex.add(item.entry, f)
                else:
                    ex.add(item.entry)
        except NotADirectoryError:
            raise ArchiveError(f"{dest}: a parent of the destination is not a folder") from None
        finally:
            ex.finish()
        return ex.stats.entries


class _Unread:
    """A source opened only if the extractor copies after all (the hard link was refused)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.f: BinaryIO | None = None

    def read(self, n: int = -1) -> bytes:
        if self.f is None:
            self.f = open(self.path, "rb")  # noqa: SIM115 (closed by close())
        return self.f.read(n)

    def close(self) -> None:
        if self.f is not None:
            self.f.close()


def _is_dir(ex: Extractor, rel: str) -> bool:
    try:
        ex.rd.dir_fd(rel)
    except (FileNotFoundError, NotADirectoryError):
        return False
    return True
