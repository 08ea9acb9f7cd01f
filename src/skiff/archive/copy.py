"""copy_into_root: host files into a root folder with the extractor's guarantees (for `cp` and COPY/ADD).

The destination and every parent are resolved inside the root per component with O_NOFOLLOW (never
realpath-then-open), so a symlink planted in the container cannot redirect the write (CVE-2018-15664,
CVE-2019-10152). Symlinks in the source are copied as symlinks, never followed.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import BinaryIO

from skiff.archive.errors import ArchiveError, UnsafeEntryError
from skiff.archive.extract import ExtractOptions, Extractor
from skiff.archive.rootfs import RootDir, clean
from skiff.archive.walk import Item, Walker


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
                    with open_regular(item.source) as f:
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
            self.f = open_regular(self.path)
        return self.f.read(n)

    def close(self) -> None:
        if self.f is not None:
            self.f.close()


def open_regular(path: str) -> BinaryIO:
    """``path`` opened for reading, refused unless it is (still) a regular file: its last component is never
    followed (a name swapped for a symlink mid-copy is not read through) and a FIFO never blocks."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as e:
        raise ArchiveError(f"{path}: cannot read: {e.strerror}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise ArchiveError(f"{path}: no longer a regular file")
    return os.fdopen(fd, "rb")


def fill_items(ex: Extractor, items: Iterable[Item]) -> None:
    """Apply walked items (see Walker.tree_at), reading each regular file with :func:`open_regular`."""
    for item in items:
        if item.source is None:
            ex.add(item.entry)
            continue
        with open_regular(item.source) as f:
            ex.add(item.entry, f)


def fill_tar(ex: Extractor, stream: BinaryIO, top: str, *, what: str = "tar stream") -> None:
    """Apply a tar stream (plain, gzip or zstd) below folder ``top`` (clean, relative to the extractor's
    root): member names and hard-link targets may not climb above ``top``; a member for ``top`` itself is
    skipped (the folder's own metadata is kept)."""
    from skiff.archive import tarfmt
    from skiff.archive.apply import iter_entries
    from skiff.archive.compression import LayerReader

    reader = LayerReader(stream, what=what)
    try:
        for e in iter_entries(reader, what):
            rel = clean(e.name, "tar entry")
            if not rel:
                if e.type != tarfmt.DIR:
                    raise UnsafeEntryError(f"tar entry {e.name!r}: only a folder may stand for the destination")
                continue
            e.name = f"{top}/{rel}" if top else rel
            if e.type == tarfmt.LNK:
                link = clean(e.linkname, f"tar entry {rel!r}: hard link target")
                e.linkname = f"{top}/{link}" if top else link
            ex.add(e, reader)
        reader.finish()
    finally:
        reader.close()


def place(root: Path | str, target: str, fill: Callable[[Extractor, str], None], *, is_dir: bool,
          opts: ExtractOptions, shown: str) -> int:
    """Write one copy into ``root`` at ``target`` (clean, relative; its parent must exist), whole or not at all.

    ``fill(ex, top)`` adds every entry, named ``top`` and below. When ``target`` is an existing folder and
    the copy is one too, the entries are merged into it in place (as Docker does); otherwise they are written
    under a temporary sibling that is renamed over ``target`` at the end, or removed on failure. A folder
    never replaces a non-folder or the other way round (Docker's NoOverwriteDirNonDir, ``shown`` naming the
    destination). Returns the number of entries."""
    parent, _, name = target.rpartition("/")
    with RootDir(root) as rd:
        try:
            pfd = rd.dir_fd(parent)
            st: os.stat_result | None = os.stat(name, dir_fd=pfd, follow_symlinks=False) if name else os.fstat(pfd)
        except FileNotFoundError:
            st = None
        except NotADirectoryError:
            raise ArchiveError(f"{shown}: a parent is not a directory") from None
    exists_dir = st is not None and stat.S_ISDIR(st.st_mode)
    if exists_dir and not is_dir:
        raise ArchiveError(f'cannot overwrite directory "{shown}" with non-directory')
    if st is not None and not exists_dir and is_dir:
        raise ArchiveError(f'cannot overwrite non-directory "{shown}" with directory')
    if exists_dir:
        with Extractor(root, opts) as ex:
            try:
                fill(ex, target)
            finally:
                ex.finish()
            return ex.stats.entries
    tmp_name = f".{name}.skiff-cp-{os.getpid()}"
    tmp = f"{parent}/{tmp_name}" if parent else tmp_name
    try:
        with Extractor(root, opts) as ex:
            try:
                fill(ex, tmp)
            finally:
                ex.finish()
            entries = ex.stats.entries
        with RootDir(root) as rd:
            pfd = rd.dir_fd(parent)
            os.rename(tmp_name, name, src_dir_fd=pfd, dst_dir_fd=pfd)
    except BaseException:
        _remove_quietly(root, parent, tmp_name)
        raise
    return entries


def _remove_quietly(root: Path | str, parent: str, name: str) -> None:
    import contextlib
    import shutil

    with contextlib.suppress(OSError, ArchiveError), RootDir(root) as rd:
        pfd = rd.dir_fd(parent)
        st = os.stat(name, dir_fd=pfd, follow_symlinks=False)
        if stat.S_ISDIR(st.st_mode):
            shutil.rmtree(name, dir_fd=pfd)
        else:
            os.unlink(name, dir_fd=pfd)


def _is_dir(ex: Extractor, rel: str) -> bool:
    try:
        ex.rd.dir_fd(rel)
    except (FileNotFoundError, NotADirectoryError):
        return False
    return True
