"""Capability names (linux/capability.h) and applying the five sets of a spec's process."""

from __future__ import annotations

from skiff.kernel import (
    PR_CAP_AMBIENT,
    PR_CAP_AMBIENT_CLEAR_ALL,
    PR_CAP_AMBIENT_RAISE,
    PR_CAPBSET_DROP,
    Kernel,
)
from skiff.oci.runtime import LinuxCapabilities

CAPS = ("CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID", "SETPCAP",
        "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW", "IPC_LOCK",
        "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN",
        "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE",
        "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM",
        "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE")
CAP_NUMBERS = {f"CAP_{name}": i for i, name in enumerate(CAPS)}


def last_cap() -> int:
    try:
        with open("/proc/sys/kernel/cap_last_cap") as f:
            return int(f.read())
    except OSError:
        return len(CAPS) - 1


def mask(names: list[str]) -> int:
    """Bit mask of capability names; unknown names raise KeyError (validate.py checks them first)."""
    m = 0
    for n in names:
        m |= 1 << CAP_NUMBERS[n]
    return m


def drop_bounding(kernel: Kernel, caps: LinuxCapabilities) -> None:
    keep = mask(caps.bounding)
    for nr in range(last_cap() + 1):
        if not keep & (1 << nr):
            kernel.prctl(PR_CAPBSET_DROP, nr)


def apply(kernel: Kernel, caps: LinuxCapabilities) -> None:
    """Set effective, permitted and inheritable, then the ambient set (after setuid, keepcaps on)."""
    kernel.capset(mask(caps.effective), mask(caps.permitted), mask(caps.inheritable))
    kernel.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
    for n in caps.ambient:
        kernel.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NUMBERS[n])
