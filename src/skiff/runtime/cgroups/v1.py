"""cgroup v1 (legacy and hybrid hosts): one folder per controller hierarchy."""

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

# The controllers a container joins: what linux.resources, stats and pause need.
CONTROLLERS = ("memory", "cpu", "cpuacct", "cpuset", "pids", "blkio", "freezer", "devices")
# The devices the runtime itself creates in /dev (c major:minor), always allowed.
DEFAULT_DEVICES = ("c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm", "c 5:0 rwm", "c 5:1 rwm",
                   "c 5:2 rwm", "c 136:* rwm")


class V1Manager:
    def __init__(self, root: StrPath, rel: str, unified: StrPath | None) -> None:
        self.root = clean(os.fspath(root))
        self.path = rel
        self.unified = clean(os.fspath(unified)) if unified is not None else None
        dirs: dict[str, str] = {}
        seen: set[str] = set()
        for c in CONTROLLERS:
            mnt = os.path.join(self.root, c)
            real = os.path.realpath(mnt)
            if os.path.isdir(mnt) and real not in seen and os.path.exists(os.path.join(mnt, "cgroup.procs")):
                seen.add(real)
                dirs[c] = clean(os.path.join(mnt, rel))
        self.dirs = dirs

    def _d(self, ctrl: str) -> str | None:
        return self.dirs.get(ctrl) or next((d for c, d in self.dirs.items()
                                            if os.path.realpath(os.path.join(self.root, c)) ==
                                            os.path.realpath(os.path.join(self.root, ctrl))), None)

    def create(self) -> None:
        # The shared `skiff` parent is removed by the last container's destroy(); a concurrent removal
        # between making the parent and the child shows up as ENOENT, and trying again makes both.
        for attempt in range(5):
            try:
                for ctrl, d in self.dirs.items():
                    if ctrl == "cpuset":
                        self._create_cpuset()
                    else:
                        os.makedirs(d, exist_ok=True)
                if self.unified is not None:
                    os.makedirs(self.unified, exist_ok=True)
                return
            except FileNotFoundError:
                if attempt == 4:
                    raise
                time.sleep(0.005)

    def _create_cpuset(self) -> None:
        """Make dirs["cpuset"] one level at a time, copying cpus and mems down (a new cpuset starts empty)."""
        cur = os.path.join(self.root, "cpuset")
        for part in parts(self.path):
            parent, cur = cur, os.path.join(cur, part)
            mkdir(cur)
            for f in ("cpuset.cpus", "cpuset.mems"):
                if not read(os.path.join(cur, f)):
                    write(os.path.join(cur, f), read(os.path.join(parent, f)) or "")

    def apply(self, resources: LinuxResources | None) -> None:
        if resources is None:
            from skiff.oci.runtime import LinuxResources

            resources = LinuxResources()
        try:
            self._apply(resources)
        except OSError as e:
            raise ContainerStartError(f"linux.resources: cannot write cgroup setting: {e}") from None

    def _apply(self, r: LinuxResources) -> None:
        mem, cpu = self._d("memory"), self._d("cpu")
        if r.memory is not None and mem is not None:
            m = r.memory
            if m.limit is not None:
                write(os.path.join(mem, "memory.limit_in_bytes"), str(m.limit))
            if m.swap is not None and os.path.exists(os.path.join(mem, "memory.memsw.limit_in_bytes")):
                write(os.path.join(mem, "memory.memsw.limit_in_bytes"), str(m.swap))
            if m.reservation is not None:
                write(os.path.join(mem, "memory.soft_limit_in_bytes"), str(m.reservation))
            if m.swappiness is not None and 0 <= m.swappiness <= 100:
                write(os.path.join(mem, "memory.swappiness"), str(m.swappiness))
            if m.disable_oom_killer:
                write(os.path.join(mem, "memory.oom_control"), "1")
            if m.kernel is not None and os.path.exists(os.path.join(mem, "memory.kmem.limit_in_bytes")):
                write(os.path.join(mem, "memory.kmem.limit_in_bytes"), str(m.kernel))
        if r.cpu is not None and cpu is not None:
            c = r.cpu
            if c.shares:
                write(os.path.join(cpu, "cpu.shares"), str(c.shares))
            if c.period:
                write(os.path.join(cpu, "cpu.cfs_period_us"), str(c.period))
            if c.quota:
                write(os.path.join(cpu, "cpu.cfs_quota_us"), str(c.quota))
            if c.realtime_period or c.realtime_runtime:
                self._realtime(cpu, c.realtime_period, c.realtime_runtime)
        cs = self._d("cpuset")
        if r.cpu is not None and cs is not None:
            if r.cpu.cpus:
                write(os.path.join(cs, "cpuset.cpus"), r.cpu.cpus)
            if r.cpu.mems:
                write(os.path.join(cs, "cpuset.mems"), r.cpu.mems)
        pids = self._d("pids")
        if r.pids is not None and pids is not None:
            write(os.path.join(pids, "pids.max"), "max" if r.pids.limit <= 0 else str(r.pids.limit))
        blk = self._d("blkio")
        if r.block_io is not None and r.block_io.weight and blk is not None:
            for name in ("blkio.weight", "blkio.bfq.weight"):
                if os.path.exists(os.path.join(blk, name)):
                    write(os.path.join(blk, name), str(r.block_io.weight))
                    break
            else:
                raise ContainerStartError("linux.resources.blockIO.weight: this kernel has no blkio weight")
        if r.block_io is not None and blk is not None:
            b = r.block_io
            for name, entries in (("read_bps_device", b.throttle_read_bps_device),
                                  ("write_bps_device", b.throttle_write_bps_device),
                                  ("read_iops_device", b.throttle_read_iops_device),
                                  ("write_iops_device", b.throttle_write_iops_device)):
                for t in entries:
                    write(os.path.join(blk, f"blkio.throttle.{name}"), f"{t.major}:{t.minor} {t.rate}")
        dev = self._d("devices")
        if dev is not None and r.devices:
            for rule in r.devices:
                kind = rule.type or "a"
                major = "*" if rule.major is None or rule.major < 0 else str(rule.major)
                minor = "*" if rule.minor is None or rule.minor < 0 else str(rule.minor)
                line = "a" if kind == "a" and major == minor == "*" else f"{kind} {major}:{minor} " \
                    f"{rule.access or 'rwm'}"
                write(os.path.join(dev, "devices.allow" if rule.allow else "devices.deny"), line)
            for line in DEFAULT_DEVICES:
                write(os.path.join(dev, "devices.allow"), line)

    def _realtime(self, cpu: str, period: int | None, runtime: int | None) -> None:
        """cpu.rt_period_us and cpu.rt_runtime_us. A new cgroup has no real-time budget, and a child may only
        take what its parent grants (the sum of the children's runtime/period shares): the ancestors below the
        hierarchy's root are raised to what their children then hold, top down, before the container's own
        values are written (what dockerd's --cpu-rt-runtime does for its parent cgroups, sized here to the
        request). A budget the host cannot grant fails with the kernel's error naming the file."""
        mnt = os.path.join(self.root, "cpu")
        if not os.path.exists(os.path.join(cpu, "cpu.rt_runtime_us")):
            raise ContainerStartError("linux.resources.cpu.realtime*: this kernel has no cgroup cpu real-time "
                                      "scheduler (CONFIG_RT_GROUP_SCHED)")
        if period:
            write(os.path.join(cpu, "cpu.rt_period_us"), str(period))
        if not runtime:
            return
        own_period = read_int(os.path.join(cpu, "cpu.rt_period_us")) or 1000000
        chain: list[str] = []
        d = os.path.dirname(cpu)
        while len(d) > len(mnt) and d.startswith(mnt + "/"):
            chain.append(d)
            d = os.path.dirname(d)
        share = runtime / own_period  # the fraction of a CPU's time the child needs
        below, plan = cpu, []
        for d in chain:  # from the closest parent up: what each must grant
            others = 0.0
            for entry in os.scandir(d):
                if entry.is_dir(follow_symlinks=False) and entry.path != below:
                    others += (read_int(os.path.join(entry.path, "cpu.rt_runtime_us")) or 0) / (
                        read_int(os.path.join(entry.path, "cpu.rt_period_us")) or 1000000)
            p = read_int(os.path.join(d, "cpu.rt_period_us")) or 1000000
            have = read_int(os.path.join(d, "cpu.rt_runtime_us")) or 0
            share = max(have / p, others + share)
            plan.append((d, round(share * p), have))
            below = d
        for d, want, have in [*reversed(plan), (cpu, runtime, 0)]:
            if want > have:
                f = os.path.join(d, "cpu.rt_runtime_us")
                try:
                    write(f, str(want))
                except OSError as e:
                    root = read_int(os.path.join(mnt, "cpu.rt_runtime_us"))
                    raise ContainerStartError(f"cannot write {want} to {f}: {os.strerror(e.errno or 0)} (the "
                                              f"host grants {root} us of real-time CPU per "
                                              f"{read_int(os.path.join(mnt, 'cpu.rt_period_us'))} us)") from None

    def add(self, pid: int) -> None:
        for d in self.dirs.values():
            write(os.path.join(d, "cgroup.procs"), str(pid))
        if self.unified is not None:
            write(os.path.join(self.unified, "cgroup.procs"), str(pid))

    def join_fds(self) -> tuple[list[int], int | None]:
        """What a new process needs to join: each hierarchy's ``tasks`` file, to which the child writes 0
        itself (moving the calling thread skips the thread-group lock whose first writer waits for an RCU
        grace period, 5-15 ms; the child has one thread), and the cgroup2 folder of a hybrid host for
        CLONE_INTO_CGROUP. The caller closes them."""
        fds: list[int] = []
        try:
            for d in self.dirs.values():
                fds.append(os.open(os.path.join(d, "tasks"), os.O_WRONLY | os.O_CLOEXEC))
            unified = None if self.unified is None else \
                os.open(self.unified, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError as e:
            for fd in fds:
                os.close(fd)
            raise ContainerStartError(f"cannot open the container's cgroup: {e}") from None
        return fds, unified

    def view(self) -> CgroupView:
        """The container's own folder of each hierarchy it joins, named as the hierarchy's mount point
        (``cpu,cpuacct``), with a symlink per controller of a merged one, and the hybrid v2 tree as ``unified``
        (what a `cgroup` mount shows; runc's mountCgroupV1)."""
        from skiff.runtime.cgroupfs import CgroupView

        binds: list[tuple[str, str]] = []
        links: list[tuple[str, str]] = []
        for ctrl, d in self.dirs.items():
            name = os.path.basename(os.path.realpath(os.path.join(self.root, ctrl)))
            binds.append((d, name))
            links += [(c, name) for c in name.split(",") if c != name]
        if self.unified is not None:
            binds.append((self.unified, "unified"))
        return CgroupView(unified=False, binds=binds, links=links)

    def add_v2(self, pid: int) -> None:
        """Move ``pid`` into the cgroup2 folder of a hybrid host (when clone3 could not start it there)."""
        if self.unified is not None:
            write(os.path.join(self.unified, "cgroup.procs"), str(pid))

    def pids(self) -> list[int]:
        d = self._d("pids") or self._d("memory") or next(iter(self.dirs.values()), None)
        text = read(os.path.join(d, "cgroup.procs")) if d is not None else None
        return [int(x) for x in (text or "").split()]

    def oom_kills(self) -> int:
        mem = self._d("memory")
        return (keyed(os.path.join(mem, "memory.oom_control"), "oom_kill") or 0) if mem is not None else 0

    def stats(self) -> Stats:
        from skiff.runtime.cgroups.stats import Stats

        mem, acct, pids = self._d("memory"), self._d("cpuacct"), self._d("pids")
        limit = read_int(os.path.join(mem, "memory.limit_in_bytes")) if mem else None
        return Stats(memory_usage=read_int(os.path.join(mem, "memory.usage_in_bytes")) if mem else None,
                     memory_limit=None if limit is None or limit >= 2**62 else limit,
                     cpu_usage_ns=read_int(os.path.join(acct, "cpuacct.usage")) if acct else None,
                     pids_current=read_int(os.path.join(pids, "pids.current")) if pids else None,
                     oom_kills=self.oom_kills())

    def freeze(self) -> None:
        fz = self._d("freezer")
        if fz is None:
            raise ContainerStartError("pause: no freezer cgroup controller on this host")
        write(os.path.join(fz, "freezer.state"), "FROZEN")
        for _ in range(1000):
            if read(os.path.join(fz, "freezer.state")) == "FROZEN":
                return
            time.sleep(0.001)

    def thaw(self) -> None:
        fz = self._d("freezer")
        if fz is not None:
            write(os.path.join(fz, "freezer.state"), "THAWED")

    def destroy(self) -> None:
        dirs = list(self.dirs.values()) + ([self.unified] if self.unified is not None else [])
        for d in dirs:
            for _ in range(200):
                try:
                    os.rmdir(d)
                    break
                except FileNotFoundError:
                    break
                except OSError as e:
                    if e.errno != errno.EBUSY:
                        raise
                    time.sleep(0.005)
        remove_empty_parents(dirs)


def remove_empty_parents(dirs: list[str]) -> None:
    """Remove the shared ``skiff`` parent cgroups once no container is left in them (rmdir refuses otherwise)."""
    for d in dirs:
        parent = os.path.dirname(d)
        if os.path.basename(parent) == "skiff":
            try:
                os.rmdir(parent)
            except OSError:
                pass
