"""``skiff update``: new resource limits or restart policy for a container, running or not (moby's
ContainerUpdate). The record keeps the new values for its next start; a running or paused container gets them
at once through its runtime (``runc update``)."""

from __future__ import annotations

from skiff.errors import InvalidArgumentError, SkiffError
from skiff.records import dataclass, replace

from .containers_options import (
    check_cpus,
    check_cpuset,
    check_resources,
    parse_bytes,
    parse_cpus,
    parse_memory_swap,
    parse_restart,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .containers import ContainerEngine
    from .containers_model import HostConfig


@dataclass(frozen=True)
class UpdateOptions:
    """The flags of `skiff update`, as given (None: not given)."""

    blkio_weight: int | None = None
    cpu_period: int | None = None
    cpu_quota: int | None = None
    cpu_rt_period: int | None = None
    cpu_rt_runtime: int | None = None
    cpu_shares: int | None = None
    cpus: str | None = None
    cpuset_cpus: str | None = None
    cpuset_mems: str | None = None
    memory: str | None = None
    memory_reservation: str | None = None
    memory_swap: str | None = None
    pids_limit: int | None = None
    restart: str | None = None


def update(eng: ContainerEngine, text: str, opts: UpdateOptions) -> str:
    """Apply ``opts`` to the container ``text``; its ID. Errors are moby's, prefixed "Cannot update container"."""
    from .containers_state import Status

    cid = eng.cs.resolve(text)
    with eng.cs.lock(cid):
        rec = eng.cs.record(cid)
        try:
            hc = _updated(rec.host_config, opts)
        except SkiffError as e:
            raise InvalidArgumentError(f"Cannot update container {cid}: {e.message}") from None
        new = replace(rec, host_config=hc)
        st = eng.cs.state(cid)
        if st.st in (Status.RUNNING, Status.PAUSED) and _resources_changed(opts):
            from skiff.oci.runtime import LinuxPids, LinuxResources

            from .bundles import resources

            res = resources(new) or LinuxResources()
            if opts.pids_limit is not None and opts.pids_limit <= 0:
                res = replace(res, pids=LinuxPids(limit=-1))  # back to no limit
            try:
                eng.driver(hc.runtime).update(cid, res)
            except (SkiffError, OSError) as e:
                msg = e.message if isinstance(e, SkiffError) else str(e)
                raise SkiffError(f"Cannot update container {cid}: {msg}") from None
        eng.cs.write_record(new)
    eng.event(eng.cs.record(cid), "update")
    return cid


def _resources_changed(opts: UpdateOptions) -> bool:
    return any(v is not None for k, v in vars(opts).items() if k != "restart")


def _updated(hc: HostConfig, o: UpdateOptions) -> HostConfig:
    """The container's HostConfig with ``o`` applied, checked as the daemon checks it."""
    changes: dict[str, Any] = {}
    if o.restart is not None:
        if hc.auto_remove:
            raise InvalidArgumentError("Restart policy cannot be updated because AutoRemove is enabled for the "
                                       "container")
        changes["restart_policy"] = parse_restart(o.restart)
    if o.blkio_weight is not None:
        if o.blkio_weight and not 10 <= o.blkio_weight <= 1000:
            raise InvalidArgumentError("Range of blkio weight is from 10 to 1000")
        changes["blkio_weight"] = o.blkio_weight
    memory = parse_bytes(o.memory, "--memory") if o.memory else hc.memory
    swap = parse_memory_swap(o.memory_swap) if o.memory_swap else hc.memory_swap
    if o.memory and not o.memory_swap and hc.memory_swap > 0 and memory > hc.memory_swap:
        raise InvalidArgumentError("Memory limit should be smaller than already set memoryswap limit, update the "
                                   "memoryswap at the same time")
    reservation = parse_bytes(o.memory_reservation, "--memory-reservation") if o.memory_reservation \
        else hc.memory_reservation
    nano = parse_cpus(o.cpus) if o.cpus else hc.nano_cpus
    period = o.cpu_period if o.cpu_period is not None else hc.cpu_period
    quota = o.cpu_quota if o.cpu_quota is not None else hc.cpu_quota
    if o.cpus and (hc.cpu_period or hc.cpu_quota) and not (o.cpu_period or o.cpu_quota):
        raise InvalidArgumentError("Conflicting options: Nano CPUs cannot be updated as CPU Period has already "
                                   "been set" if hc.cpu_period else "Conflicting options: Nano CPUs cannot be "
                                   "updated as CPU Quota has already been set")
    if (o.cpu_period or o.cpu_quota) and hc.nano_cpus and not o.cpus:
        raise InvalidArgumentError("Conflicting options: CPU Period cannot be updated as NanoCPUs has already been "
                                   "set" if o.cpu_period else "Conflicting options: CPU Quota cannot be updated as "
                                   "NanoCPUs has already been set")
    check_resources(memory=memory, swap=swap, reservation=reservation, nano_cpus=nano, cpu_period=period,
                    cpu_quota=quota)  # the new values with those in force
    changes.update(memory=memory, memory_swap=swap, memory_reservation=reservation)
    if nano or o.cpuset_cpus:
        from .containers_create import cpu_info

        ncpu, available = cpu_info()
        check_cpus(nano, ncpu)
        if o.cpuset_cpus:
            check_cpuset(o.cpuset_cpus, available)
    if o.cpuset_mems:
        from .containers_create import check_mems

        check_mems(o.cpuset_mems)
    changes.update(nano_cpus=nano, cpu_period=period, cpu_quota=quota)
    if o.cpu_rt_period is not None or o.cpu_rt_runtime is not None:
        import os

        rt_period = o.cpu_rt_period if o.cpu_rt_period is not None else hc.cpu_realtime_period
        rt_runtime = o.cpu_rt_runtime if o.cpu_rt_runtime is not None else hc.cpu_realtime_runtime
        if (rt_period or rt_runtime) and not os.path.exists("/sys/fs/cgroup/cpu/cpu.rt_runtime_us"):
            raise InvalidArgumentError("Your kernel does not support CPU real-time scheduler")
        if rt_period and rt_runtime and rt_runtime > rt_period:
            raise InvalidArgumentError("cpu real-time runtime cannot be higher than cpu real-time period")
        changes.update(cpu_realtime_period=rt_period, cpu_realtime_runtime=rt_runtime)
    if o.cpu_shares is not None:
        changes["cpu_shares"] = o.cpu_shares
    if o.cpuset_cpus is not None:
        changes["cpuset_cpus"] = o.cpuset_cpus
    if o.cpuset_mems is not None:
        changes["cpuset_mems"] = o.cpuset_mems
    if o.pids_limit is not None:
        changes["pids_limit"] = o.pids_limit if o.pids_limit > 0 else None
    return replace(hc, **changes)
