"""The host's devices for a ``--privileged`` container (moby's ``oci.WithDevices`` with containerd's
``HostDevices``): every character and block device under /dev, with its mode and owner, skipping what Docker
skips, and the device cgroup rules Docker writes (allow all when privileged, deny all otherwise: the runtime
then allows only the devices it creates itself)."""

from __future__ import annotations

import os
import stat

from skiff.oci.runtime import LinuxDevice, LinuxDeviceCgroup

# Folders never walked (containerd's getDevices): other mounts and runtimes' private folders.
_SKIP_DIRS = frozenset({"pts", "shm", "fqueue", "mqueue", ".lxc", ".lxd-mounts", ".udev"})
# /dev/console is the container's own (its terminal); /dev/ptmx must stay the link to the container's devpts
# (the host's node would hand out ptys of the host's devpts instance).
_SKIP_FILES = frozenset({"console", "ptmx"})

ALLOW_ALL = LinuxDeviceCgroup(allow=True, access="rwm")
DENY_ALL = LinuxDeviceCgroup(allow=False, access="rwm")


def host_devices(root: str = "/dev") -> list[LinuxDevice]:
    """Character and block devices below ``root`` (symlinks, fifos, sockets and files left out), sorted."""
    out: list[LinuxDevice] = []
    _walk(root, "/dev", out, depth=0)
    return sorted(out, key=lambda d: d.path)


def _walk(host_dir: str, container_dir: str, out: list[LinuxDevice], depth: int) -> None:
    try:
        entries = list(os.scandir(host_dir))
    except OSError:
        return
    for e in entries:
        try:
            st = e.stat(follow_symlinks=False)
        except OSError:
            continue  # gone meanwhile
        if stat.S_ISDIR(st.st_mode):
            if e.name not in _SKIP_DIRS and depth < 8:
                _walk(e.path, f"{container_dir}/{e.name}", out, depth + 1)
            continue
        if e.name in _SKIP_FILES and depth == 0:
            continue
        if stat.S_ISCHR(st.st_mode):
            kind = "c"
        elif stat.S_ISBLK(st.st_mode):
            kind = "b"
        else:
            continue
        out.append(LinuxDevice(path=f"{container_dir}/{e.name}", type=kind, major=os.major(st.st_rdev),
                               minor=os.minor(st.st_rdev), file_mode=stat.S_IMODE(st.st_mode), uid=st.st_uid,
                               gid=st.st_gid))


def custom_devices(host: str, inside: str) -> list[LinuxDevice]:
    """One ``--device``: the node at ``host`` (links followed) as ``inside``, or every device below a folder
    (moby's DevicesFromPath); a path that is neither gets the daemon's one-line error."""
    from skiff.errors import InvalidArgumentError

    def fail(why: str) -> InvalidArgumentError:
        return InvalidArgumentError(f'error gathering device information while adding custom device "{host}": '
                                    f"{why}")

    try:
        st = os.stat(host)
    except OSError as e:
        raise fail((e.strerror or str(e)).lower()) from None
    if stat.S_ISDIR(st.st_mode):
        out: list[LinuxDevice] = []
        _walk(os.path.realpath(host), inside.rstrip("/") or "/", out, depth=0)
        return sorted(out, key=lambda d: d.path)
    if not (stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode)):
        raise fail("not a device node")
    return [LinuxDevice(path=inside, type="c" if stat.S_ISCHR(st.st_mode) else "b", major=os.major(st.st_rdev),
                        minor=os.minor(st.st_rdev), file_mode=stat.S_IMODE(st.st_mode), uid=st.st_uid,
                        gid=st.st_gid)]
