"""The host's devices for --privileged (containerd's HostDevices): device nodes only, Docker's skips."""

from __future__ import annotations

import os
import stat

from skiff.engine.host_devices import host_devices


def test_host_devices_are_device_nodes_with_their_numbers() -> None:
    devs = {d.path: d for d in host_devices()}
    null = devs["/dev/null"]
    assert (null.type, null.major, null.minor) == ("c", 1, 3)
    assert null.file_mode == stat.S_IMODE(os.stat("/dev/null").st_mode)
    for skipped in ("/dev/console", "/dev/ptmx", "/dev/stdin", "/dev/fd"):
        assert skipped not in devs
    assert not [p for p in devs if p.startswith(("/dev/pts/", "/dev/shm/", "/dev/mqueue/"))]
    for d in devs.values():
        st = os.lstat(d.path)
        assert stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode), d.path
