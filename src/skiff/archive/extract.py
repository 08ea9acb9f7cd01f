"""Writing entries into a root folder, safely: the engine of apply_layer and copy_into_root.

Every entry's parent is resolved inside the root (rootfs.RootDir); the last component is created with
*at() calls that never follow it (O_CREAT|O_EXCL|O_NOFOLLOW, mkdirat, symlinkat, linkat without
AT_SYMLINK_FOLLOW). Whiteouts follow the OCI layer spec: ``.wh.NAME`` removes NAME from lower layers,
``.wh..wh..opq`` hides every lower entry of its folder, and neither touches entries of the same layer, so
the order of entries inside a layer does not matter (SECURITY.md #34). In overlay mode whiteouts become
overlayfs ones (char device 0/0, xattr trusted.overlay.opaque=y) instead of deletions.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import Protocol

from skiff.archive import tarfmt
from skiff.archive.errors import ArchiveError, UnsafeEntryError
from skiff.archive.rootfs import RootDir, clean
from skiff.archive.tarfmt import Entry
from skiff.records import dataclass, field

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"
OVERLAY_OPAQUE_XATTR = "trusted.overlay.opaque"
_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class Reader(Protocol):
    def read(self, n: int) -> bytes: ...


@dataclass
class ExtractOptions:
    """How an :class:`Extractor` writes: overlay whiteouts, device nodes, and ownership (kept or forced)."""

    overlay_whiteouts: bool = False
    allow_devices: bool = False
    chown: bool | None = None  # None: when running as root
    uid: int | None = None  # force every entry's owner (COPY --chown)
    gid: int | None = None
    whiteouts: bool = True  # False: ``.wh.`` names are plain files (`cp`, as Docker's Untar)


@dataclass
class ExtractStats:
    """What an :class:`Extractor` has done: entries applied, and device nodes it did not create."""

    entries: int = 0
    skipped: list[str] = field(default_factory=list)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


class Extractor:
    """Applies entries one at a time; call :meth:`finish` at the end (sets folder times, closes fds)."""

    def __init__(self, dest: Path | str, opts: ExtractOptions | None = None) -> None:
        self.opts = opts or ExtractOptions()
        self.rd = RootDir(dest)
        self.stats = ExtractStats()
        self._created: set[str] = set()
        self._ancestors: set[str] = {""}
        self._dir_times: list[tuple[str, int]] = []
        self._umask = _umask()
        root = os.geteuid() == 0
        self._chown = root if self.opts.chown is None else self.opts.chown
        self._devices = self.opts.allow_devices and root
        self._euid, self._egid = os.geteuid(), os.getegid()

    def __enter__(self) -> Extractor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.rd.close()

    # ---- bookkeeping -------------------------------------------------------------------------------
    def _mark(self, path: str) -> None:
        self._created.add(path)
        parent = path.rpartition("/")[0]
        anc = self._ancestors
        while parent not in anc:
            anc.add(parent)
            parent = parent.rpartition("/")[0]

    def _ours(self, path: str) -> bool:
        return path in self._created or path in self._ancestors

    def _remove(self, pfd: int, name: str, path: str) -> None:
        try:
            st = os.stat(name, dir_fd=pfd, follow_symlinks=False)
        except FileNotFoundError:
            return
        if stat.S_ISDIR(st.st_mode):
            import shutil  # only when an entry replaces a folder (a whiteout, or a file over a folder)

            try:
                shutil.rmtree(name, dir_fd=pfd)
            except RecursionError:
                raise ArchiveError(f"{path}: folder too deep to remove") from None
        else:
            os.unlink(name, dir_fd=pfd)
        self.rd.invalidate(path)  # may close pfd: callers resolve the parent again

    def _owner(self, e: Entry) -> tuple[int, int]:
        return (e.uid if self.opts.uid is None else self.opts.uid,
                e.gid if self.opts.gid is None else self.opts.gid)

    # ---- entries -----------------------------------------------------------------------------------
    def add(self, e: Entry, data: Reader | None = None, link: str | None = None) -> None:
        """Apply one entry; a regular file's ``e.size`` bytes are read from ``data``. With ``link`` (a path to
        an immutable file, e.g. in a store layer) a regular file is hard-linked to it instead when that file
        already has exactly the entry's type, size, owner, mode, mtime (seconds) and no xattrs."""
        name = e.name
        if (not name or name[0] in "./" or "/." in name or "//" in name or name[-1] == "/"
                or "\0" in name):
            path = clean(name, "tar entry")
        else:
            path = name  # already clean: the common case, skips the split
        self.rd.trim()
        self.stats.entries += 1
        base = path.rpartition("/")[2]
        if base.startswith(WHITEOUT) and self.opts.whiteouts:
            self._skip_data(e, data)
            self._whiteout(path, base, e)
            return
        if not path:
            if e.type != tarfmt.DIR:
                raise UnsafeEntryError(f"tar entry {e.name!r}: only a folder may stand for the root")
            self._skip_data(e, data)
            return
        try:
            t = e.type
            if t == tarfmt.REG:
                if link is None or not self._link(path, e, link):
                    self._file(path, e, data)
            elif t == tarfmt.DIR:
                self._dir(path, e)
            elif t == tarfmt.SYM:
                self._symlink(path, e)
            elif t == tarfmt.LNK:
                self._hardlink(path, e)
            elif t in (tarfmt.CHR, tarfmt.BLK, tarfmt.FIFO):
                self._node(path, e)
            else:
                raise ArchiveError(f"tar entry {e.name!r}: unsupported entry type {t!r}")
        except NotADirectoryError:
            raise ArchiveError(f"tar entry {e.name!r}: a parent is not a folder") from None
        except ArchiveError:
            raise
        except OSError as err:
            raise ArchiveError(f"tar entry {e.name!r}: {err.strerror or err}") from None
        self._mark(path)

    def _skip_data(self, e: Entry, data: Reader | None) -> None:
        left = e.size if e.type == tarfmt.REG else 0
        while left > 0 and data is not None:
            chunk = data.read(min(left, 1 << 20))
            if not chunk:
                raise ArchiveError(f"tar entry {e.name!r}: truncated content")
            left -= len(chunk)

    def _meta_fd(self, fd: int, e: Entry, created_mode: int | None) -> None:
        """Owner and mode as the entry says, checked against what the kernel made: under a set-group-ID
        folder a new entry takes the folder's group (and a new folder its set-group-ID bit), so neither the
        creator's ids nor the mode given at creation can be assumed."""
        uid, gid = self._owner(e)
        mode = e.mode & 0o7777
        st = os.fstat(fd)
        if self._chown and (st.st_uid, st.st_gid) != (uid, gid):
            os.fchown(fd, uid, gid)
            created_mode = None  # chown clears set-id bits
        if created_mode is None or stat.S_IMODE(st.st_mode) != mode:
            os.fchmod(fd, mode)
        if e.xattrs:
            for k, v in e.xattrs.items():
                if k.startswith("trusted.overlay."):
                    continue
                os.setxattr(fd, k, v)

    def _file(self, path: str, e: Entry, data: Reader | None) -> None:
        pfd, name = self.rd.parent(path, create=True)
        mode = e.mode & 0o777
        try:
            fd = os.open(name, _FILE_FLAGS, mode, dir_fd=pfd)
        except FileExistsError:
            self._remove(pfd, name, path)
            pfd, name = self.rd.parent(path, create=True)
            fd = os.open(name, _FILE_FLAGS, mode, dir_fd=pfd)
        try:
            left = e.size
            while left > 0:
                chunk = data.read(min(left, 1 << 20)) if data is not None else b""
                if not chunk:
                    raise ArchiveError(f"tar entry {e.name!r}: truncated content")
                left -= len(chunk)
                view = memoryview(chunk)
                while view:
                    view = view[os.write(fd, view):]
            self._meta_fd(fd, e, mode)
            os.utime(fd, ns=(e.mtime * 1_000_000_000, e.mtime * 1_000_000_000))
        finally:
            os.close(fd)

    def _link(self, path: str, e: Entry, source: str) -> bool:
        try:
            st = os.lstat(source)
        except OSError:
            return False
        uid, gid = self._owner(e)
        if (not stat.S_ISREG(st.st_mode) or st.st_size != e.size or stat.S_IMODE(st.st_mode) != e.mode & 0o7777
                or (st.st_uid, st.st_gid) != (uid, gid) or int(st.st_mtime) != e.mtime or e.xattrs
                or (self._chown is False and (uid, gid) != (self._euid, self._egid))):
            return False
        pfd, name = self.rd.parent(path, create=True)
        try:
            os.link(source, name, dst_dir_fd=pfd, follow_symlinks=False)
        except FileExistsError:
            self._remove(pfd, name, path)
            pfd, name = self.rd.parent(path, create=True)
            os.link(source, name, dst_dir_fd=pfd, follow_symlinks=False)
        except OSError as err:
            if err.errno in (errno.EXDEV, errno.EPERM, errno.EMLINK):
                return False  # another file system, protected_hardlinks, too many links: copy instead
            raise
        return True

    def _dir(self, path: str, e: Entry) -> None:
        pfd, name = self.rd.parent(path, create=True)
        mode: int | None = e.mode & 0o777
        try:
            os.mkdir(name, e.mode & 0o777, dir_fd=pfd)
        except FileExistsError:
            st = os.stat(name, dir_fd=pfd, follow_symlinks=False)
            if not stat.S_ISDIR(st.st_mode):
                self._remove(pfd, name, path)
                pfd, name = self.rd.parent(path, create=True)
                os.mkdir(name, e.mode & 0o777, dir_fd=pfd)
            else:
                mode = None
        fd = os.open(name, _DIR_FLAGS, dir_fd=pfd)
        self.rd.remember(path, fd)
        self._meta_fd(fd, e, mode)
        self._dir_times.append((path, e.mtime))

    def _symlink(self, path: str, e: Entry) -> None:
        pfd, name = self.rd.parent(path, create=True)
        try:
            os.symlink(e.linkname, name, dir_fd=pfd)
        except FileExistsError:
            self._remove(pfd, name, path)
            pfd, name = self.rd.parent(path, create=True)
            os.symlink(e.linkname, name, dir_fd=pfd)
        uid, gid = self._owner(e)
        if self._chown:  # a set-group-ID folder gives a new link its group: compare with what was made
            st = os.stat(name, dir_fd=pfd, follow_symlinks=False)
            if (st.st_uid, st.st_gid) != (uid, gid):
                os.chown(name, uid, gid, dir_fd=pfd, follow_symlinks=False)
        if e.xattrs:
            lpath = f"/proc/self/fd/{pfd}/{name}"
            for k, v in e.xattrs.items():
                if not k.startswith("trusted.overlay."):
                    os.setxattr(lpath, k, v, follow_symlinks=False)
        t = e.mtime * 1_000_000_000
        os.utime(name, ns=(t, t), dir_fd=pfd, follow_symlinks=False)

    def _hardlink(self, path: str, e: Entry) -> None:
        target = clean(e.linkname, f"tar entry {e.name!r}: hard link target")
        if not target:
            raise UnsafeEntryError(f"tar entry {e.name!r}: hard link to the root")
        if target == path:
            return
        try:
            tpfd, tname = self.rd.parent(target)
            st = os.stat(tname, dir_fd=tpfd, follow_symlinks=False)
        except (FileNotFoundError, NotADirectoryError):
            raise ArchiveError(f"tar entry {e.name!r}: hard link target {e.linkname!r} not found") from None
        if stat.S_ISDIR(st.st_mode):
            raise UnsafeEntryError(f"tar entry {e.name!r}: hard link to folder {e.linkname!r}")
        pfd, name = self.rd.parent(path, create=True)
        tpfd, tname = self.rd.parent(target)
        try:
            os.link(tname, name, src_dir_fd=tpfd, dst_dir_fd=pfd, follow_symlinks=False)
        except FileExistsError:
            self._remove(pfd, name, path)
            pfd, name = self.rd.parent(path, create=True)
            tpfd, tname = self.rd.parent(target)
            os.link(tname, name, src_dir_fd=tpfd, dst_dir_fd=pfd, follow_symlinks=False)

    def _node(self, path: str, e: Entry) -> None:
        if e.type != tarfmt.FIFO and not self._devices:
            self.stats.skipped.append(path)
            return
        pfd, name = self.rd.parent(path, create=True)
        kind = {tarfmt.CHR: stat.S_IFCHR, tarfmt.BLK: stat.S_IFBLK, tarfmt.FIFO: stat.S_IFIFO}[e.type]
        dev = os.makedev(e.devmajor, e.devminor) if e.type != tarfmt.FIFO else 0
        try:
            os.mknod(name, kind | (e.mode & 0o777), dev, dir_fd=pfd)
        except FileExistsError:
            self._remove(pfd, name, path)
            pfd, name = self.rd.parent(path, create=True)
            os.mknod(name, kind | (e.mode & 0o777), dev, dir_fd=pfd)
        uid, gid = self._owner(e)
        if self._chown:  # see _meta_fd: a set-group-ID folder gives the node its group
            st = os.stat(name, dir_fd=pfd, follow_symlinks=False)
            if (st.st_uid, st.st_gid) != (uid, gid):
                os.chown(name, uid, gid, dir_fd=pfd, follow_symlinks=False)
        os.chmod(name, e.mode & 0o7777, dir_fd=pfd)  # just made by mknod: not a symlink
        t = e.mtime * 1_000_000_000
        os.utime(name, ns=(t, t), dir_fd=pfd, follow_symlinks=False)

    # ---- whiteouts ---------------------------------------------------------------------------------
    def _whiteout(self, path: str, base: str, e: Entry) -> None:
        parent = path.rpartition("/")[0]
        if base == OPAQUE:
            self._opaque(parent)
            return
        if base.startswith(WHITEOUT + WHITEOUT):
            return  # aufs metadata (.wh..wh.plnk, .wh..wh.aufs): ignored, as Docker does
        victim = base[len(WHITEOUT):]
        if victim in ("", ".", ".."):
            raise UnsafeEntryError(f"tar entry {e.name!r}: whiteout without a valid name")
        target = f"{parent}/{victim}" if parent else victim
        if self._ours(target):
            return  # whiteouts only hide lower layers
        if self.opts.overlay_whiteouts:
            pfd, name = self.rd.parent(target, create=True)
            self._remove(pfd, name, target)
            pfd, name = self.rd.parent(target, create=True)
            os.mknod(name, stat.S_IFCHR | 0o600, 0, dir_fd=pfd)
            uid, gid = self._owner(e)
            if self._chown:  # see _meta_fd: a set-group-ID folder gives the node its group
                st = os.stat(name, dir_fd=pfd, follow_symlinks=False)
                if (st.st_uid, st.st_gid) != (uid, gid):
                    os.chown(name, uid, gid, dir_fd=pfd, follow_symlinks=False)
            self._mark(target)
            return
        try:
            pfd, name = self.rd.parent(target)
        except (FileNotFoundError, NotADirectoryError):
            return
        self._remove(pfd, name, target)

    def _opaque(self, folder: str) -> None:
        if self.opts.overlay_whiteouts:
            fd = self.rd.dir_fd(folder, create=True)
            os.setxattr(fd, OVERLAY_OPAQUE_XATTR, b"y")
            return
        try:
            if folder:  # a link in the folder's place is not descended into (Docker walks without following it)
                pfd, last = self.rd.parent(folder)
                if stat.S_ISLNK(os.stat(last, dir_fd=pfd, follow_symlinks=False).st_mode):
                    return
            fd = self.rd.dir_fd(folder)
            for name in os.listdir(fd):
                child = f"{folder}/{name}" if folder else name
                if not self._ours(child):
                    self._remove(fd, name, child)
                    fd = self.rd.dir_fd(folder)
        except (FileNotFoundError, NotADirectoryError):
            return

    def finish(self) -> None:
        """Set folder times (children first changed them) and release every fd."""
        try:
            for path, mtime in reversed(self._dir_times):
                try:
                    fd = self.rd.dir_fd(path)
                except OSError:
                    continue
                t = mtime * 1_000_000_000
                os.utime(fd, ns=(t, t))
                self.rd.trim()
        finally:
            self.rd.close()

