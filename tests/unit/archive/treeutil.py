"""Test helpers: snapshot a tree exactly, and build raw (possibly hostile) tars by hand."""

from __future__ import annotations

import hashlib
import io
import os
import stat
from pathlib import Path

from skiff.archive import tarfmt
from skiff.archive.tarfmt import Entry


def snapshot(root: Path, *, dir_mtimes: bool = True) -> dict[str, tuple[object, ...]]:
    """path -> (kind, mode, uid, gid, mtime, content/target/dev, xattrs, hardlink group)."""
    out: dict[str, tuple[object, ...]] = {}
    inodes: dict[int, str] = {}
    for dirpath, dirs, files in os.walk(root):
        for name in sorted(dirs + files):
            p = os.path.join(dirpath, name)
            rel = os.path.relpath(p, root)
            st = os.lstat(p)
            fmt = stat.S_IFMT(st.st_mode)
            if stat.S_ISREG(st.st_mode):
                data: object = hashlib.sha256(Path(p).read_bytes()).hexdigest()
            elif stat.S_ISLNK(st.st_mode):
                data = os.readlink(p)
            elif stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
                data = st.st_rdev
            else:
                data = None
            try:
                xa = {n: os.getxattr(p, n, follow_symlinks=False)
                      for n in os.listxattr(p, follow_symlinks=False) if not n.startswith("security.selinux")}
            except OSError:
                xa = {}
            group = None
            if not stat.S_ISDIR(st.st_mode) and st.st_nlink > 1:
                group = inodes.setdefault(st.st_ino, rel)
            mtime = int(st.st_mtime) if (dir_mtimes or not stat.S_ISDIR(st.st_mode)) else None
            out[rel] = (fmt, stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid, mtime, data,
                        tuple(sorted(xa.items())), group)
    return out


def raw_tar(*members: tuple[Entry, bytes] | Entry, end: bool = True) -> bytes:
    """A tar made of exactly these headers (no checks at all: hostile names welcome)."""
    buf = io.BytesIO()
    for m in members:
        e, data = (m, b"") if isinstance(m, Entry) else m
        if data:
            e.size = len(data)
        buf.write(tarfmt.encode_header(e))
        buf.write(data + bytes(tarfmt.padding(len(data))))
    if end:
        buf.write(bytes(1024))
    return buf.getvalue()


def reg(name: str, data: bytes = b"x", **kw: object) -> tuple[Entry, bytes]:
    return Entry(name=name, type=tarfmt.REG, size=len(data), **kw), data  # type: ignore[arg-type]


def dirent(name: str, **kw: object) -> Entry:
    return Entry(name=name, type=tarfmt.DIR, mode=0o755, **kw)  # type: ignore[arg-type]


def sym(name: str, target: str) -> Entry:
    return Entry(name=name, type=tarfmt.SYM, mode=0o777, linkname=target)


def hard(name: str, target: str) -> Entry:
    return Entry(name=name, type=tarfmt.LNK, linkname=target)
