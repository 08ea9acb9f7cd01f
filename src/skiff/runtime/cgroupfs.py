"""The ``cgroup`` mount type (runc's ``mountCgroupV1``/``mountCgroupV2``): /sys/fs/cgroup in the container shows
the container's own cgroups and nothing above them.

* A pure cgroup v2 host with a new cgroup namespace: cgroup2 is mounted afresh; the namespace's root is the
  container's cgroup, so that is the root of the mount.
* Otherwise (v1, hybrid, or v2 without a cgroup namespace): a tmpfs (mode 755) with the container's own folder
  of each hierarchy it joined bind-mounted under the hierarchy's name (``memory``, ``cpu,cpuacct``, ...,
  ``unified`` for the v2 tree of a hybrid host), symlinks for the controllers of merged hierarchies
  (``cpu -> cpu,cpuacct``), and the tmpfs remounted read-only when the mount is. On v2 without a cgroup
  namespace the container's cgroup2 folder is bound at the destination itself.

The parent (which knows the container's cgroups) computes a :class:`CgroupView`; the child mounts it before
pivot_root, while the host's cgroup folders are still reachable. Every bind is remounted with the spec's
flags (``ro,nosuid,noexec,nodev`` by default), so nothing under it is writable: ``release_agent`` lives only
at a hierarchy's root, which is never shown, and ``notify_on_release`` is on a read-only mount (SECURITY.md:
the cgroup ``release_agent`` escape).
"""

from __future__ import annotations

import os

from skiff.kernel import MS_BIND, MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_RDONLY, MS_REC, MS_REMOUNT, Kernel
from skiff.records import dataclass, field

TYPE_CHECKING = False
if TYPE_CHECKING:
    from skiff.oci.runtime import Mount

_TMPFS_FLAGS = MS_NOSUID | MS_NOEXEC | MS_NODEV


@dataclass(frozen=True)
class CgroupView:
    """What a ``cgroup`` mount shows: ``binds`` are (host folder, name under the mount; "" = the mount itself),
    ``links`` (name, target) symlinks; ``unified``: the host is pure cgroup v2."""

    unified: bool = False
    binds: list[tuple[str, str]] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)


def host_is_v2() -> bool:
    return os.path.exists("/sys/fs/cgroup/cgroup.controllers")


def mount_cgroup(kernel: Kernel, root: str, m: Mount, view: CgroupView | None, *, new_cgroupns: bool) -> None:
    """Mount ``m`` (type cgroup or cgroup2) inside ``root`` as the module docstring describes."""
    from skiff.runtime.rootfs import mount_in_root, open_in_root, parse_options

    flags, prop, _ = parse_options(m.options)
    flags &= ~(MS_BIND | MS_REC)
    dest = m.destination
    if view is None:  # no cgroup of its own: a private namespace's cgroup2 tree, else an empty folder
        view = CgroupView(unified=host_is_v2() and new_cgroupns)
    if view.unified and (new_cgroupns or not view.binds):
        mount_in_root(kernel, root, dest, "cgroup", "cgroup2", flags, None, "dir")
    elif view.unified:
        _bind(kernel, root, view.binds[0][0], dest, flags)
    else:
        mount_in_root(kernel, root, dest, "tmpfs", "tmpfs", _TMPFS_FLAGS, "mode=755", "dir")
        for src, name in view.binds:
            _bind(kernel, root, src, f"{dest}/{name}", flags)
        dfd = open_in_root(root, dest)
        try:
            for name, target in view.links:
                try:
                    os.symlink(target, name, dir_fd=dfd)
                except FileExistsError:
                    pass
        finally:
            os.close(dfd)
        if flags & MS_RDONLY:
            mount_in_root(kernel, root, dest, None, None, MS_REMOUNT | MS_BIND | MS_RDONLY | _TMPFS_FLAGS, None)
    if prop:
        mount_in_root(kernel, root, dest, None, None, prop, None)


def _bind(kernel: Kernel, root: str, source: str, dest: str, flags: int) -> None:
    from skiff.runtime.rootfs import mount_in_root

    sfd = os.open(source, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        mount_in_root(kernel, root, dest, f"/proc/self/fd/{sfd}", None, MS_BIND, None, "dir")
    finally:
        os.close(sfd)
    # walked again: the fd is then the new mount; the cgroup filesystem's own flags stay (nosuid...)
    mount_in_root(kernel, root, dest, None, None, MS_REMOUNT | MS_BIND | flags | _TMPFS_FLAGS, None)
