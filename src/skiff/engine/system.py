"""`skiff info` and `skiff system df`."""

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


@dataclass
class DfRow:
    """One row of `skiff system df`: a kind of object, its count and in-use count, size, reclaimable size."""

    type: str
    total: int
    active: int
    size: int
    reclaimable: int


@dataclass
class DfImage:
    """One image in `skiff system df -v`: its size, the part shared with other images, containers using it."""

    id: str
    names: list[str]
    created: str | None
    size: int
    shared_size: int
    unique_size: int
    containers: int


@dataclass
class DfReport:
    """What `skiff system df` shows: one row per kind of object (images, containers, ...) and each image."""

    rows: list[DfRow]
    images: list[DfImage]


def _du(path: Path) -> int:
    total = 0
    seen: set[tuple[int, int]] = set()
    for top, _dirs, files in os.walk(path):
        for name in files:
            try:
                st = os.lstat(os.path.join(top, name))
            except OSError:
                continue
            if (st.st_dev, st.st_ino) in seen:
                continue
            seen.add((st.st_dev, st.st_ino))
            total += st.st_blocks * 512 if st.st_blocks else st.st_size
    return total


def df(ctx: EngineContext) -> DfReport:
    store = ctx.store
    records = store.list_images()
    layer_size = {r.chain_id: r.size for r in store.layers.records()}
    users = {c: 0 for r in records for c in r.chain_ids}
    for r in records:
        for c in set(r.chain_ids):
            users[c] += 1
    images = []
    active = 0
    active_layers: set[str] = set()
    for r in records:
        n = len(store.image_in_use(r.id))
        if n:
            active += 1
            active_layers |= set(r.chain_ids)
        shared = sum(layer_size.get(c, 0) for c in set(r.chain_ids) if users[c] > 1)
        total = sum(layer_size.get(c, 0) for c in set(r.chain_ids))
        images.append(DfImage(r.id, r.names, r.created, total, shared, total - shared, n))
    img_total = sum(layer_size.get(c, 0) for c in users)
    img_reclaim = img_total - sum(layer_size.get(c, 0) for c in active_layers)
    total_c, running, _paused = _container_states(ctx)
    c_size = 0
    c_reclaim = 0
    cdir = ctx.root / "containers"
    if cdir.is_dir():
        drv = store.driver
        for cid in os.listdir(cdir):
            try:
                size = _du(drv.upper_dir(cid)) if drv.exists(cid) else 0
            except Exception:
                size = 0
            c_size += size
    c_reclaim = c_size if running == 0 else 0
    vdir = ctx.root / "volumes"
    vols = [p for p in vdir.iterdir() if p.is_dir()] if vdir.is_dir() else []
    v_size = sum(_du(p) for p in vols)
    rows = [DfRow("Images", len(records), active, img_total, img_reclaim),
            DfRow("Containers", total_c, running, c_size, c_reclaim),
            DfRow("Local Volumes", len(vols), 0, v_size, v_size),
            DfRow("Build Cache", 0, 0, 0, 0)]
    return DfReport(rows, images)
