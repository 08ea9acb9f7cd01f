"""A stage's layers on disk: unpacked in the store, mounted for one step, and new layers made from a folder.

A new layer's folder (a RUN step's overlay upper dir, or the folder COPY staged) is *adopted* into the layer
store as that layer's unpacked form instead of being unpacked again from the blob just written: the store's
``LayerStore.ensure`` takes an unpacker, and :class:`_Adopt` is one that moves the folder in place.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from skiff.build.builder.cache import LayerRef
from skiff.build.builder.rootview import RootView, resolve_user
from skiff.errors import SkiffError
from skiff.lightfs import mkdtemp, mkstemp, remove_tree

if TYPE_CHECKING:
    from skiff.build.builder.executor import Builder
    from skiff.build.builder.state import StageState


def layer_dirs(b: Builder, state: StageState) -> list[Path]:
    """The stage's layers unpacked in the store (bottom first), unpacking any not yet there."""
    return dirs_of(b, state.layers)


def dirs_of(b: Builder, layers: list[LayerRef]) -> list[Path]:
    from skiff.store.layers import LayerSource

    if not layers:
        return []
    recs = b.store.layers.ensure([LayerSource(lr.diff_id, lr.blob, lr.media_type) for lr in layers],
                                 b.store.blobs.open, b.store._unpacker())
    return [b.store.layers.diff_dir(r.chain_id) for r in recs]


class _Adopt:
    """A LayerUnpacker that moves an already-built folder into place (same file system) instead of reading
    the blob; falls back to unpacking when the folder cannot be moved."""

    def __init__(self, src: Path, diff_id: str, fallback: object) -> None:
        self.src = src
        self.diff_id = diff_id
        self.fallback = fallback

    def __call__(self, stream: BinaryIO, media_type: str, dest: Path) -> tuple[str, int]:
        try:
            os.rmdir(dest)
            os.rename(self.src, dest)
        except OSError:
            dest.mkdir(exist_ok=True)
            return self.fallback(stream, media_type, dest)  # type: ignore[operator, no-any-return]
        size = 0  # as apply_layer's content_size (moby's directory.Size): a hard link counted once
        seen: set[int] = set()
        for dirpath, _dirs, files in os.walk(dest):
            for n in files:
                with contextlib.suppress(OSError):
                    st = os.lstat(os.path.join(dirpath, n))
                    if st.st_nlink > 1:
                        if st.st_ino in seen:
                            continue
                        seen.add(st.st_ino)
                    size += st.st_size
        return self.diff_id, size


def add_layer_from(b: Builder, state: StageState, src: Path, mode: str, *, adopt: bool = True) -> None:
    """Archive ``src`` as the stage's next layer (``mode``: ``dir`` or ``overlay-upper``); with ``adopt`` the
    folder itself becomes the unpacked layer (it is moved away: the caller must not need it afterwards)."""
    from skiff.archive import create_layer
    from skiff.store.layers import LayerSource

    tmpdir = tmp_dir(b)
    fd, blob = mkstemp(dir=tmpdir, prefix="layer-")
    try:
        with os.fdopen(fd, "wb") as out:
            res = create_layer(src, out, compression="gzip", mode=mode,  # type: ignore[arg-type]
                               source_date_epoch=b.opts.source_date_epoch)
        with open(blob, "rb") as f:
            d = b.store.put_blob(f, res.digest, res.size, res.media_type, what="layer")
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(blob)
    ref = LayerRef(str(res.diff_id), d.digest, d.media_type, d.size)
    state.add_layer(ref)
    if adopt and b.opts.source_date_epoch is None and (mode == "dir" or _plain_overlay()):
        sources = [LayerSource(lr.diff_id, lr.blob, lr.media_type) for lr in state.layers]
        b.store.layers.ensure(sources, b.store.blobs.open, _Adopt(src, ref.diff_id, b.store._unpacker()))


def _plain_overlay() -> bool:
    """An upper dir is a plain layer folder only without overlay's redirect_dir and metacopy features (they
    leave xattrs that would change meaning in a lower layer); otherwise the layer is unpacked from its blob."""
    for feature in ("redirect_dir", "metacopy"):
        try:
            with open(f"/sys/module/overlay/parameters/{feature}") as f:
                if f.read().strip() not in ("N", "n", "0"):
                    return False
        except OSError:
            return False
    return True


def tmp_dir(b: Builder) -> Path:
    d = b.store.root / "tmp"
    d.mkdir(parents=True, exist_ok=True)
    return d


@contextlib.contextmanager
def mounted(b: Builder, state: StageState) -> Iterator[tuple[str, Path]]:
    """A read-write overlay of the stage's layers for one step; removed afterwards."""
    with mounted_layers(b, state.layers) as (cid, root):
        yield cid, root


@contextlib.contextmanager
def mounted_layers(b: Builder, layers: list[LayerRef]) -> Iterator[tuple[str, Path]]:
    drv = b.store.driver
    cid = "build-" + os.urandom(10).hex()
    drv.create_rw(cid, dirs_of(b, layers), volatile=True)
    try:
        root = drv.mount(cid)
        try:
            yield cid, root
        finally:
            drv.unmount(cid)
    finally:
        drv.remove(cid)


@contextlib.contextmanager
def overlay_over(b: Builder, lower: Path) -> Iterator[Path]:
    """A throw-away writable overlay over a host folder (``RUN --mount=type=bind,rw`` of the context: writes
    are discarded, the context is never changed)."""
    from skiff.store.drivers.base import MNT_DETACH, sys_mount, sys_umount

    base = Path(mkdtemp(dir=tmp_dir(b), prefix="bindrw-"))
    try:
        for n in ("upper", "work", "merged"):
            (base / n).mkdir()
        sys_mount("overlay", str(base / "merged"), "overlay", 0,
                  f"lowerdir={lower},upperdir={base / 'upper'},workdir={base / 'work'}")
        try:
            yield base / "merged"
        finally:
            sys_umount(str(base / "merged"), MNT_DETACH)
    finally:
        import shutil

        shutil.rmtree(base, ignore_errors=True)


def reader(root: Path):  # type: ignore[no-untyped-def]
    """A reader of image files inside a mounted root that never follows a link out of it."""
    from skiff.archive import open_in_root

    def read(path: str) -> bytes | None:
        try:
            fd = open_in_root(root, path, os.O_RDONLY | os.O_NONBLOCK)
        except (OSError, SkiffError):
            return None
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return None
            return os.read(fd, 4 << 20)
        finally:
            os.close(fd)

    return read


# -- WORKDIR ---------------------------------------------------------------------------------------------
def ensure_dir(b: Builder, state: StageState, path: str) -> bool:
    """Create ``path`` in a layer when the image lacks it; True when a layer was added."""
    view = RootView(layer_dirs(b, state))
    if view.is_dir(path):
        return False
    uid, gid, _ = resolve_user(view.read, state.config.config.user or "root", where="WORKDIR")
    tmp = mkdtemp(dir=tmp_dir(b))
    try:
        stage = Path(tmp) / "layer"
        mkdirs(stage, path, view, uid, gid)
        add_layer_from(b, state, stage, "dir")
    finally:
        remove_tree(tmp)
    return True


def mkdirs(stage: Path, path: str, view: RootView, uid: int, gid: int) -> None:
    """Create ``path``'s folders in ``stage``; those the image has keep the image's owner, mode and mtime."""
    stage.mkdir(exist_ok=True)
    cur = stage
    rel = ""
    for part in [p for p in path.strip("/").split("/") if p]:
        rel = f"{rel}/{part}"
        cur = cur / part
        if cur.exists():
            continue
        cur.mkdir()
        src = view._find(rel)
        if src is not None and src.is_dir():
            st = os.lstat(src)
            os.chown(cur, st.st_uid, st.st_gid)
            os.chmod(cur, stat.S_IMODE(st.st_mode))
            os.utime(cur, ns=(st.st_atime_ns, st.st_mtime_ns))
        else:
            os.chown(cur, uid, gid)
            os.chmod(cur, 0o755)
