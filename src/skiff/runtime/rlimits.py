"""POSIX rlimits from process.rlimits."""

from __future__ import annotations

import resource

from skiff.oci.runtime import POSIXRlimit

RLIMITS = {name: getattr(resource, name) for name in (
    "RLIMIT_AS", "RLIMIT_CORE", "RLIMIT_CPU", "RLIMIT_DATA", "RLIMIT_FSIZE", "RLIMIT_LOCKS",
    "RLIMIT_MEMLOCK", "RLIMIT_MSGQUEUE", "RLIMIT_NICE", "RLIMIT_NOFILE", "RLIMIT_NPROC", "RLIMIT_RSS",
    "RLIMIT_RTPRIO", "RLIMIT_RTTIME", "RLIMIT_SIGPENDING", "RLIMIT_STACK") if hasattr(resource, name)}

_INF = 2**64 - 1


def _value(v: int) -> int:
    return resource.RLIM_INFINITY if v >= _INF or v < 0 else v


def apply(rlimits: list[POSIXRlimit]) -> None:
    """setrlimit for each entry; raising a hard limit needs CAP_SYS_RESOURCE, so the error names the rlimit."""
    for r in rlimits:
        try:
            resource.setrlimit(RLIMITS[r.type], (_value(r.soft), _value(r.hard)))
        except (ValueError, OSError) as e:
            raise OSError(getattr(e, "errno", 1) or 1, f"setrlimit {r.type} {r.soft}:{r.hard}: {e}") from None
