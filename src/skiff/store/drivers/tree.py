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


# What the runtime mounts over in every container (Docker's init layer, daemon/initlayer): a folder ends in /.
CONTAINER_INIT = ("dev/", "proc/", "sys/", "etc/hostname", "etc/hosts", "etc/resolv.conf")


def layered_stat(layers: list[Path], rel: str) -> os.stat_result | None:
    """``rel``'s entry in the merged view of overlay-form ``layers`` (lowest first), or None when absent. Each
    component is looked up only in the layers where its parent is a real folder (never through a symlink), with
    whiteouts and opaque folders applied. A parent that is not a folder gives None."""
    visible = [str(layer) for layer in reversed(layers)]
    parts = rel.strip("/").split("/")
    found: os.stat_result | None = None
    for i in range(len(parts)):
        sub = "/".join(parts[:i + 1])
        found, below = None, []
        for layer in visible:
            p = f"{layer}/{sub}"
            try:
                st = os.lstat(p)
            except (FileNotFoundError, NotADirectoryError):
                continue
            if found is None:
                if is_whiteout(st):
                    return None
                found = st
            elif is_whiteout(st) or not stat.S_ISDIR(st.st_mode):
                break  # the folders above hide it and everything under it
            if not stat.S_ISDIR(found.st_mode):
                break
            below.append(layer)
            if is_opaque(p):
                break
        if found is None or (i < len(parts) - 1 and not stat.S_ISDIR(found.st_mode)):
            return None
        visible = below
    return found


def make_init_layer(dest: Path, layers: list[Path], entries: tuple[str, ...] = CONTAINER_INIT) -> None:
    """Docker's init layer: empty mount targets (``entries``; a folder ends in /) that ``layers`` lack, made in
    ``dest`` (a new folder) for the container's layer stack to put above the image, so that the runtime's
    mount targets never land in the container's own layer (``diff``, ``commit``). Folders on the way copy
    the mode and owner that the image shows; an entry under something that is not a folder is left out."""
    dest.mkdir()
    os.chmod(dest, stat.S_IMODE(os.lstat(layers[-1]).st_mode) if layers else 0o755)
    for entry in entries:
        rel = entry.rstrip("/")
        if layered_stat(layers, rel) is not None:
            continue
        parts = rel.split("/")
        ok = True
        for i in range(1, len(parts)):
            sub = "/".join(parts[:i])
            if os.path.isdir(dest / sub):
                continue
            st = layered_stat(layers, sub)
            if st is not None and not stat.S_ISDIR(st.st_mode):
                ok = False
                break
            os.mkdir(dest / sub)
            if st is not None:
                os.chown(dest / sub, st.st_uid, st.st_gid)
                os.chmod(dest / sub, stat.S_IMODE(st.st_mode))
            else:
                os.chmod(dest / sub, 0o755)
        if not ok:
            continue
        if entry.endswith("/"):
            os.mkdir(dest / rel)
            os.chmod(dest / rel, 0o755)
        else:
            os.close(os.open(dest / rel, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644))
            os.chmod(dest / rel, 0o644)
