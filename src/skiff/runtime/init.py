"""The child side: one ordered list of steps from a fresh clone to execve of the user's command.

Runs in the cloned child (new namespaces already created by clone). Every failure is sent to the parent as a
typed message and the child exits; it never returns into the caller's code.

CVE-2019-5736 (the container overwriting the runtime through /proc/<pid>/exe). runc answers it by running
from a sealed memfd copy of itself (or a read-only bind of its binary) because its init is the runc binary;
crun likewise re-executes from a memfd. skiff's init is the Python interpreter that called the library, and
copying it to a memfd would cost a second interpreter start, so instead:

* the init marks itself non-dumpable (PR_SET_DUMPABLE 0) before it enters anything; no process in the
  container can then open /proc/<init>/exe, /proc/<init>/fd or /proc/<init>/mem while Python runs there
  (ptrace access checks fail without CAP_SYS_PTRACE, which the defaults never grant);
* Python is gone from the container the moment execve succeeds: the container's PID 1 is the user's program;
  nothing of the runtime stays in the container (no init shim, no open fds: everything is close-on-exec);
* the command, its real path and its ``#!`` interpreter are refused when they point into /proc (the
  ``#!/proc/self/exe`` trick would otherwise execute the host interpreter inside the container);
* `exec` joins with the same non-dumpable init and the same checks.
"""

from __future__ import annotations

import errno
import fcntl
import os
import resource
import signal
import stat
import struct
import termios

from skiff.kernel import (
    CLONE_NEWCGROUP,
    CLOSE_RANGE_CLOEXEC,
    MS_BIND,
    PR_SET_DUMPABLE,
    PR_SET_KEEPCAPS,
    PR_SET_NO_NEW_PRIVS,
    PR_SET_PDEATHSIG,
    Kernel,
)
from skiff.oci.runtime import Process, Spec
from skiff.records import dataclass, field
from skiff.runtime import capabilities, rlimits, rootfs
from skiff.runtime.cgroupfs import CgroupView
from skiff.runtime.sync import Channel, ExecFailed, Failed, Go, Ready, Start, Terminal

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from typing import NoReturn

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass
class InitConfig:
    """What the container's init needs (a docstring also spares dataclasses an inspect.signature call)."""

    spec: Spec
    process: Process
    rootfs: str
    bundle: str
    channel: Channel
    stdio: tuple[int, int, int] | None = None
    start_fifo: int | None = None  # O_RDWR fd of exec.fifo: wait for `start` there instead of the channel
    new_userns: bool = False
    new_cgroupns: bool = False
    joins: list[tuple[int, str]] = field(default_factory=list)  # (CLONE_NEW* flag, /proc/.../ns path)
    seccomp: bytes | None = None  # compiled BPF
    seccomp_flags: int = 0
    preserve_fds: int = 0
    exec_mode: bool = False  # joining an existing container: no rootfs set-up
    outlive_parent: bool = False  # a detached exec: the caller exits once execve succeeded
    cgroup_fds: list[int] = field(default_factory=list)  # cgroup v1 `tasks` files to write 0 (this thread) to
    cgroup_view: CgroupView | None = None  # what a `cgroup` mount shows (the container's own cgroups)


class _ExecError(Exception):
    def __init__(self, err: int, message: str) -> None:
        super().__init__(message)
        self.errno = err


def run(kernel: Kernel, cfg: InitConfig) -> NoReturn:
    code = 1
    try:
        _steps(kernel, cfg)
    except _ExecError as e:
        code = 127 if e.errno in (errno.ENOENT, errno.ENOTDIR) else 126
        _report(cfg, ExecFailed(e.errno, str(e)))
    except BaseException as e:  # everything, reported with one line, then exit
        _report(cfg, Failed(_describe(e)))
    os._exit(code)


def _describe(e: BaseException) -> str:
    if isinstance(e, OSError) and e.strerror:
        return f"{e.strerror}: {e.filename}" if e.filename and e.filename not in e.strerror else str(e)
    return str(e) or type(e).__name__


def _report(cfg: InitConfig, msg: ExecFailed | Failed) -> None:
    try:
        cfg.channel.send(msg)
    except OSError:
        os.write(2, f"skiff-runtime: {msg.message}\n".encode())


def _steps(kernel: Kernel, cfg: InitConfig) -> None:
    for fd in cfg.cgroup_fds:  # first, so that everything after is accounted to the container's cgroups
        try:
            os.write(fd, b"0")
        except OSError as e:
            raise OSError(e.errno, f"cannot join the container's cgroup: {e.strerror}") from None
        os.close(fd)
    kernel.prctl(PR_SET_DUMPABLE, 0)  # no container process may open /proc/<us>/exe or our fds
    kernel.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    _reset_signals()
    if cfg.stdio is not None:
        for i, fd in enumerate(cfg.stdio):
            if fd != i:
                os.dup2(fd, i)
    msg, _ = cfg.channel.recv()
    if not isinstance(msg, Go):
        os._exit(1)
    spec, proc = cfg.spec, cfg.process
    for nstype, path in cfg.joins:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            kernel.setns(fd, nstype)
        finally:
            os.close(fd)
    if cfg.new_userns:
        os.setresgid(0, 0, 0)
        os.setresuid(0, 0, 0)
    if cfg.new_cgroupns:
        kernel.unshare(CLONE_NEWCGROUP)
    if not cfg.exec_mode:
        os.setsid()
        rootfs.setup(kernel, spec, cfg.rootfs, cfg.bundle, in_userns=cfg.new_userns, cgroup_view=cfg.cgroup_view,
                     new_cgroupns=cfg.new_cgroupns)
        rootfs.finish(kernel, spec)
        if spec.hostname:
            kernel.sethostname(spec.hostname)
        if spec.domainname:
            kernel.setdomainname(spec.domainname)
        if spec.linux is not None and any(n.type == "network" and not n.path for n in spec.linux.namespaces):
            _loopback_up()  # a network namespace of its own: lo up, as runc and crun leave it
    elif proc.terminal:
        os.setsid()
    if proc.terminal:
        _terminal(kernel, cfg)
    rlimits.apply(proc.rlimits)
    if proc.oom_score_adj is not None:
        with open("/proc/self/oom_score_adj", "w") as f:
            f.write(str(proc.oom_score_adj))
    env = dict(e.split("=", 1) for e in proc.env)
    if "HOME" not in env:  # as runc and crun do: the user's home in the container's /etc/passwd, else /
        env["HOME"] = _home_of(proc.user.uid)
    path = _find_command(proc.args[0], env.get("PATH", DEFAULT_PATH))
    _enter_cwd(proc.cwd, create=not cfg.exec_mode)
    nnp = bool(proc.no_new_privileges)
    if cfg.seccomp is not None and not nnp:
        kernel.seccomp_load_bpf(cfg.seccomp, cfg.seccomp_flags)  # without no_new_privs loading needs CAP_SYS_ADMIN: before the caps drop
    _set_user_and_caps(kernel, proc)
    os.umask(proc.user.umask if proc.user.umask is not None else 0o022)
    _close_fds(kernel, 3 + cfg.preserve_fds)
    if cfg.start_fifo is not None:
        kernel.prctl(PR_SET_PDEATHSIG, 0)  # `create` exits after Ready; the container outlives it
    cfg.channel.send(Ready(os.getpid()))
    if cfg.start_fifo is not None:
        cfg.channel.close()
        while not os.read(cfg.start_fifo, 1):
            pass
        os.close(cfg.start_fifo)
    else:
        msg, _ = cfg.channel.recv()
        if not isinstance(msg, Start):
            os._exit(1)
        if cfg.outlive_parent:
            kernel.prctl(PR_SET_PDEATHSIG, 0)
    if nnp:
        kernel.prctl(PR_SET_NO_NEW_PRIVS, 1)
        if cfg.seccomp is not None:
            kernel.seccomp_load_bpf(cfg.seccomp, cfg.seccomp_flags)
    try:
        os.execve(path, proc.args, env)
    except OSError as e:
        raise _ExecError(e.errno or errno.EACCES, f"exec {proc.args[0]!r}: {e.strerror}") from None


def _loopback_up() -> None:
    """Bring ``lo`` up in this process's (new) network namespace: SIOCGIFFLAGS, then SIOCSIFFLAGS with IFF_UP."""
    import _socket  # loaded already (sync.py): socket.py's enum conversions are not needed for one ioctl

    s = _socket.socket(_socket.AF_INET, _socket.SOCK_DGRAM)
    try:
        flags = struct.unpack("16sH14x", fcntl.ioctl(s.fileno(), 0x8913, struct.pack("16sH14x", b"lo", 0)))[1]
        if not flags & 0x1:
            fcntl.ioctl(s.fileno(), 0x8914, struct.pack("16sH14x", b"lo", flags | 0x1))
    finally:
        s.close()


def _reset_signals() -> None:
    """The container starts with default dispositions and nothing blocked (Python ignores SIGPIPE and
    SIGXFSZ, and an engine may ignore more; ignored signals would survive execve)."""
    for sig in signal.valid_signals():
        if sig in (signal.SIGKILL, signal.SIGSTOP):
            continue
        try:
            if signal.getsignal(sig) is not signal.SIG_DFL:
                signal.signal(sig, signal.SIG_DFL)
        except (OSError, ValueError):
            pass
    signal.pthread_sigmask(signal.SIG_SETMASK, [])


def _terminal(kernel: Kernel, cfg: InitConfig) -> None:
    master, slave = os.openpty()  # /dev/ptmx is the container's devpts instance after pivot_root
    size = cfg.process.console_size
    if size is not None:
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", size.height, size.width, 0, 0))
    if not cfg.exec_mode and os.path.isdir("/dev"):
        try:
            rootfs.mount_in_root(kernel, "/", "/dev/console", f"/proc/self/fd/{slave}", None, MS_BIND, None, "file")
        except OSError:
            pass
    cfg.channel.send(Terminal(), [master])
    os.close(master)
    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
    for i in range(3):
        os.dup2(slave, i)
    if slave > 2:
        os.close(slave)


def _home_of(uid: int) -> str:
    """The home folder of ``uid`` in the container's /etc/passwd (we are in its mount namespace, after
    pivot_root or setns): a regular file only (never block on a FIFO the image put there), at most 1 MiB."""
    try:
        fd = os.open("/etc/passwd", os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return "/"
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return "/"
        data = os.read(fd, 1 << 20)
    except OSError:
        return "/"
    finally:
        os.close(fd)
    want = str(uid)
    for line in data.decode(errors="replace").splitlines():
        fields = line.split(":")
        if len(fields) >= 7 and fields[2] == want:
            return fields[5] or "/"
    return "/"


def _find_command(cmd: str, path_env: str) -> str:
    candidates = [cmd] if "/" in cmd else [os.path.join(d or ".", cmd) for d in path_env.split(":")]
    denied: str | None = None
    for c in candidates:
        try:
            st = os.stat(c)
        except OSError:
            continue
        if stat.S_ISDIR(st.st_mode) or not os.access(c, os.X_OK, effective_ids=False):
            denied = denied or c
            continue
        _refuse_proc_exe(c)
        return c
    if denied is not None:
        raise _ExecError(errno.EACCES, f"exec {cmd!r}: permission denied (not an executable file)")
    where = "" if "/" in cmd else " in $PATH"
    raise _ExecError(errno.ENOENT, f"exec {cmd!r}: executable file not found{where}")


def _refuse_proc_exe(path: str) -> None:
    """CVE-2019-5736: the command (or its #! interpreter) must not be a /proc magic link, which would execute
    the runtime's own interpreter inside the container."""
    real = os.path.realpath(path)
    interp = ""
    try:
        with open(path, "rb") as f:
            head = f.read(256)
        if head.startswith(b"#!"):
            interp = head[2:].split(b"\n")[0].strip().split(b" ")[0].decode(errors="replace")
    except OSError:
        pass
    for p in (path, real, interp):
        if p.startswith("/proc/") or p == "/proc":
            raise _ExecError(errno.EACCES, f"exec {path!r}: refusing to execute through /proc ({p})")


def _enter_cwd(cwd: str, *, create: bool) -> None:
    try:
        os.chdir(cwd)
    except FileNotFoundError:
        if not create:
            raise
        os.makedirs(cwd, 0o755, exist_ok=True)
        os.chdir(cwd)
    here = os.getcwd()  # raises ENOENT when the cwd is outside our root (CVE-2024-21626)
    if not here.startswith("/"):
        raise OSError(errno.EPERM, f"process.cwd {cwd!r} resolves outside the container")


def _set_user_and_caps(kernel: Kernel, proc: Process) -> None:
    caps = proc.capabilities
    if caps is not None:
        capabilities.drop_bounding(kernel, caps)
    kernel.prctl(PR_SET_KEEPCAPS, 1)
    user = proc.user
    os.setgroups(list(user.additional_gids))
    os.setresgid(user.gid, user.gid, user.gid)
    os.setresuid(user.uid, user.uid, user.uid)
    kernel.prctl(PR_SET_KEEPCAPS, 0)
    if caps is not None:
        capabilities.apply(kernel, caps)


def _close_fds(kernel: Kernel, first: int) -> None:
    """Every fd from ``first`` up becomes close-on-exec (the sync channel and fifo close at execve too), so
    only 0, 1, 2 and the preserved fds cross into the container (SECURITY.md 16)."""
    try:
        kernel.close_range(first, 0xFFFFFFFF, CLOSE_RANGE_CLOEXEC)
        return
    except OSError:
        pass
    limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    for fd in range(first, 65536 if limit == resource.RLIM_INFINITY else min(limit, 1 << 20)):
        try:
            os.set_inheritable(fd, False)
        except OSError:
            pass
