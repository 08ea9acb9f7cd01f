"""A stopped container's file system as its process would see it, for `cp`: the rootfs with the container's
volumes and bind mounts on their destinations (Docker's containerFSView, moby ``daemon/containerfs_linux.go``).

The mounts live in a private mount namespace that no process runs in. A short-lived thread leaves the
process's namespace (``unshare(CLONE_FS|CLONE_NEWNS)`` moves only the calling thread), makes every mount in
it private so that nothing propagates back to the host, binds each mount, then hands back two fds and ends:
one on the namespace, which keeps its mounts alive, and one on the rootfs as that namespace sees it. Paths
through ``/proc/self/fd/N`` of the second cross into the volumes. Closing both tears the namespace down
with every mount in it, and so does the end of the process however it ends: nothing is mounted on the host.

Destinations are resolved inside the rootfs one component at a time (:func:`open_in_root`, missing mount
points made as the container's start makes them) and every mount goes through an fd opened once
(``/proc/self/fd/N``), so a symlink planted or swapped in the container cannot put a volume outside it.
A named volume's folder is opened without following a symlink; a bind source is opened once, as the
runtime opens it at start, and mounted from that fd. Mounts are made parents first; read-only ones are
remounted read-only, the mounts under them too. tmpfs mounts are left out, as Docker leaves them out (``setupMounts``): their paths
show the rootfs underneath.
"""

from __future__ import annotations

import contextlib
import os
import stat
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

from skiff.errors import SkiffError

if TYPE_CHECKING:
    from skiff.kernel import Kernel

    from .containers_model import MountPoint

_PATH_DIR = os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC


def view_mounts(mounts: list[MountPoint]) -> list[MountPoint]:
    """The mounts a view makes, parents first (Docker sorts by the number of path components)."""
    keep = [m for m in mounts if m.type in ("volume", "bind") and m.source and m.destination.strip("/")]
    return sorted(keep, key=lambda m: len([p for p in m.destination.split("/") if p]))


@contextlib.contextmanager
def mounted_view(rootfs: str, mounts: list[MountPoint], kernel: Kernel | None = None) -> Iterator[str]:
    """``rootfs`` with ``mounts`` on it, as a path (``/proc/self/fd/N``) valid until the block ends."""
    wanted = view_mounts(mounts)
    if not wanted:
        yield rootfs
        return
    if kernel is None:
        from skiff.kernel.linux import LinuxKernel

        kernel = LinuxKernel()
    fds = _in_private_namespace(kernel, rootfs, wanted)
    try:
        yield f"/proc/self/fd/{fds[1]}"
    finally:
        for fd in fds:
            os.close(fd)


def _in_private_namespace(kernel: Kernel, rootfs: str, mounts: list[MountPoint]) -> tuple[int, int]:
    """(namespace fd, rootfs fd), built in a thread of its own; its errors are raised here."""
    result: list[tuple[int, int]] = []
    failure: list[BaseException] = []

    def build() -> None:
        try:
            result.append(_build(kernel, rootfs, mounts))
        except BaseException as e:  # handed to the caller's thread
            failure.append(e)

    t = threading.Thread(target=build, name="skiff-cp-mounts")
    t.start()
    t.join()
    if failure:
        raise failure[0]
    return result[0]


def _build(kernel: Kernel, rootfs: str, mounts: list[MountPoint]) -> tuple[int, int]:
    from skiff.kernel import CLONE_FS, CLONE_NEWNS, MS_PRIVATE, MS_REC

    try:
        kernel.unshare(CLONE_FS | CLONE_NEWNS)
        kernel.mount(None, "/", None, MS_REC | MS_PRIVATE, None)
    except OSError as e:
        raise SkiffError(f"cannot make a private mount namespace for the container's volumes: {e.strerror}") \
            from None
    for m in mounts:
        _bind(kernel, rootfs, m)
    ns = os.open("/proc/thread-self/ns/mnt", os.O_RDONLY | os.O_CLOEXEC)
    try:
        return ns, os.open(rootfs, _PATH_DIR)
    except OSError:
        os.close(ns)
        raise


def _bind(kernel: Kernel, rootfs: str, m: MountPoint) -> None:
    from skiff.kernel import MOUNT_ATTR_RDONLY, MS_BIND, MS_RDONLY, MS_REC, MS_REMOUNT

    from .containers_paths import open_in_root

    nofollow = os.O_NOFOLLOW if m.type == "volume" else 0
    try:
        src = os.open(m.source, os.O_PATH | os.O_CLOEXEC | nofollow)
    except OSError as e:
        raise SkiffError(f"stat {m.source}: {_strerror(e)}") from None
    try:
        mode = os.fstat(src).st_mode
        if m.type == "volume" and not stat.S_ISDIR(mode):
            raise SkiffError(f"volume {m.name or m.source}: {m.source} is not a directory")
        try:
            dst = _mount_point(rootfs, m.destination, stat.S_ISDIR(mode))
            try:
                kernel.mount(f"/proc/self/fd/{src}", f"/proc/self/fd/{dst}", None, MS_BIND | MS_REC, None)
            finally:
                os.close(dst)
            if not m.rw:  # walked again: the fd must be the new mount's root, not the folder under it
                top = open_in_root(rootfs, m.destination)
                try:
                    kernel.mount(None, f"/proc/self/fd/{top}", None, MS_REMOUNT | MS_BIND | MS_RDONLY, None)
                    with contextlib.suppress(OSError):  # the mounts under it too (Linux 5.12), as at start
                        kernel.mount_setattr(top, MOUNT_ATTR_RDONLY, 0)
                finally:
                    os.close(top)
        except OSError as e:
            raise SkiffError(f"mount {m.source} on {m.destination}: {_strerror(e)}") from None
    finally:
        os.close(src)


def _mount_point(rootfs: str, dest: str, is_dir: bool) -> int:
    """An O_PATH fd on ``dest`` inside ``rootfs``, made when missing (a folder, or an empty file for a file)."""
    from .containers_paths import open_in_root

    if is_dir:
        return open_in_root(rootfs, dest, create_dirs=True)
    try:
        return open_in_root(rootfs, dest)
    except FileNotFoundError:
        pass
    parent = dest.rstrip("/").rpartition("/")[0] or "/"
    os.close(open_in_root(rootfs, parent, create_dirs=True))
    os.close(open_in_root(rootfs, dest, flags=os.O_WRONLY | os.O_CREAT))
    return open_in_root(rootfs, dest)


def _strerror(e: OSError) -> str:
    text = e.strerror or str(e)
    return text[:1].lower() + text[1:]
