"""Starting a container's process under its monitor, detached or in the foreground, and attaching to it.

Detached: the CLI forks twice; the grandchild becomes a child subreaper, creates the container through the
runtime driver (so the container's init is its child, with the container's stdio pipes or pty), tells the
CLI the pids over a pipe, and execs the small monitor (``python -I -S``, :mod:`skiff.monitor.main`), which
keeps the children and the subreaper flag. The CLI then starts the container and returns; the monitor
outlives it. When the container exits the monitor records the status and execs the exit command
(``skiff container cleanup ID``).

Foreground (``run`` without ``-d``): the CLI process itself is the monitor, so no second interpreter starts;
but ``run -it`` starts detached and attaches, so that its detach keys can leave the container running.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

from skiff.errors import SkiffError
from skiff.records import dataclass

from .runtimes import RuntimeDriver

PR_SET_CHILD_SUBREAPER = 36


def set_subreaper() -> None:
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


@dataclass
class Stdio:
    """The container's side and the monitor's side of its stdio."""

    child: tuple[int, int, int]
    outputs: dict[int, int]  # monitor fd -> 1 stdout | 2 stderr
    stdin: int | None  # monitor's write end of the container's stdin
    tty: bool
    master: int | None = None

    def close_child(self) -> None:
        for fd in set(self.child):
            if fd > 2:
                os.close(fd)


def make_stdio(tty: bool, interactive: bool) -> Stdio:
    null = os.open("/dev/null", os.O_RDWR | os.O_CLOEXEC)
    if tty:
        return Stdio(child=(null, null, null), outputs={}, stdin=None, tty=True)
    out_r, out_w = os.pipe2(os.O_CLOEXEC)
    err_r, err_w = os.pipe2(os.O_CLOEXEC)
    stdin = None
    child_in = null
    if interactive:
        child_in, stdin = os.pipe2(os.O_CLOEXEC)
        os.close(null)
    return Stdio(child=(child_in, out_w, err_w), outputs={out_r: 1, err_r: 2}, stdin=stdin, tty=False)


def create_process(driver: RuntimeDriver, cid: str, bundle: Path, stdio: Stdio,
                   on_clone: Callable[[int], None] | None = None) -> int:
    """Create the container (its init becomes our child); returns its pid. Fills ``stdio.master`` for a tty.
    ``on_clone`` is told the pid as soon as the runtime allows (ours: once the namespaces exist)."""

    def on_terminal(fd: int) -> None:
        stdio.master = fd
        stdio.outputs = {fd: 1}

    pid = driver.create(cid, bundle, stdio=stdio.child, pid_file=bundle / "pid",
                        on_terminal=on_terminal if stdio.tty else None, on_clone=on_clone)
    stdio.close_child()
    if stdio.tty and stdio.master is not None:
        stdio.stdin = stdio.master
    return pid


def monitor_argv(cid: str, pid: int, stdio: Stdio, log: Path | None, exit_file: Path, attach: Path,
                 exit_cmd: list[str], *, interactive: bool, wait_attach: bool = False,
                 native: str | None = None, unless: Path | None = None, log_limits: tuple[int, int] = (0, 1),
                 health: tuple[list[str], dict[str, str]] | None = None, cgroup: str | None = None) -> list[str]:
    """The native monitor when built (``native``), else the Python one; both take the same arguments.
    ``log``: None for ``--log-driver none``; ``log_limits``: json-file's max-size (0: none) and max-file."""
    import skiff

    if native:
        argv = [native]
    else:
        src = str(Path(skiff.__file__).resolve().parent.parent)
        code = f"import sys;sys.path[0:0]=[{src!r}];from skiff.monitor.main import main;main()"
        argv = [sys.executable, "-I", "-S", "-c", code]
    argv += [f"pid={pid}", f"exit={exit_file}", f"attach={attach}", f"cgroup={cgroup or f'/skiff/{cid}'}"]
    if log is not None:
        argv.append(f"log={log}")
        if log_limits[0]:
            argv += [f"max_size={log_limits[0]}", f"max_file={log_limits[1]}"]
    if wait_attach:
        argv.append("wait_attach=10")
    if unless is not None:
        argv.append(f"unless={unless}")
    if stdio.master is not None:
        argv += [f"tty={stdio.master}", f"stdin={1 if interactive else 0}"]
    else:
        for fd, kind in stdio.outputs.items():
            argv.append(f"{'out' if kind == 1 else 'err'}={fd}")
        if stdio.stdin is not None:
            argv.append(f"in={stdio.stdin}")
    if health is not None:  # the health check's schedule, then its probe command
        argv += [f"{k}={v}" for k, v in health[1].items()]
        argv += ["--health", *health[0]]
    return [*argv, "--", *exit_cmd]


@dataclass(frozen=True)
class Launched:
    """What :func:`launch_detached` started: the container's init process and its monitor."""

    pid: int
    monitor_pid: int


def launch_detached(driver: RuntimeDriver, cid: str, bundle: Path, *, tty: bool, interactive: bool,
                    log: Path | None, exit_file: Path, attach: Path, exit_cmd: list[str],
                    monitor_log: Path, wait_attach: bool = False, native_dir: Path | None = None,
                    log_limits: tuple[int, int] = (0, 1), unless: Path | None = None,
                    health: tuple[list[str], dict[str, str]] | None = None, cgroup: str | None = None) -> Launched:
    """Fork the monitor-to-be, create the container in it, exec the monitor; return once created."""
    from skiff.monitor.native import binary

    native = binary(native_dir) if native_dir is not None else None
    stdio = make_stdio(tty, interactive)
    r, w = os.pipe2(os.O_CLOEXEC)
    sys.stdout.flush()
    sys.stderr.flush()
    c0 = os.fork()
    if c0 == 0:  # pragma: no cover - runs in the forked children
        code = 1
        try:
            os.close(r)
            os.setsid()
            if os.fork() == 0:
                _monitor_child(driver, cid, bundle, stdio, w, (log, log_limits), exit_file, attach, exit_cmd,
                               monitor_log, interactive, wait_attach, native, unless, (health, cgroup))
            code = 0
        finally:
            os._exit(code)
    os.close(w)
    for fd in {*stdio.child, *stdio.outputs, *([stdio.stdin] if stdio.stdin is not None else [])}:
        if fd > 2:
            os.close(fd)
    chunks = []
    while True:  # one line: the container's init holds the pipe open until it execs
        b = os.read(r, 65536)
        chunks.append(b)
        if not b or b.endswith(b"\n"):
            break
    os.close(r)
    os.waitpid(c0, 0)
    msg = b"".join(chunks).decode(errors="replace").rstrip("\n")
    if not msg.startswith("OK "):
        text, _, status = msg.partition("\x00")
        raise SkiffError(text or "the container monitor failed to start",
                         exit_code=int(status) if status.strip().isdigit() else 125)
    _, mpid, pid = msg.split()
    return Launched(pid=int(pid), monitor_pid=int(mpid))


def _monitor_child(driver: RuntimeDriver, cid: str, bundle: Path, stdio: Stdio, w: int,
                   log: tuple[Path | None, tuple[int, int]],
                   exit_file: Path, attach: Path, exit_cmd: list[str], monitor_log: Path,
                   interactive: bool, wait_attach: bool,
                   native: str | None, unless: Path | None,
                   extra: tuple[tuple[list[str], dict[str, str]] | None, str | None]
                   ) -> None:  # pragma: no cover - runs in the forked child
    try:
        set_subreaper()
        pid = create_process(driver, cid, bundle, stdio)
        if wait_attach and stdio.master is not None and os.isatty(0):  # the attaching terminal's size (run -it)
            from skiff.monitor.monitor import set_winsize

            try:
                size = os.get_terminal_size(0)
                set_winsize(stdio.master, size.lines, size.columns)
            except OSError:
                pass
        argv = monitor_argv(cid, pid, stdio, log[0], exit_file, attach, exit_cmd, interactive=interactive,
                            wait_attach=wait_attach, native=native, unless=unless, log_limits=log[1],
                            health=extra[0], cgroup=extra[1])
        keep = [*stdio.outputs, *([stdio.stdin] if stdio.stdin is not None else [])]
        for fd in keep:
            os.set_inheritable(fd, True)
        null = os.open("/dev/null", os.O_RDONLY)
        mlog = os.open(monitor_log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.dup2(null, 0)
        os.dup2(mlog, 1)
        os.dup2(mlog, 2)
        os.write(w, f"OK {os.getpid()} {pid}\n".encode())
        os.close(w)
        os.execv(argv[0], argv)
    except BaseException as e:
        code = e.exit_code if isinstance(e, SkiffError) else 125
        try:
            os.write(w, (str(e).replace("\n", " ") + f"\x00{code}\n").encode())
        finally:
            os._exit(1)
