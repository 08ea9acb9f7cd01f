"""A cgroup's usage figures (the engine's `stats`)."""

from __future__ import annotations

from skiff.records import dataclass


@dataclass(frozen=True)
class Stats:
    """A cgroup's usage: memory and its limit, CPU time, pids and OOM kills (``None``: not available)."""

    memory_usage: int | None
    memory_limit: int | None
    cpu_usage_ns: int | None
    pids_current: int | None
    oom_kills: int
