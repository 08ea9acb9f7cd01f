"""File-tree helpers shared by the drivers: merge overlay-form layers into one folder (vfs), and compute
Docker-style changes (``docker diff``) of a folder or an overlay upper dir against its lower layers.

Layer folders keep whiteouts the way overlayfs does: a 0/0 character device hides a lower path, and the
``trusted.overlay.opaque=y`` attribute on a folder hides everything below it in lower layers.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

from skiff.store.drivers.base import Change

OPAQUE = "trusted.overlay.opaque"


def is_whiteout(st: os.stat_result) -> bool:
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == 0


def is_opaque(path: str) -> bool:
    try:
        return os.getxattr(path, OPAQUE, follow_symlinks=False) == b"y"
    except OSError:
        return False


def _remove(path: str) -> None:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISDIR(st.st_mode):
        import shutil

        shutil.rmtree(path)
    else:
        os.unlink(path)


def _copy_meta(src: str, dst: str, st: os.stat_result) -> None:
    os.lchown(dst, st.st_uid, st.st_gid)
    if not stat.S_ISLNK(st.st_mode):
        os.chmod(dst, stat.S_IMODE(st.st_mode))
    with contextlib.suppress(OSError):
        for name in os.listxattr(src, follow_symlinks=False):
            if not name.startswith("trusted.overlay."):
                os.setxattr(dst, name, os.getxattr(src, name, follow_symlinks=False), follow_symlinks=False)
    os.utime(dst, ns=(st.st_atime_ns, st.st_mtime_ns), follow_symlinks=False)


def merge_layer(layer: Path, dest: Path) -> None:
    """Apply one overlay-form layer folder onto ``dest`` (vfs: layers are applied lowest first)."""
    links: dict[tuple[int, int], str] = {}
    dir_meta: list[tuple[str, str, os.stat_result]] = []
    for top, dirs, files in os.walk(layer):
        rel = os.path.relpath(top, layer)
        dtop = os.path.normpath(os.path.join(dest, rel))
        for name in sorted(dirs) + sorted(files):
            s = os.path.join(top, name)
            d = os.path.join(dtop, name)
            st = os.lstat(s)
            if is_whiteout(st):
                _remove(d)
                continue
            if stat.S_ISDIR(st.st_mode):
                try:
                    dst_st = os.lstat(d)
                    if not stat.S_ISDIR(dst_st.st_mode):
                        _remove(d)
                        os.mkdir(d, 0o700)
                    elif is_opaque(s):
                        import shutil

                        shutil.rmtree(d)
                        os.mkdir(d, 0o700)
                except FileNotFoundError:
                    os.mkdir(d, 0o700)
                dir_meta.append((s, d, st))
                continue
            _remove(d)
            key = (st.st_dev, st.st_ino)
            if st.st_nlink > 1 and key in links:
                os.link(links[key], d)
                continue
            if stat.S_ISLNK(st.st_mode):
                os.symlink(os.readlink(s), d)
            elif stat.S_ISREG(st.st_mode):
                import shutil

                shutil.copyfile(s, d, follow_symlinks=False)
            elif stat.S_ISFIFO(st.st_mode):
                os.mkfifo(d)
            else:
                os.mknod(d, st.st_mode, st.st_rdev)
            _copy_meta(s, d, st)
            if st.st_nlink > 1:
                links[key] = d
    for s, d, st in reversed(dir_meta):
        _copy_meta(s, d, st)
    root_st = os.lstat(layer)
    os.chmod(dest, stat.S_IMODE(root_st.st_mode))


Entry = tuple[int, int, int, int, int, str]  # mode, size, mtime_ns, uid, gid, link target


def _entry(path: str, st: os.stat_result) -> Entry:
    target = os.readlink(path) if stat.S_ISLNK(st.st_mode) else ""
    mtime = 0 if stat.S_ISDIR(st.st_mode) else st.st_mtime_ns
    return (st.st_mode, 0 if stat.S_ISDIR(st.st_mode) else st.st_size, mtime, st.st_uid, st.st_gid, target)


def lower_view(layers: list[Path]) -> dict[str, Entry]:
    """The merged view of overlay-form layers: '/path' -> entry."""
    view: dict[str, Entry] = {}
    for layer in layers:
        base = str(layer)
        for top, dirs, files in os.walk(base):
            rel = "/" + os.path.relpath(top, base) if top != base else ""
            if rel and is_opaque(top):
                for k in [k for k in view if k.startswith(rel + "/")]:
                    del view[k]
            for name in dirs + files:
                p = os.path.join(top, name)
                key = f"{rel}/{name}"
                st = os.lstat(p)
                if is_whiteout(st):
                    view.pop(key, None)
                    for k in [k for k in view if k.startswith(key + "/")]:
                        del view[k]
                else:
                    if key in view and stat.S_ISDIR(view[key][0]) and not stat.S_ISDIR(st.st_mode):
                        for k in [k for k in view if k.startswith(key + "/")]:
                            del view[k]
                    view[key] = _entry(p, st)
    return view


def diff_tree(rootfs: Path, layers: list[Path]) -> list[Change]:
    """Changes of a full rootfs (vfs) against its lower layers."""
    view = lower_view(layers)
    seen: set[str] = set()
    changes: list[Change] = []
    base = str(rootfs)
    for top, dirs, files in os.walk(base):
        rel = "/" + os.path.relpath(top, base) if top != base else ""
        for name in dirs + files:
            p = os.path.join(top, name)
            key = f"{rel}/{name}"
            seen.add(key)
            st = os.lstat(p)
            old = view.get(key)
            if old is None:
                changes.append(Change(key, "A"))
            elif old != _entry(p, st) or (stat.S_ISDIR(st.st_mode) and _dir_changed(p, key, view)):
                changes.append(Change(key, "C"))
    gone = sorted(k for k in view if k not in seen)
    for k in gone:
        parent = k.rsplit("/", 1)[0]
        if parent and parent in view and parent not in seen:
            continue  # reported with its parent
        changes.append(Change(k, "D"))
    return sorted(changes)


def _dir_changed(path: str, key: str, view: dict[str, Entry]) -> bool:
    now = set(os.listdir(path))
    before = {k[len(key) + 1:] for k in view if k.startswith(key + "/") and "/" not in k[len(key) + 1:]}
    return now != before


def diff_upper(upper: Path, layers: list[Path]) -> list[Change]:
    """Changes recorded in an overlay upper dir (Docker's rules: copied-up folders show as changed)."""
    changes: list[Change] = []
    base = str(upper)
    for top, dirs, files in os.walk(base):
        rel = "/" + os.path.relpath(top, base) if top != base else ""
        for name in dirs + files:
            p = os.path.join(top, name)
            key = f"{rel}/{name}"
            st = os.lstat(p)
            if is_whiteout(st):
                changes.append(Change(key, "D"))
            elif _in_lower(key, layers):
                changes.append(Change(key, "C"))
            else:
                changes.append(Change(key, "A"))
    return sorted(changes)


def _in_lower(key: str, layers: list[Path]) -> bool:
    for layer in reversed(layers):
        p = str(layer) + key
        try:
            st = os.lstat(p)
        except (FileNotFoundError, NotADirectoryError):
            continue
        return not is_whiteout(st)
    return False
