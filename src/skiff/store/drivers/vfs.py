"""vfs driver: each container gets a full copy of its image's layers (no mounts); the fallback where overlayfs
is not available (chosen automatically and reported by `skiff info`).

Per container: ROOT/vfs-containers/<id>/{rootfs,lower}; ``lower`` lists the layer folders, lowest first.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from skiff.store.drivers.base import Change, StorageError, check_id
from skiff.store.drivers.tree import diff_tree, make_init_layer, merge_layer
from skiff.store.lock import CONTAINERS, LockFile


class VfsDriver:
    name = "vfs"

    def __init__(self, root: Path, runroot: Path, fallback_reason: str | None = None) -> None:
        self.lock = LockFile(root / "locks" / f"{CONTAINERS}.lock")
        self.dir = root / "vfs-containers"
        self.runroot = runroot
        self.fallback_reason = fallback_reason

    def _c(self, container_id: str) -> Path:
        return self.dir / check_id(container_id)

    def exists(self, container_id: str) -> bool:
        return (self._c(container_id) / "lower").is_file()

    def container_ids(self) -> list[str]:
        return sorted(n for n in os.listdir(self.dir) if not n.startswith(".")) if self.dir.is_dir() else []

    def create_rw(self, container_id: str, layers: list[Path], *, volatile: bool = False,
                  init: tuple[str, ...] = ()) -> Path:
        with self.lock.exclusive():
            c = self._c(container_id)
            if c.exists():
                raise StorageError(f"container {container_id} already has a read-write layer")
            tmp = self.dir / f".tmp-{container_id}"
            shutil.rmtree(tmp, ignore_errors=True)
            (tmp / "rootfs").mkdir(parents=True, mode=0o755)
            try:
                for layer in layers:
                    merge_layer(layer, tmp / "rootfs")
                lowers = list(layers)
                if init:  # the init layer is copied in like the others and diffed against like them
                    make_init_layer(tmp / "init", layers, init)
                    merge_layer(tmp / "init", tmp / "rootfs")
                    lowers.append(c / "init")
            except OSError as e:
                shutil.rmtree(tmp, ignore_errors=True)
                raise StorageError(f"copying layers for container {container_id} failed: {e}") from None
            (tmp / "lower").write_text("\n".join(str(p) for p in lowers))
            os.rename(tmp, c)
            return c / "rootfs"

    def lower_dirs(self, container_id: str) -> list[Path]:
        text = (self._c(container_id) / "lower").read_text()
        return [Path(p) for p in text.split("\n") if p]

    def upper_dir(self, container_id: str) -> Path:
        return self._c(container_id) / "rootfs"

    def mount(self, container_id: str) -> Path:
        with self.lock.exclusive():
            if not self.exists(container_id):
                raise StorageError(f"container {container_id} has no read-write layer")
            return self._c(container_id) / "rootfs"

    def unmount(self, container_id: str) -> None:
        with self.lock.exclusive():
            return None

    def remove(self, container_id: str) -> None:
        with self.lock.exclusive():
            shutil.rmtree(self._c(container_id), ignore_errors=True)

    def diff(self, container_id: str) -> list[Change]:
        return diff_tree(self.upper_dir(container_id), self.lower_dirs(container_id))

    def status(self) -> list[tuple[str, str]]:
        out = [("Backing Filesystem", "copy")]
        if self.fallback_reason:
            out.append(("Fallback Reason", self.fallback_reason))
        return out
