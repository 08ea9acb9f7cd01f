"""The engine's fast path: skiff.runtime.Runtime called in-process (no second interpreter)."""

from __future__ import annotations

import dataclasses
import json
import os
import select
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from skiff.oci.codec import to_obj
from skiff.oci.runtime import LinuxMemory, LinuxResources, Spec
from skiff.runtime import Runtime
from skiff.runtime.defaults import default_spec
from skiff.runtime.errors import ContainerStartError, ExecFailed, StateTransitionError


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    rt = Runtime(tmp_path / "state")
    try:
        yield rt
    finally:
        for st in rt.list():
            rt.delete(st.id, force=True)
        leftovers = [p for p in Path("/sys/fs/cgroup").glob("*/skiff/lib-*")]
        for p in leftovers:
            p.rmdir()
        assert not leftovers


def _bundle(tmp_path: Path, rootfs: Path, args: list[str], **kw: object) -> tuple[str, Path]:
    cid = f"lib-{uuid.uuid4().hex[:8]}"
    spec: Spec = default_spec(args, rootfs=str(rootfs), readonly_rootfs=True, hostname="box", **kw)  # type: ignore[arg-type]
    b = tmp_path / cid
    b.mkdir()
    (b / "config.json").write_text(json.dumps(to_obj(spec)))
    return cid, b


def _run(rt: Runtime, cid: str, b: Path, **kw: object) -> tuple[int, str]:
    r, w = os.pipe()
    try:
        code = rt.run(cid, b, stdio=(0, w, w), **kw)  # type: ignore[arg-type]
    finally:
        os.close(w)
    with os.fdopen(r) as f:
        return code, f.read()


def test_run_in_process(runtime: Runtime, tmp_path: Path, busybox_rootfs: Path) -> None:
    cid, b = _bundle(tmp_path, busybox_rootfs, ["sh", "-c", "echo $$ $(hostname); exit 3"])
    code, out = _run(runtime, cid, b)
    assert (code, out) == (3, "1 box\n")
    assert runtime.list() == []
    assert not list(Path("/sys/fs/cgroup").glob(f"*/skiff/{cid}"))


def test_exec_failures_give_126_and_127(runtime: Runtime, tmp_path: Path, busybox_rootfs: Path) -> None:
    cid, b = _bundle(tmp_path, busybox_rootfs, ["/bin/nope"])
    with pytest.raises(ExecFailed) as e:
        runtime.run(cid, b)
    assert e.value.exit_code == 127
    cid, b = _bundle(tmp_path, busybox_rootfs, ["/etc/passwd"])
    with pytest.raises(ExecFailed) as e:
        runtime.run(cid, b)
    assert e.value.exit_code == 126
    assert runtime.list() == []


def test_oom_is_reported(runtime: Runtime, tmp_path: Path, busybox_rootfs: Path) -> None:
    mem = 32 * 1024 * 1024
    cid, b = _bundle(tmp_path, busybox_rootfs, ["dd", "if=/dev/zero", "of=/dev/null", "bs=128M", "count=1"],
                     resources=LinuxResources(memory=LinuxMemory(limit=mem, swap=mem)))
    code, _ = _run(runtime, cid, b, keep=True)
    assert code == 137
    assert runtime.oom_killed(cid)
    runtime.delete(cid)


def test_stats_pause_resume_and_state_machine(runtime: Runtime, tmp_path: Path, busybox_rootfs: Path) -> None:
    cid, b = _bundle(tmp_path, busybox_rootfs, ["sleep", "30"])
    st = runtime.create(cid, b, stdio=(0, 1, 2))
    assert st.status == "created"
    with pytest.raises(StateTransitionError):
        runtime.resume(cid)
    runtime.start(cid)
    assert runtime.state(cid).status == "running"
    with pytest.raises(StateTransitionError):
        runtime.start(cid)
    stats = runtime.stats(cid)
    assert stats.pids_current == 1 and (stats.memory_usage or 0) > 0 and stats.oom_kills == 0
    runtime.pause(cid)
    assert runtime.state(cid).status == "paused"
    runtime.resume(cid)
    assert runtime.state(cid).status == "running"
    with pytest.raises(StateTransitionError):
        runtime.delete(cid)
    code = runtime.exec(cid, dataclasses.replace(_process(b), args=["sh", "-c", "exit 4"]), stdio=(0, 1, 2))
    assert code == 4
    runtime.kill(cid, 9)
    deadline = time.monotonic() + 5
    while runtime.state(cid).status != "stopped" and time.monotonic() < deadline:
        time.sleep(0.01)
    runtime.delete(cid)
    assert not list(Path("/sys/fs/cgroup").glob(f"*/skiff/{cid}"))


def _process(b: Path):  # type: ignore[no-untyped-def]
    from skiff.runtime.bundle import load

    proc = load(b).spec.process
    assert proc is not None
    return proc


def test_terminal_direct_mode(runtime: Runtime, tmp_path: Path, busybox_rootfs: Path) -> None:
    cid, b = _bundle(tmp_path, busybox_rootfs, ["sh", "-c", "tty; echo ok"], terminal=True)
    masters: list[int] = []
    code = runtime.run(cid, b, on_terminal=masters.append)
    assert code == 0 and len(masters) == 1
    out = b""
    while select.select([masters[0]], [], [], 0.5)[0]:
        try:
            chunk = os.read(masters[0], 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    os.close(masters[0])
    assert out.replace(b"\r", b"").split() == [b"/dev/pts/0", b"ok"]


def test_console_socket_cli(tmp_path: Path, busybox_rootfs: Path) -> None:
    cid, b = _bundle(tmp_path, busybox_rootfs, ["sh", "-c", "tty; echo ok"], terminal=True)
    sock_path = str(tmp_path / "console.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(sock_path)
    srv.listen(1)
    proc = subprocess.Popen([str(Path(sys.executable).parent / "skiff-runtime"), "--root", str(tmp_path / "st"),
                             "run", "--console-socket", sock_path, "--bundle", str(b), cid])
    try:
        conn, _ = srv.accept()
        _msg, fds, _f, _a = socket.recv_fds(conn, 1024, 1)
        conn.close()
        assert proc.wait(timeout=30) == 0
        out = b""
        while select.select([fds[0]], [], [], 0.5)[0]:
            try:
                chunk = os.read(fds[0], 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        os.close(fds[0])
        assert out.replace(b"\r", b"").split() == [b"/dev/pts/0", b"ok"]
    finally:
        proc.kill()
        proc.wait()
        srv.close()


def test_leaked_fds_and_host_cwd(runtime: Runtime, tmp_path: Path, busybox_rootfs: Path) -> None:
    leak = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    os.set_inheritable(leak, True)
    try:
        cid, b = _bundle(tmp_path, busybox_rootfs, ["sh", "-c", "ls /proc/$$/fd"])
        code, out = _run(runtime, cid, b)
        assert code == 0 and str(leak) not in out.split()
        cid, b = _bundle(tmp_path, busybox_rootfs, ["pwd"], cwd=f"/proc/self/fd/{leak}")
        with pytest.raises(ContainerStartError):
            _run(runtime, cid, b)
    finally:
        os.close(leak)
    assert runtime.list() == []


def test_hooks_run_with_state_on_stdin(runtime: Runtime, tmp_path: Path, busybox_rootfs: Path) -> None:
    from skiff.oci.runtime import Hook, Hooks

    log = tmp_path / "hooks.log"
    hook = tmp_path / "hook.sh"
    hook.write_text(f"#!/bin/sh\nread -r state\necho \"$1 $state\" >> {log}\n")
    hook.chmod(0o755)
    cid, b = _bundle(tmp_path, busybox_rootfs, ["true"])
    spec = json.loads((b / "config.json").read_text())
    hooks = Hooks(create_runtime=[Hook(path=str(hook), args=["hook", "createRuntime"])],
                  prestart=[Hook(path=str(hook), args=["hook", "prestart"])],
                  poststart=[Hook(path=str(hook), args=["hook", "poststart"])],
                  poststop=[Hook(path=str(hook), args=["hook", "poststop"])])
    spec["hooks"] = to_obj(hooks)
    (b / "config.json").write_text(json.dumps(spec))
    assert runtime.run(cid, b) == 0
    lines = log.read_text().splitlines()
    assert [ln.split()[0] for ln in lines] == ["createRuntime", "prestart", "poststart", "poststop"]
    assert json.loads(lines[0].split(" ", 1)[1])["id"] == cid


def test_failing_prestart_hook_leaves_nothing(runtime: Runtime, tmp_path: Path, busybox_rootfs: Path) -> None:
    cid, b = _bundle(tmp_path, busybox_rootfs, ["true"])
    spec = json.loads((b / "config.json").read_text())
    spec["hooks"] = {"prestart": [{"path": "/bin/false"}]}
    (b / "config.json").write_text(json.dumps(spec))
    with pytest.raises(ContainerStartError, match=r"hooks\.prestart\[0\]"):
        runtime.run(cid, b)
    assert runtime.list() == []
    assert not list(Path("/sys/fs/cgroup").glob(f"*/skiff/{cid}"))


def test_cgroup_v1_resources_written(runtime: Runtime, tmp_path: Path, busybox_rootfs: Path) -> None:
    from skiff.oci.runtime import LinuxBlockIO, LinuxCPU, LinuxPids, LinuxThrottleDevice
    from skiff.runtime.cgroups.base import Setup, detect

    if detect() is Setup.UNIFIED:
        pytest.skip("host uses cgroup v2 only")
    blockdevs = sorted(Path("/sys/block").glob("*/dev"))
    major, minor = (int(x) for x in blockdevs[0].read_text().split(":")) if blockdevs else (0, 0)
    throttle = [LinuxThrottleDevice(major=major, minor=minor, rate=1048576)] if blockdevs else []
    res = LinuxResources(memory=LinuxMemory(limit=64 << 20, swap=128 << 20, swappiness=10),
                         cpu=LinuxCPU(shares=512, quota=50000, period=100000, cpus="0", mems="0"),
                         pids=LinuxPids(limit=42),
                         block_io=LinuxBlockIO(throttle_read_bps_device=throttle))
    cid, b = _bundle(tmp_path, busybox_rootfs, ["sleep", "30"], resources=res)
    runtime.create(cid, b, stdio=(0, 1, 2))
    cg = Path("/sys/fs/cgroup")
    want = {f"memory/skiff/{cid}/memory.limit_in_bytes": str(64 << 20),
            f"memory/skiff/{cid}/memory.memsw.limit_in_bytes": str(128 << 20),
            f"cpu/skiff/{cid}/cpu.shares": "512", f"cpu/skiff/{cid}/cpu.cfs_quota_us": "50000",
            f"cpu/skiff/{cid}/cpu.cfs_period_us": "100000", f"cpuset/skiff/{cid}/cpuset.cpus": "0",
            f"pids/skiff/{cid}/pids.max": "42", f"blkio/skiff/{cid}/blkio.throttle.read_bps_device": f"{major}:{minor} 1048576" if blockdevs else ""}
    got = {k: (cg / k).read_text().strip() for k in want if (cg / k).exists()}
    assert got == {k: v for k, v in want.items() if k in got} and len(got) >= 6
    pid = runtime.state(cid).pid
    assert f"/skiff/{cid}" in Path(f"/proc/{pid}/cgroup").read_text()
    runtime.delete(cid, force=True)
    assert not list(cg.glob(f"*/skiff/{cid}"))


def _cgroup_lines(pid: int) -> dict[str, str]:
    """/proc/PID/cgroup as {hierarchy: path}; the cgroup2 line's hierarchy is ''."""
    out = {}
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, ctrls, path = line.split(":", 2)
        out[ctrls] = path
    return out


class _NoClone3:
    """The real kernel, except that clone3 fails as on Linux < 5.7."""

    def __init__(self) -> None:
        from skiff.kernel.linux import LinuxKernel

        self._k = LinuxKernel()

    def __getattr__(self, name: str) -> object:
        return getattr(self._k, name)

    def clone(self, flags: int, cgroup_fd: int | None = None) -> int:
        if cgroup_fd is not None:
            import errno

            raise OSError(errno.ENOSYS, "clone3: Function not implemented")
        return self._k.clone(flags)


@pytest.mark.parametrize("clone3", [True, False], ids=["clone3", "no-clone3"])
def test_process_joins_every_hierarchy(tmp_path: Path, busybox_rootfs: Path, clone3: bool) -> None:
    """The container and an exec'd process are in the container's cgroup in every hierarchy skiff manages:
    the v1 ones (the child writes 0 to their `tasks`) and cgroup2 (clone3 CLONE_INTO_CGROUP, or the parent
    moves it when clone3 is missing)."""
    from skiff.runtime.cgroups.v1 import CONTROLLERS

    rt = Runtime(tmp_path / "state", kernel=None if clone3 else _NoClone3())  # type: ignore[arg-type]
    cid, b = _bundle(tmp_path, busybox_rootfs, ["sleep", "30"])
    try:
        rt.create(cid, b, stdio=(0, 1, 2))
        rt.start(cid)
        pid = rt.state(cid).pid
        proc = default_spec(["sleep", "20"]).process
        assert proc is not None
        exec_pid = rt.exec(cid, proc, stdio=(0, 1, 2), detach=True)
        for p in (pid, exec_pid):
            lines = _cgroup_lines(p)
            joined = {h: path for h, path in lines.items()
                      if h == "" or any(c in h.split(",") for c in CONTROLLERS)}
            assert joined and all(path.endswith(f"/skiff/{cid}") for path in joined.values()), lines
    finally:
        rt.delete(cid, force=True)
    assert not list(Path("/sys/fs/cgroup").glob(f"*/skiff/{cid}"))


def test_refuses_to_fork_with_other_threads(runtime: Runtime, tmp_path: Path, busybox_rootfs: Path) -> None:
    import threading

    cid, b = _bundle(tmp_path, busybox_rootfs, ["true"])
    release = threading.Event()
    t = threading.Thread(target=release.wait)
    t.start()
    try:
        with pytest.raises(ContainerStartError, match="single-threaded process"):
            runtime.run(cid, b, stdio=(0, 1, 2))
    finally:
        release.set()
        t.join()
    assert runtime.list() == [] and not (tmp_path / "state" / cid).exists()
    assert runtime.run(cid, b, stdio=(0, 1, 2)) == 0
