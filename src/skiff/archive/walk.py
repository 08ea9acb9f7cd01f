"""Walking a folder into tar entries: a whole tree, an overlay upper dir, or the difference of two trees.

Order is depth-first with each folder's names sorted (as Go's filepath.Walk), so a folder always comes
before its content and the same tree always gives the same stream. Hard links inside the walk become link
entries to the first path seen; xattrs are kept except ``trusted.overlay.*`` (overlay's own bookkeeping,
turned into OCI whiteouts in overlay-upper mode) and ``security.selinux`` (a host label).
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Collection, Iterator

from skiff.archive import tarfmt
from skiff.archive.errors import ArchiveError
from skiff.archive.extract import OPAQUE, OVERLAY_OPAQUE_XATTR, WHITEOUT
from skiff.archive.tarfmt import Entry
from skiff.records import dataclass

_SKIP_XATTR = ("trusted.overlay.", "security.selinux")
_SUBDIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


@dataclass(slots=True)
class Item:
    """An entry to write, and the host file holding a regular file's content (None otherwise)."""

    entry: Entry
    source: str | None


def xattrs_of(path: str) -> dict[str, bytes] | None:
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError:
        return None
    if not names:
        return None
    out = {}
    for n in names:
        if n.startswith(_SKIP_XATTR):
            continue
        try:
            out[n] = os.getxattr(path, n, follow_symlinks=False)
        except OSError:
            continue
    return out or None


class Walker:
    def __init__(self, *, source_date_epoch: int | None = None, overlay_upper: bool = False) -> None:
        self.sde = source_date_epoch
        self.overlay_upper = overlay_upper
        self._links: dict[tuple[int, int], str] = {}

    def entry(self, rel: str, path: str, st: os.stat_result) -> Item:
        mode = st.st_mode
        mtime = int(st.st_mtime)
        if self.sde is not None and mtime > self.sde:
            mtime = self.sde
        e = Entry(name=rel, mode=stat.S_IMODE(mode), uid=st.st_uid, gid=st.st_gid, mtime=mtime,
                  xattrs=xattrs_of(path))
        fmt = stat.S_IFMT(mode)
        if fmt != stat.S_IFDIR and st.st_nlink > 1:
            key = (st.st_dev, st.st_ino)
            first = self._links.get(key)
            if first is not None:
                e.type, e.linkname = tarfmt.LNK, first
                return Item(e, None)
            self._links[key] = rel
        if fmt == stat.S_IFREG:
            e.size = st.st_size
            return Item(e, path)
        if fmt == stat.S_IFDIR:
            e.type = tarfmt.DIR
        elif fmt == stat.S_IFLNK:
            e.type, e.linkname = tarfmt.SYM, os.readlink(path)
        elif fmt in (stat.S_IFCHR, stat.S_IFBLK):
            e.type = tarfmt.CHR if fmt == stat.S_IFCHR else tarfmt.BLK
            e.devmajor, e.devminor = os.major(st.st_rdev), os.minor(st.st_rdev)
        elif fmt == stat.S_IFIFO:
            e.type = tarfmt.FIFO
        else:
            raise ArchiveError(f"{path}: cannot archive a socket or unknown file type")
        return Item(e, None)

    def whiteout(self, rel_parent: str, name: str, st: os.stat_result | None) -> Item:
        rel = f"{rel_parent}/{WHITEOUT}{name}" if rel_parent else WHITEOUT + name
        mtime = 0 if st is None else int(st.st_mtime)
        if self.sde is not None and mtime > self.sde:
            mtime = self.sde
        return Item(Entry(name=rel, mode=0o600, mtime=mtime,
                          uid=0 if st is None else st.st_uid, gid=0 if st is None else st.st_gid), None)

    def tree(self, top: str, prefix: str = "") -> Iterator[Item]:
        """Every entry below ``top`` (not ``top`` itself), names prefixed with ``prefix``."""
        stack = [(top, prefix, iter(_listdir(top)))]
        overlay = self.overlay_upper
        while stack:
            d, rel_d, names = stack[-1]
            name = next(names, None)
            if name is None:
                stack.pop()
                continue
            path = f"{d}/{name}"
            rel = f"{rel_d}/{name}" if rel_d else name
            st = os.lstat(path)
            if overlay and stat.S_ISCHR(st.st_mode) and st.st_rdev == 0:
                yield self.whiteout(rel_d, name, st)
                continue
            item = self.entry(rel, path, st)
            yield item
            if item.entry.type == tarfmt.DIR:
                if overlay:
                    try:
                        opq = os.getxattr(path, OVERLAY_OPAQUE_XATTR, follow_symlinks=False)
                    except OSError:
                        opq = b""
                    if opq == b"y":
                        yield Item(Entry(name=f"{rel}/{OPAQUE}", mode=0o600, uid=st.st_uid, gid=st.st_gid,
                                         mtime=item.entry.mtime), None)
                stack.append((path, rel, iter(_listdir(path))))

    def tree_at(self, top: int, prefix: str = "", *, skip_devs: Collection[int] = ()) -> Iterator[Item]:
        """Every entry below the open folder ``top`` (not ``top`` itself), for a tree that may be live and
        hostile (a container's, for `cp`): each name is looked up and opened relative to its folder's fd and
        never followed, so a folder swapped for a symlink mid-walk cannot lead outside. Entries that vanish
        mid-walk and sockets are left out (as Docker's tar does). A folder on one of ``skip_devs`` (the
        container's proc, sysfs, devpts... mounts) is listed but not entered, and other entries on them are
        left out. A regular file's ``source`` (``/proc/self/fd/N/name``) names it only until the walk leaves
        its folder: read it before asking for the next item, and open it with O_NOFOLLOW."""
        stack: list[tuple[int, str, Iterator[str]]] = [(os.dup(top), prefix, iter(_listdir_fd(top, prefix)))]
        try:
            while stack:
                dfd, rel_d, names = stack[-1]
                name = next(names, None)
                if name is None:
                    os.close(stack.pop()[0])
                    continue
                rel = f"{rel_d}/{name}" if rel_d else name
                try:
                    st = os.stat(name, dir_fd=dfd, follow_symlinks=False)
                    if stat.S_ISSOCK(st.st_mode):
                        continue
                    is_dir = stat.S_ISDIR(st.st_mode)
                    if st.st_dev in skip_devs and not is_dir:
                        continue
                    item = self.entry(rel, f"/proc/self/fd/{dfd}/{name}", st)
                    sub = -1
                    if is_dir and st.st_dev not in skip_devs:
                        sub = os.open(name, _SUBDIR_FLAGS, dir_fd=dfd)
                except (FileNotFoundError, NotADirectoryError):
                    continue  # removed or replaced since the folder was listed
                except OSError as e:
                    if e.errno == errno.ELOOP:
                        continue  # a folder replaced by a symlink since it was looked at: not followed
                    raise ArchiveError(f"{rel}: {e.strerror or e}") from None
                if sub < 0:
                    yield item
                    continue
                try:
                    names_sub = _listdir_fd(sub, rel)
                except BaseException:
                    os.close(sub)
                    raise
                stack.append((sub, rel, iter(names_sub)))
                yield item
        finally:
            for dfd, _, _ in stack:
                os.close(dfd)

    def diff(self, new: str, old: str) -> Iterator[Item]:
        """Entries that turn tree ``old`` into tree ``new`` (the vfs driver's diff): changed or added
        entries, and a whiteout for each removed one."""
        yield from self._diff_dir(new, old, "")

    def _diff_dir(self, new: str, old: str | None, rel_d: str) -> Iterator[Item]:
        names_new = _listdir(new)
        names_old = set(_listdir(old)) if old is not None else set()
        gone = names_old.difference(names_new)
        for name in sorted([*names_new, *gone]):
            rel = f"{rel_d}/{name}" if rel_d else name
            if name in gone:
                yield self.whiteout(rel_d, name, None)
                continue
            path = f"{new}/{name}"
            st = os.lstat(path)
            ost = None
            if name in names_old:
                assert old is not None
                ost = os.lstat(f"{old}/{name}")
            changed = ost is None or _changed(path, st, f"{old}/{name}", ost)
            if not stat.S_ISDIR(st.st_mode):
                if changed:
                    yield self.entry(rel, path, st)
                continue
            sub_old = f"{old}/{name}" if ost is not None and stat.S_ISDIR(ost.st_mode) else None
            if changed:
                yield self.entry(rel, path, st)
                yield from self._diff_dir(path, sub_old, rel)
                continue
            # an unchanged folder is written when something below it changed, so that applying the
            # layer restores its times (replacing a child touches the parent's mtime)
            below = list(self._diff_dir(path, sub_old, rel))
            if below:
                yield self.entry(rel, path, st)
                yield from below


def _listdir(d: str) -> list[str]:
    try:
        return sorted(os.listdir(d))
    except OSError as e:
        raise ArchiveError(f"{d}: cannot list: {e.strerror}") from None


def _listdir_fd(fd: int, rel: str) -> list[str]:
    try:
        return sorted(os.listdir(fd))
    except OSError as e:
        raise ArchiveError(f"{rel or '.'}: cannot list: {e.strerror}") from None


def _changed(path: str, st: os.stat_result, opath: str, ost: os.stat_result) -> bool:
    if (st.st_mode != ost.st_mode or st.st_uid != ost.st_uid or st.st_gid != ost.st_gid
            or st.st_rdev != ost.st_rdev):
        return True
    if not stat.S_ISDIR(st.st_mode) and (st.st_size != ost.st_size or st.st_mtime_ns != ost.st_mtime_ns):
        return True
    if stat.S_ISDIR(st.st_mode) and int(st.st_mtime) != int(ost.st_mtime):
        return True
    if stat.S_ISLNK(st.st_mode) and os.readlink(path) != os.readlink(opath):
        return True
    return xattrs_of(path) != xattrs_of(opath)
