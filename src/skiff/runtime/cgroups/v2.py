"""cgroup v2 (unified hosts): one folder, controllers enabled through cgroup.subtree_control."""

from __future__ import annotations

import errno
import time
from pathlib import Path

from skiff.runtime.cgroups.base import keyed, read, read_int, write
from skiff.runtime.errors import ContainerStartError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from skiff.oci.runtime import LinuxResources
    from skiff.runtime.cgroups.stats import Stats


def shares_to_weight(shares: int) -> int:
    return 1 + ((shares - 2) * 9999) // 262142


class V2Manager:
    def __init__(self, directory: Path, rel: str) -> None:
        self.dir = directory
        self.path = rel

    def create(self) -> None:
        root = self.dir
        for _ in Path(self.path).parts:
            root = root.parent
        cur = root
        for part in Path(self.path).parts:
            ctrls = (read(cur / "cgroup.controllers") or "").split()
            enabled = (read(cur / "cgroup.subtree_control") or "").split()
            want = [c for c in ctrls if c not in enabled and c in ("cpu", "cpuset", "io", "memory", "pids")]
            if want:
                try:
                    write(cur / "cgroup.subtree_control", " ".join(f"+{c}" for c in want))
                except OSError:
                    pass
            cur = cur / part
            cur.mkdir(exist_ok=True)

    def apply(self, resources: LinuxResources | None) -> None:
        if resources is None:
            return
        try:
            self._apply(resources)
        except OSError as e:
            raise ContainerStartError(f"linux.resources: cannot write cgroup setting: {e}") from None

    def _apply(self, r: LinuxResources) -> None:
        d = self.dir
        if r.memory is not None:
            if r.memory.limit is not None:
                write(d / "memory.max", "max" if r.memory.limit < 0 else str(r.memory.limit))
            if r.memory.swap is not None and (d / "memory.swap.max").exists():
                swap = r.memory.swap - (r.memory.limit or 0) if r.memory.swap >= 0 else -1
                write(d / "memory.swap.max", "max" if swap < 0 else str(swap))
            if r.memory.reservation is not None:
                write(d / "memory.low", str(r.memory.reservation))
        if r.cpu is not None:
            if r.cpu.quota or r.cpu.period:
                quota = "max" if not r.cpu.quota or r.cpu.quota < 0 else str(r.cpu.quota)
                write(d / "cpu.max", f"{quota} {r.cpu.period or 100000}")
            if r.cpu.shares:
                write(d / "cpu.weight", str(shares_to_weight(r.cpu.shares)))
            if r.cpu.cpus:
                write(d / "cpuset.cpus", r.cpu.cpus)
            if r.cpu.mems:
                write(d / "cpuset.mems", r.cpu.mems)
        if r.pids is not None:
            write(d / "pids.max", "max" if r.pids.limit <= 0 else str(r.pids.limit))
        if r.block_io is not None and r.block_io.weight:
            name = "io.weight" if (d / "io.weight").exists() else "io.bfq.weight"
            write(d / name, str(r.block_io.weight))
        if r.block_io is not None:
            b = r.block_io
            for key, entries in (("rbps", b.throttle_read_bps_device), ("wbps", b.throttle_write_bps_device),
                                 ("riops", b.throttle_read_iops_device), ("wiops", b.throttle_write_iops_device)):
                for t in entries:
                    write(d / "io.max", f"{t.major}:{t.minor} {key}={t.rate}")
        for key, value in r.unified.items():
            if "/" in key or key.startswith("."):
                raise ContainerStartError(f"linux.resources.unified: bad key {key!r}")
            write(d / key, value)

    def add(self, pid: int) -> None:
        write(self.dir / "cgroup.procs", str(pid))

    def pids(self) -> list[int]:
        return [int(x) for x in (read(self.dir / "cgroup.procs") or "").split()]

    def oom_kills(self) -> int:
        return keyed(self.dir / "memory.events", "oom_kill") or 0

    def stats(self) -> Stats:
        from skiff.runtime.cgroups.stats import Stats

        usage = keyed(self.dir / "cpu.stat", "usage_usec")
        return Stats(memory_usage=read_int(self.dir / "memory.current"),
                     memory_limit=read_int(self.dir / "memory.max"),
                     cpu_usage_ns=usage * 1000 if usage is not None else None,
                     pids_current=read_int(self.dir / "pids.current"), oom_kills=self.oom_kills())

    def freeze(self) -> None:
        write(self.dir / "cgroup.freeze", "1")

    def thaw(self) -> None:
        write(self.dir / "cgroup.freeze", "0")

    def destroy(self) -> None:
        for _ in range(200):
            try:
                self.dir.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError as e:
                if e.errno != errno.EBUSY:
                    raise
                time.sleep(0.005)
