"""The parent side of starting a process in a container: clone into namespaces, map ids, join the cgroup,
drive the sync channel, and turn the child's typed messages into results or errors.

Forking happens only while the interpreter has one thread (threads do not survive fork; runc needs nsexec.c
for the same reason).
"""

from __future__ import annotations

import _thread
import os
import signal
from collections.abc import Callable

from skiff.kernel import (
    CLONE_NEWCGROUP,
    CLONE_NEWIPC,
    CLONE_NEWNET,
    CLONE_NEWNS,
    CLONE_NEWPID,
    CLONE_NEWTIME,
    CLONE_NEWUSER,
    CLONE_NEWUTS,
    Kernel,
)
from skiff.oci.runtime import LinuxIDMapping, Process, Spec
from skiff.records import dataclass, field
from skiff.runtime import init
from skiff.runtime.errors import ContainerStartError, ExecFailed
from skiff.runtime.sync import Channel, Failed, Go, Ready, Start, Terminal
from skiff.runtime.sync import ExecFailed as ExecFailedMsg

TYPE_CHECKING = False
if TYPE_CHECKING:
    from skiff.runtime.cgroups.base import Manager

NS_FLAGS = {"pid": CLONE_NEWPID, "network": CLONE_NEWNET, "mount": CLONE_NEWNS, "ipc": CLONE_NEWIPC,
            "uts": CLONE_NEWUTS, "user": CLONE_NEWUSER, "cgroup": CLONE_NEWCGROUP, "time": CLONE_NEWTIME}
PROC_NS = {"pid": "pid", "network": "net", "mount": "mnt", "ipc": "ipc", "uts": "uts", "user": "user",
           "cgroup": "cgroup", "time": "time"}
# Join order: user first (it owns the others), mount last (it changes what paths mean).
JOIN_ORDER = ("user", "ipc", "uts", "network", "cgroup", "time", "mount")

TerminalHandler = Callable[[int], None]


@dataclass
class Launch:
    """What to start: the process, how it enters its namespaces, and what the parent does around it."""

    spec: Spec
    process: Process
    rootfs: str
    bundle: str
    cgroup: Manager | None
    stdio: tuple[int, int, int] | None = None
    start_fifo: int | None = None
    on_terminal: TerminalHandler | None = None
    seccomp: bytes | None = None
    seccomp_flags: int = 0
    preserve_fds: int = 0
    exec_into: int | None = None  # pid of a running container to join (exec path)
    detach: bool = False  # the process outlives the caller (exec -d)
    on_clone: Callable[[int], None] | None = None  # told the pid as soon as the namespaces exist
    extra_joins: list[tuple[int, str]] = field(default_factory=list)


def _same_ns(path: str, kind: str) -> bool:
    try:
        return os.stat(path).st_ino == os.stat(f"/proc/self/ns/{kind}").st_ino
    except OSError:
        return False


def _plan(launch: Launch) -> tuple[int, list[tuple[int, str]], str | None, bool, bool]:
    """-> (clone flags, setns joins, pid namespace to join, new user ns, new cgroup ns)."""
    flags = 0
    joins: list[tuple[int, str]] = []
    pid_join: str | None = None
    new_userns = new_cgroupns = False
    linux = launch.spec.linux
    namespaces: dict[str, str | None] = {ns.type: ns.path for ns in (linux.namespaces if linux else [])}
    if launch.exec_into is not None:
        for kind in namespaces:
            ns_path = f"/proc/{launch.exec_into}/ns/{PROC_NS[kind]}"
            if kind == "pid":
                pid_join = ns_path
            elif not _same_ns(ns_path, PROC_NS[kind]):
                joins.append((NS_FLAGS[kind], ns_path))
    else:
        for kind, path in namespaces.items():
            if path:
                if kind == "pid":
                    pid_join = path
                else:
                    joins.append((NS_FLAGS[kind], path))
            elif kind == "cgroup":
                new_cgroupns = True
            else:
                flags |= NS_FLAGS[kind]
                new_userns = new_userns or kind == "user"
    order = {NS_FLAGS[k]: i for i, k in enumerate(JOIN_ORDER)}
    joins.sort(key=lambda j: order.get(j[0], 0))
    return flags, joins, pid_join, new_userns, new_cgroupns


def _write_maps(pid: int, uid_maps: list[LinuxIDMapping], gid_maps: list[LinuxIDMapping]) -> None:
    for name, maps in (("uid_map", uid_maps), ("gid_map", gid_maps)):
        if maps:
            text = "".join(f"{m.container_id} {m.host_id} {m.size}\n" for m in maps)
            with open(f"/proc/{pid}/{name}", "w") as f:
                f.write(text)


def _fork(kernel: Kernel, flags: int, cgroup_fd: int | None) -> tuple[int, bool]:
    """-> (pid, whether the child started in the cgroup2 folder ``cgroup_fd``)."""
    if cgroup_fd is not None:
        try:
            return kernel.clone(flags, cgroup_fd), True
        except OSError:  # no clone3 / CLONE_INTO_CGROUP (Linux < 5.7), or a refusal: the parent moves it instead
            pass
    return kernel.clone(flags), False


def _clone(kernel: Kernel, flags: int, pid_join: str | None, cgroup_fd: int | None = None) -> tuple[int, bool]:
    if pid_join is None:
        return _fork(kernel, flags, cgroup_fd)
    own = os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
    target = os.open(pid_join, os.O_RDONLY | os.O_CLOEXEC)
    try:
        kernel.setns(target, CLONE_NEWPID)  # only pid_for_children changes
        pid = -1
        try:
            pid, placed = _fork(kernel, flags, cgroup_fd)
        finally:
            if pid != 0:
                kernel.setns(own, CLONE_NEWPID)  # the parent's later children stay in its own pid ns
    finally:
        os.close(own)
        os.close(target)
    return pid, placed


def spawn(kernel: Kernel, launch: Launch) -> tuple[int, Channel]:
    """Clone the container's process and take it to Ready. Returns (pid, parent's channel end).

    On any failure the child is killed and reaped, and the error raised (ExecFailed gives 126/127).
    """
    others = _thread._count()  # threads started by Python, threading's or not (threading costs an import)
    if others:
        raise ContainerStartError("the runtime forks only from a single-threaded process "
                                  f"({others + 1} threads are running)")
    flags, joins, pid_join, new_userns, new_cgroupns = _plan(launch)
    task_fds, cgroup_fd = launch.cgroup.join_fds() if launch.cgroup is not None else ([], None)
    parent, child = Channel.pair()
    cfg = init.InitConfig(spec=launch.spec, process=launch.process, rootfs=launch.rootfs, bundle=launch.bundle,
                          channel=child, stdio=launch.stdio, start_fifo=launch.start_fifo,
                          new_userns=new_userns, new_cgroupns=new_cgroupns, joins=joins + launch.extra_joins,
                          seccomp=launch.seccomp, seccomp_flags=launch.seccomp_flags, preserve_fds=launch.preserve_fds,
                          exec_mode=launch.exec_into is not None, outlive_parent=launch.detach,
                          cgroup_fds=task_fds,
                          cgroup_view=launch.cgroup.view() if launch.cgroup is not None else None)
    pid = -1
    try:
        pid, placed = _clone(kernel, flags, pid_join, cgroup_fd)
    except OSError as e:
        parent.close()
        child.close()
        raise ContainerStartError(f"cannot create the container process: {e}") from None
    finally:
        if cgroup_fd is not None:
            os.close(cgroup_fd)
        if pid != 0:  # the parent, or no child; the child writes to these first, then closes them
            for fd in task_fds:
                os.close(fd)
    if pid == 0:  # the child: never returns
        parent.close()
        init.run(kernel, cfg)
    child.close()
    try:
        if launch.on_clone is not None:  # e.g. the network helper attaches while the child sets its root up
            launch.on_clone(pid)
        if new_userns and launch.spec.linux is not None:
            _write_maps(pid, launch.spec.linux.uid_mappings, launch.spec.linux.gid_mappings)
        if launch.cgroup is not None and not placed:
            launch.cgroup.add_v2(pid)
        parent.send(Go())
        _await_ready(parent, launch)
    except BaseException:
        _kill_and_reap(pid)
        parent.close()
        raise
    return pid, parent


def _await_ready(ch: Channel, launch: Launch) -> None:
    while True:
        msg, fds = ch.recv()
        if isinstance(msg, Terminal):
            for fd in fds:
                if launch.on_terminal is not None:
                    launch.on_terminal(fd)
                else:
                    os.close(fd)
            continue
        for fd in fds:
            os.close(fd)
        if isinstance(msg, Ready):
            return
        if isinstance(msg, ExecFailedMsg):
            raise ExecFailed(msg.message, msg.errno)
        if isinstance(msg, Failed):
            raise ContainerStartError(f"container init: {msg.message}")
        raise ContainerStartError("container init exited during set-up")


def start_and_confirm(ch: Channel) -> None:
    """Tell a Ready child to exec; EOF means execve succeeded (the channel is close-on-exec)."""
    try:
        ch.send(Start())
        msg, fds = ch.recv()
    finally:
        ch.close()
    for fd in fds:
        os.close(fd)
    if isinstance(msg, ExecFailedMsg):
        raise ExecFailed(msg.message, msg.errno)
    if isinstance(msg, Failed):
        raise ContainerStartError(f"container init: {msg.message}")


def _kill_and_reap(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass


def wait_exit(pid: int) -> int:
    """Reap ``pid`` (our child) and return its exit code, 128+N when killed by signal N."""
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except InterruptedError:
            continue
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code


def send_console(console_socket: str, fd: int) -> None:
    """Hand the pty master to a console socket, as runc does (SCM_RIGHTS, name '/dev/ptmx')."""
    import socket

    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(console_socket)
        socket.send_fds(s, [b"/dev/ptmx"], [fd])
    os.close(fd)
