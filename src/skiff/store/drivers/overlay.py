"""overlayfs driver: the image's layer folders as lower dirs, a per-container upper dir, mounted by skiff.

Per container: ROOT/overlay-containers/<id>/{diff,work,merged,lower} and, for a container, ``init`` (the
mount targets the image lacks, the top lower dir). ``lower`` holds the lower dirs as
short names relative to ROOT/overlay (``l/<short>:l/<short>``, highest first, as overlayfs wants). The mount
uses absolute paths when the options fit in a page; otherwise mount(8) runs with ROOT/overlay as its working
folder and gets the short relative names (our own process never changes folder).
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from skiff.lightfs import remove_tree
from skiff.store.drivers.base import (
    MNT_DETACH,
    Change,
    StorageError,
    check_id,
    is_mountpoint,
    sys_mount,
    sys_umount,
)
from skiff.store.drivers.tree import diff_upper, make_init_layer
from skiff.store.lock import CONTAINERS, LockFile

PAGE = os.sysconf("SC_PAGESIZE")


class OverlayDriver:
    name = "overlay"

    def __init__(self, root: Path, runroot: Path) -> None:
        self.lock = LockFile(root / "locks" / f"{CONTAINERS}.lock")
        self.layers_dir = root / "overlay"
        self.dir = root / "overlay-containers"
        self.runroot = runroot

    def _c(self, container_id: str) -> Path:
        return self.dir / check_id(container_id)

    def exists(self, container_id: str) -> bool:
        return (self._c(container_id) / "lower").is_file()

    def container_ids(self) -> list[str]:
        return sorted(os.listdir(self.dir)) if self.dir.is_dir() else []

    def _short(self, layer: Path) -> str:
        """``ROOT/overlay/<hex>/diff`` -> ``l/<short>`` (the link LayerStore made)."""
        from skiff.store.layers import SHORT

        if layer.parent.parent != self.layers_dir or layer.name != "diff":
            raise StorageError(f"{layer} is not a layer folder of this store")
        return "l/" + layer.parent.name[:SHORT]

    def create_rw(self, container_id: str, layers: list[Path], *, volatile: bool = False,
                  init: tuple[str, ...] = ()) -> Path:
        """``volatile``: mount with overlayfs' `volatile` option (no syncs, so unmount is instant: ~0.1 ms
        against 60-160 ms here). For layers that do not outlive a crash anyway: `run --rm`, build steps.
        ``init``: the mount targets the image lacks go into an init layer above it (tree.make_init_layer)."""
        with self.lock.exclusive():
            c = self._c(container_id)
            if c.exists():
                raise StorageError(f"container {container_id} already has a read-write layer")
            tmp = self.dir / f".tmp-{container_id}"
            remove_tree(tmp)
            tmp.mkdir(parents=True)
            for n in ("diff", "work", "merged"):
                (tmp / n).mkdir(mode=0o755)
            if layers:
                lower = ":".join(self._short(p) for p in reversed(layers))
            else:
                (self.layers_dir / "empty").mkdir(parents=True, exist_ok=True)
                lower = "empty"
            if init:
                make_init_layer(tmp / "init", layers, init)
                lower = f"../overlay-containers/{container_id}/init:{lower}"  # relative to ROOT/overlay, as the rest
            (tmp / "lower").write_text(lower)
            if volatile:
                (tmp / "volatile").touch()
            os.rename(tmp, c)
            return c / "merged"

    def lower_dirs(self, container_id: str) -> list[Path]:
        names = (self._c(container_id) / "lower").read_text().split(":")
        return [(self.layers_dir / n).resolve() for n in reversed(names)]

    def upper_dir(self, container_id: str) -> Path:
        return self._c(container_id) / "diff"

    def mount(self, container_id: str) -> Path:
        with self.lock.exclusive():
            c = self._c(container_id)
            merged = c / "merged"
            if not (c / "lower").is_file():
                raise StorageError(f"container {container_id} has no read-write layer")
            if is_mountpoint(merged):
                return merged
            lowers = (c / "lower").read_text().split(":")
            absolute = ":".join(str(self.layers_dir / n) for n in lowers)
            opts = f"lowerdir={absolute},upperdir={c / 'diff'},workdir={c / 'work'}"
            if (c / "volatile").exists():
                # a volatile mount that was not unmounted cleanly leaves work/work/incompat/volatile behind and
                # the kernel then refuses the upper dir until it is cleared
                remove_tree(c / "work" / "work" / "incompat")
                opts += ",volatile"
            if Path("/sys/module/overlay/parameters/index").exists():
                opts += ",index=off"
            try:
                if len(opts) < PAGE - 1:
                    try:
                        sys_mount("overlay", str(merged), "overlay", 0, opts)
                    except OSError as e:
                        if e.errno != errno.EINVAL or ",volatile" not in opts:
                            raise
                        opts = opts.replace(",volatile", "")  # a kernel older than 5.10
                        sys_mount("overlay", str(merged), "overlay", 0, opts)
                else:
                    rel = opts.replace(f"lowerdir={absolute}", "lowerdir=" + ":".join(lowers))
                    if len(rel) >= PAGE - 1:
                        raise StorageError(f"container {container_id}: {len(lowers)} layers are too many for one "
                                           "overlay mount; use --storage-driver vfs")
                    import subprocess

                    r = subprocess.run(["mount", "-t", "overlay", "overlay", "-o", rel, str(merged)],
                                       cwd=self.layers_dir, capture_output=True, text=True)
                    if r.returncode != 0:
                        raise StorageError(f"overlay mount of {merged} failed: {r.stderr.strip()}")
            except OSError as e:
                raise StorageError(f"overlay mount of {merged} failed: {e.strerror}") from None
            return merged

    def unmount(self, container_id: str) -> None:
        with self.lock.exclusive():
            merged = self._c(container_id) / "merged"
            while is_mountpoint(merged):
                try:
                    sys_umount(str(merged))
                except OSError as e:
                    if e.errno == errno.EBUSY:
                        sys_umount(str(merged), MNT_DETACH)
                    elif e.errno != errno.EINVAL:
                        raise StorageError(f"unmount of {merged} failed: {e.strerror}") from None

    def remove(self, container_id: str) -> None:
        with self.lock.exclusive():
            c = self._c(container_id)
            if not c.exists():
                return
            self.unmount(container_id)
            remove_tree(c, strict=True)

    def diff(self, container_id: str) -> list[Change]:
        return diff_upper(self.upper_dir(container_id), self.lower_dirs(container_id))

    def status(self) -> list[tuple[str, str]]:
        return [("Backing Filesystem", _fs_type(self.layers_dir)), ("Supports d_type", "true"),
                ("Native Overlay Diff", "true")]


def _fs_type(path: Path) -> str:
    p = os.path.realpath(path if path.exists() else path.parent)
    best, fstype = "", "unknown"
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            mnt = left.split(" ")[4]
            if (p == mnt or p.startswith(mnt.rstrip("/") + "/")) and len(mnt) >= len(best):
                best, fstype = mnt, right.split(" ")[0]
    return fstype
