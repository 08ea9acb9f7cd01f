"""The storage driver interface (containers/storage's drivers/driver.go), the choice between drivers, and the
small mount helpers both use.

A driver keeps each container's read-write layer on top of the image's unpacked layers (``LayerStore`` folders,
lowest first). Container IDs are the caller's; they must be plain names (no ``/``). The containers work calls:

  create_rw(container_id, layers, init=) -> Path   the container's writable layer (not mounted yet), and with
                                            ``init`` the mount targets the image lacks in a layer under it
  mount(container_id) -> Path               the rootfs, mounted if needed (idempotent: checks mountinfo)
  unmount(container_id)                     idempotent
  remove(container_id)                      unmount and delete everything of the container
  diff(container_id) -> list[Change]        for `docker diff` (kinds C, A, D as Docker prints them)
  upper_dir(container_id) -> Path           overlay: the upper dir (overlay whiteouts); vfs: the full rootfs
  lower_dirs(container_id) -> list[Path]    the image layers under it, lowest first (commit diffs vfs against them)
"""

from __future__ import annotations

import ctypes
import os
import re
from pathlib import Path

from skiff.errors import InvalidArgumentError, SkiffError
from skiff.records import dataclass

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from typing import Protocol
else:  # the protocols are only read by type checkers
    Protocol = object

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


class StorageError(SkiffError):
    """A mount, unmount or copy in the storage driver failed."""


@dataclass(frozen=True, order=True)
class Change:
    """One entry of `skiff diff`: a path changed (``C``), added (``A``) or deleted (``D``) in a container."""

    path: str
    kind: str  # "C" changed, "A" added, "D" deleted (Docker's letters)

    def __str__(self) -> str:
        return f"{self.kind} {self.path}"


class Driver(Protocol):
    name: str

    def create_rw(self, container_id: str, layers: list[Path], *, volatile: bool = False,
                  init: tuple[str, ...] = ()) -> Path: ...
    def mount(self, container_id: str) -> Path: ...
    def unmount(self, container_id: str) -> None: ...
    def remove(self, container_id: str) -> None: ...
    def diff(self, container_id: str) -> list[Change]: ...
    def upper_dir(self, container_id: str) -> Path: ...
    def lower_dirs(self, container_id: str) -> list[Path]: ...
    def exists(self, container_id: str) -> bool: ...
    def container_ids(self) -> list[str]: ...
    def status(self) -> list[tuple[str, str]]: ...


def check_id(container_id: str) -> str:
    if not _ID.match(container_id):
        raise InvalidArgumentError(f"invalid container ID for the storage driver: {container_id!r}")
    return container_id


# ---- mount helpers (libc through ctypes; store sits below engine, and kernel/ has no mount wrapper yet) ----

_libc: ctypes.CDLL | None = None
MNT_DETACH = 2


def _lib() -> ctypes.CDLL:
    global _libc  # a cached handle to libc, not state: loading it twice gives the same library
    if _libc is None:
        try:  # the soname first: find_library runs ldconfig in a subprocess (~10 ms per command)
            _libc = ctypes.CDLL("libc.so.6", use_errno=True)
        except OSError:
            from ctypes.util import find_library

            _libc = ctypes.CDLL(find_library("c") or "libc.so.6", use_errno=True)
    return _libc


def sys_mount(source: str, target: str, fstype: str, flags: int, data: str) -> None:
    rc = _lib().mount(source.encode(), target.encode(), fstype.encode(), ctypes.c_ulong(flags), data.encode())
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err), target)


def sys_umount(target: str, flags: int = 0) -> None:
    rc = _lib().umount2(target.encode(), flags)
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err), target)


def is_mountpoint(path: Path) -> bool:
    """True when ``path`` is a mount point in our mount namespace (read from /proc/self/mountinfo)."""
    want = os.path.realpath(path)
    with open("/proc/self/mountinfo", "rb") as f:
        for line in f:
            parts = line.split(b" ", 5)
            if len(parts) > 4 and _unescape(parts[4]) == want:
                return True
    return False


def _unescape(field: bytes) -> str:
    return re.sub(rb"\\([0-7]{3})", lambda m: bytes([int(m.group(1), 8)]), field).decode(errors="surrogateescape")


def overlay_supported(probe_dir: Path) -> tuple[bool, str]:
    """Try a real overlay mount under ``probe_dir`` (same file system as the store); (ok, reason)."""
    try:
        with open("/proc/filesystems") as f:
            if "overlay" not in f.read():
                return False, "the kernel has no overlay file system"
    except OSError as e:
        return False, str(e)
    import shutil
    import tempfile

    probe_dir.mkdir(parents=True, exist_ok=True)
    d = Path(tempfile.mkdtemp(dir=probe_dir, prefix="overlay-probe-"))
    try:
        for n in ("lower", "upper", "work", "merged"):
            (d / n).mkdir()
        try:
            sys_mount("overlay", str(d / "merged"), "overlay", 0,
                      f"lowerdir={d / 'lower'},upperdir={d / 'upper'},workdir={d / 'work'}")
        except OSError as e:
            return False, f"overlay mount failed on {probe_dir}: {e.strerror}"
        sys_umount(str(d / "merged"), MNT_DETACH)
        return True, "overlay mount works"
    finally:
        shutil.rmtree(d, ignore_errors=True)


def choose(name: str | None, root: Path, runroot: Path) -> Driver:
    """The driver named ``name`` ("overlay" or "vfs"), or overlay when it works here and vfs otherwise.

    The probe's answer is kept in RUNROOT/storage-probe (cleared at reboot, since /run is a tmpfs)."""
    from skiff.store.drivers.overlay import OverlayDriver

    if name in ("vfs",):
        from skiff.store.drivers.vfs import VfsDriver

        return VfsDriver(root, runroot)
    if name not in (None, "", "overlay", "overlay2"):
        raise InvalidArgumentError(f"unknown storage driver {name!r} (want overlay or vfs)")
    cache = runroot / "storage-probe"
    try:
        answer = cache.read_text().split("\n", 1)
    except FileNotFoundError:
        ok, why = overlay_supported(root / "overlay-probe")
        answer = ["overlay" if ok else "vfs", why]
        runroot.mkdir(parents=True, exist_ok=True)
        cache.write_text("\n".join(answer))
    if answer[0] == "overlay":
        return OverlayDriver(root, runroot)
    if name:
        raise StorageError(f"storage driver overlay is not usable: {answer[-1]}")
    from skiff.store.drivers.vfs import VfsDriver

    return VfsDriver(root, runroot, fallback_reason=answer[-1])
