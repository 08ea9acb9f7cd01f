"""Writers, undo and garbage collection.

Writers (load, import, save, commit, pull, bootstrap) hold ROOT/locks/gc.lock SHARED for their whole run (they
write blobs, then unpack, then add the image record; and keep temp files in ROOT/tmp). ``collect`` takes it
EXCLUSIVE without waiting: when it gets it, no writer is active, so blobs and layers that no image or container
uses, and everything in ROOT/tmp (left by killed commands), can go. When it does not, it skips this time.
gc.lock comes before every lock in store/lock.py's LOCK ORDER; the non-blocking try cannot deadlock.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from skiff.errors import SkiffError
from skiff.lightfs import remove_tree
from skiff.oci.digest import Digest
from skiff.store.lock import IMAGES

if TYPE_CHECKING:
    from skiff.store.drivers.base import Driver
    from skiff.store.store import Store


def _open_lock(root: Path) -> int:
    path = root / "locks" / "gc.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)


@contextlib.contextmanager
def writing(root: Path) -> Iterator[None]:
    """Shared hold of gc.lock; re-entrant (each call opens its own file description)."""
    fd = _open_lock(root)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)


def all_drivers(store: Store) -> list[Driver]:
    from skiff.store.drivers.overlay import OverlayDriver
    from skiff.store.drivers.vfs import VfsDriver

    return [OverlayDriver(store.root, store.runroot), VfsDriver(store.root, store.runroot)]


def referenced(store: Store) -> tuple[set[str], set[str]]:
    """(chain IDs, blob digests) that image records or containers' read-write layers use."""
    records = store.images.load()
    chains = {c for r in records for c in r.chain_ids}
    for drv in all_drivers(store):
        for cid in drv.container_ids():
            with contextlib.suppress(OSError, SkiffError):
                chains |= {"sha256:" + p.parent.name for p in drv.lower_dirs(cid)}
    blobs = {b for r in records for b in (r.id, r.manifest, *r.layer_blobs)}
    return chains, blobs


def discard_layers(store: Store, chains: list[str]) -> None:
    if chains:
        with store.locks[IMAGES].exclusive():
            used, _ = referenced(store)
            store.layers.remove([c for c in chains if c not in used])


def discard_blobs(store: Store, digests: list[str]) -> None:
    if digests:
        with store.locks[IMAGES].exclusive():
            _, used = referenced(store)
            used |= {r.blob for r in store.layers.records() if r.blob}
            for d in digests:
                if d not in used:
                    store.blobs.delete(Digest(d))


def collect(store: Store) -> tuple[list[str], list[str]]:
    fd = _open_lock(store.root)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return [], []
        if store.tmp.is_dir():
            for name in os.listdir(store.tmp):
                p = store.tmp / name
                if p.is_dir() and not p.is_symlink():
                    remove_tree(p)
                else:
                    p.unlink(missing_ok=True)
        with store.locks[IMAGES].exclusive():
            keep_layers, keep_blobs = referenced(store)
            removed_layers = store.layers.remove_unused(keep_layers)
            keep_blobs |= {r.blob for r in store.layers.records() if r.blob}
            removed_blobs = []
            for d in list(store.blobs.list()):
                if str(d) not in keep_blobs:
                    store.blobs.delete(d)
                    removed_blobs.append(str(d))
            return removed_layers, removed_blobs
    finally:
        os.close(fd)
