"""copy_into_root: host files into a root folder with the extractor's guarantees (for `cp` and COPY/ADD).

The destination and every parent are resolved inside the root per component with O_NOFOLLOW (never
realpath-then-open), so a symlink planted in the container cannot redirect the write (CVE-2018-15664,
CVE-2019-10152). Symlinks in the source are copied as symlinks, never followed.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from skiff.archive.errors import ArchiveError
from skiff.archive.extract import ExtractOptions, Extractor
from skiff.archive.rootfs import clean
from skiff.archive.walk import Walker


def copy_into_root(src: Path, root: Path, dest: str, *, uid: int | None = None, gid: int | None = None,
                   chown: bool | None = None) -> int:
    """Copy ``src`` (file, symlink or folder) into ``root`` at ``dest``; returns the number of entries.

    A folder's *content* goes into ``dest`` (created if missing), like COPY. A file goes to ``dest``, or
    into it when ``dest`` ends with ``/`` or is an existing folder. ``uid``/``gid`` force the owner
    (``--chown``); otherwise owners are kept when running as root."""
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
                    with open(item.source, "rb") as f:
                        ex.add(item.entry, f)
                else:
                    ex.add(item.entry)
        except NotADirectoryError:
            raise ArchiveError(f"{dest}: a parent of the destination is not a folder") from None
        finally:
            ex.finish()
        return ex.stats.entries


def _is_dir(ex: Extractor, rel: str) -> bool:
    try:
        ex.rd.dir_fd(rel)
    except (FileNotFoundError, NotADirectoryError):
        return False
    return True
