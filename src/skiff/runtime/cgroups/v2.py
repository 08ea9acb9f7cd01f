"""cgroup v2 (unified hosts): one folder, controllers enabled through cgroup.subtree_control."""

from __future__ import annotations

import errno
import os
import time

from skiff.runtime.cgroups.base import keyed, mkdir, parts, read, read_int, write
from skiff.runtime.errors import ContainerStartError
from skiff.runtime.paths import clean

TYPE_CHECKING = False
if TYPE_CHECKING:
    from _typeshed import StrPath

    from skiff.oci.runtime import LinuxResources
    from skiff.runtime.cgroupfs import CgroupView
    from skiff.runtime.cgroups.stats import Stats


def shares_to_weight(shares: int) -> int:
    return 1 + ((shares - 2) * 9999) // 262142


class V2Manager:
    def __init__(self, directory: StrPath, rel: str) -> None:
        self.dir = clean(os.fspath(directory))
        self.path = rel

    def create(self) -> None:
        for attempt in range(5):  # see v1: the shared parent may vanish under a concurrent destroy()
            try:
                self._create()
                return
            except FileNotFoundError:
                if attempt == 4:
                    raise
                time.sleep(0.005)

    def _create(self) -> None:
        names = parts(self.path)
        cur = self.dir
        for _ in names:
            cur = os.path.dirname(cur)
        for part in names:
            ctrls = (read(os.path.join(cur, "cgroup.controllers")) or "").split()
            enabled = (read(os.path.join(cur, "cgroup.subtree_control")) or "").split()
            want = [c for c in ctrls if c not in enabled and c in ("cpu", "cpuset", "io", "memory", "pids")]
            if want:
                try:
                    write(os.path.join(cur, "cgroup.subtree_control"), " ".join(f"+{c}" for c in want))
                except OSError:
                    pass
            cur = os.path.join(cur, part)
            mkdir(cur)

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
                write(os.path.join(d, "memory.max"), "max" if r.memory.limit < 0 else str(r.memory.limit))
            if r.memory.swap is not None and os.path.exists(os.path.join(d, "memory.swap.max")):
                swap = r.memory.swap - (r.memory.limit or 0) if r.memory.swap >= 0 else -1
                write(os.path.join(d, "memory.swap.max"), "max" if swap < 0 else str(swap))
            if r.memory.reservation is not None:
                write(os.path.join(d, "memory.low"), str(r.memory.reservation))
        if r.cpu is not None:
            if r.cpu.quota or r.cpu.period:
                quota = "max" if not r.cpu.quota or r.cpu.quota < 0 else str(r.cpu.quota)
                write(os.path.join(d, "cpu.max"), f"{quota} {r.cpu.period or 100000}")
            if r.cpu.shares:
                write(os.path.join(d, "cpu.weight"), str(shares_to_weight(r.cpu.shares)))
            if r.cpu.cpus:
                write(os.path.join(d, "cpuset.cpus"), r.cpu.cpus)
            if r.cpu.mems:
                write(os.path.join(d, "cpuset.mems"), r.cpu.mems)
        if r.pids is not None:
            write(os.path.join(d, "pids.max"), "max" if r.pids.limit <= 0 else str(r.pids.limit))
        if r.block_io is not None and r.block_io.weight:
            name = "io.weight" if os.path.exists(os.path.join(d, "io.weight")) else "io.bfq.weight"
            write(os.path.join(d, name), str(r.block_io.weight))
        if r.block_io is not None:
            b = r.block_io
            for key, entries in (("rbps", b.throttle_read_bps_device), ("wbps", b.throttle_write_bps_device),
                                 ("riops", b.throttle_read_iops_device), ("wiops", b.throttle_write_iops_device)):
                for t in entries:
                    write(os.path.join(d, "io.max"), f"{t.major}:{t.minor} {key}={t.rate}")
        for key, value in r.unified.items():
            if "/" in key or key.startswith("."):
                raise ContainerStartError(f"linux.resources.unified: bad key {key!r}")
            write(os.path.join(d, key), value)

    def add(self, pid: int) -> None:
        write(os.path.join(self.dir, "cgroup.procs"), str(pid))

    def join_fds(self) -> tuple[list[int], int | None]:
        """No files for the child to write; the folder, for clone3's CLONE_INTO_CGROUP. The caller closes it."""
        try:
            return [], os.open(self.dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError as e:
            raise ContainerStartError(f"cannot open the container's cgroup: {e}") from None

    add_v2 = add  # when clone3 could not start the process in the cgroup

    def view(self) -> CgroupView:
        """A `cgroup` mount shows this folder (cgroup2 in the container's cgroup namespace, else a bind)."""
        from skiff.runtime.cgroupfs import CgroupView

        return CgroupView(unified=True, binds=[(self.dir, "")])

    def pids(self) -> list[int]:
        return [int(x) for x in (read(os.path.join(self.dir, "cgroup.procs")) or "").split()]

    def oom_kills(self) -> int:
        return keyed(os.path.join(self.dir, "memory.events"), "oom_kill") or 0

    def stats(self) -> Stats:
        from skiff.runtime.cgroups.stats import Stats

        usage = keyed(os.path.join(self.dir, "cpu.stat"), "usage_usec")
        return Stats(memory_usage=read_int(os.path.join(self.dir, "memory.current")),
                     memory_limit=read_int(os.path.join(self.dir, "memory.max")),
                     cpu_usage_ns=usage * 1000 if usage is not None else None,
                     pids_current=read_int(os.path.join(self.dir, "pids.current")), oom_kills=self.oom_kills())

    def freeze(self) -> None:
        write(os.path.join(self.dir, "cgroup.freeze"), "1")

    def thaw(self) -> None:
        write(os.path.join(self.dir, "cgroup.freeze"), "0")

    def destroy(self) -> None:
        from skiff.runtime.cgroups.v1 import remove_empty_parents

        for _ in range(200):
            try:
                os.rmdir(self.dir)
                break
            except FileNotFoundError:
                break
            except OSError as e:
                if e.errno != errno.EBUSY:
                    raise
                time.sleep(0.005)
        remove_empty_parents([self.dir])
