"""`skiff info` (`system df` is engine/disk_usage.py)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from skiff import __version__
from skiff.engine.context import EngineContext
from skiff.records import dataclass, field


@dataclass
class InfoReport:
    """Docker's /info fields that skiff has (JSON names as Docker's, for --format)."""

    ID: str
    Containers: int
    ContainersRunning: int
    ContainersPaused: int
    ContainersStopped: int
    Images: int
    Driver: str
    DriverStatus: list[list[str]]
    DockerRootDir: str
    RunRoot: str
    ServerVersion: str
    KernelVersion: str
    OperatingSystem: str
    OSType: str
    Architecture: str
    NCPU: int
    MemTotal: int
    Name: str
    CgroupVersion: str
    CgroupDriver: str
    DefaultRuntime: str
    Runtimes: dict[str, dict[str, str]] = field(default_factory=dict)
    Warnings: list[str] = field(default_factory=list)


def _os_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return os.uname().sysname


def _mem_total() -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _cgroup_version() -> str:
    return "2" if Path("/sys/fs/cgroup/cgroup.controllers").exists() else "1"


def _container_states(ctx: EngineContext) -> tuple[int, int, int]:
    """(total, running, paused): each container's state as `ps` reads it (a running one whose process has
    exited counts as stopped). Restarting counts as running, as in Docker's ContainersRunning."""
    from skiff.engine.containers_state import ContainerStore, Status

    total = running = paused = 0
    for _rec, st in ContainerStore(ctx.root, ctx.runroot).entries():
        total += 1
        running += st.st in (Status.RUNNING, Status.RESTARTING)
        paused += st.st is Status.PAUSED
    return total, running, paused


def info(ctx: EngineContext) -> InfoReport:
    store = ctx.store
    drv = store.driver
    total, running, paused = _container_states(ctx)
    machine = os.uname().machine
    try:
        ident = (ctx.root / "id").read_text().strip()
    except OSError:
        ident = ""
    return InfoReport(
        ID=ident, Containers=total, ContainersRunning=running, ContainersPaused=paused,
        ContainersStopped=total - running - paused, Images=len(store.list_images()), Driver=drv.name,
        DriverStatus=[list(kv) for kv in drv.status()], DockerRootDir=str(ctx.root), RunRoot=str(ctx.runroot),
        ServerVersion=__version__, KernelVersion=os.uname().release, OperatingSystem=_os_name(),
        OSType="linux", Architecture=machine, NCPU=os.cpu_count() or 1, MemTotal=_mem_total(),
        Name=socket.gethostname(), CgroupVersion=_cgroup_version(), CgroupDriver="cgroupfs",
        DefaultRuntime=ctx.runtime, Runtimes={n: {"path": n} for n in ("skiff", "crun", "runc")})
