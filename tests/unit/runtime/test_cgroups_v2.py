"""The cgroup v2 manager against a folder laid out like cgroupfs (this host is hybrid, so the real v2 path
with controllers cannot run here)."""

from __future__ import annotations

from pathlib import Path

from skiff.oci.runtime import (
    LinuxBlockIO,
    LinuxCPU,
    LinuxMemory,
    LinuxPids,
    LinuxResources,
    LinuxThrottleDevice,
)
from skiff.runtime.cgroups.base import Setup, create_manager, detect
from skiff.runtime.cgroups.v2 import V2Manager

FILES = ("memory.max", "memory.swap.max", "memory.low", "cpu.max", "cpu.weight", "cpuset.cpus", "cpuset.mems",
         "pids.max", "io.weight", "io.max", "cgroup.procs", "memory.events", "cpu.stat", "memory.current",
         "pids.current", "cgroup.freeze", "cgroup.subtree_control", "cgroup.controllers")


def _tree(root: Path) -> Path:
    (root / "cgroup.controllers").write_text("cpuset cpu io memory pids\n")
    (root / "cgroup.subtree_control").write_text("")
    leaf = root / "skiff" / "c1"
    leaf.mkdir(parents=True)
    for d in (root / "skiff", leaf):
        (d / "cgroup.controllers").write_text("cpuset cpu io memory pids\n")
        (d / "cgroup.subtree_control").write_text("")
    for f in FILES:
        (leaf / f).touch()
    return leaf


def test_detect_and_factory(tmp_path: Path) -> None:
    _tree(tmp_path)
    assert detect(tmp_path) is Setup.UNIFIED
    m = create_manager("c1", None, tmp_path)
    assert isinstance(m, V2Manager) and m.dir == str(tmp_path / "skiff" / "c1")


def test_apply_writes_v2_files(tmp_path: Path) -> None:
    leaf = _tree(tmp_path)
    m = V2Manager(leaf, "skiff/c1")
    m.create()
    assert (tmp_path / "cgroup.subtree_control").read_text() == "+cpuset +cpu +io +memory +pids"
    m.apply(LinuxResources(memory=LinuxMemory(limit=100, swap=300), cpu=LinuxCPU(shares=1024, quota=50000,
                                                                                  period=100000, cpus="0-1"),
                           pids=LinuxPids(limit=10),
                           block_io=LinuxBlockIO(weight=500, throttle_write_bps_device=[
                               LinuxThrottleDevice(major=8, minor=0, rate=99)]),
                           unified={"memory.low": "7"}))
    got = {f: (leaf / f).read_text() for f in ("memory.max", "memory.swap.max", "cpu.max", "cpu.weight",
                                               "cpuset.cpus", "pids.max", "io.weight", "io.max", "memory.low")}
    assert got == {"memory.max": "100", "memory.swap.max": "200", "cpu.max": "50000 100000", "cpu.weight": "39",
                   "cpuset.cpus": "0-1", "pids.max": "10", "io.weight": "500", "io.max": "8:0 wbps=99",
                   "memory.low": "7"}
    (leaf / "memory.events").write_text("low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n")
    (leaf / "cpu.stat").write_text("usage_usec 1500\nuser_usec 1000\n")
    (leaf / "memory.current").write_text("4096\n")
    (leaf / "pids.current").write_text("2\n")
    st = m.stats()
    assert (st.oom_kills, st.cpu_usage_ns, st.memory_usage, st.memory_limit, st.pids_current) == \
        (1, 1_500_000, 4096, 100, 2)
    m.freeze()
    assert (leaf / "cgroup.freeze").read_text() == "1"
