"""exec: a new process in a running container's namespaces and cgroup (through the container's runtime)."""

from __future__ import annotations

import os
import signal
from contextlib import nullcontext
from typing import TYPE_CHECKING

from skiff.errors import ConflictError, SkiffError
from skiff.records import dataclass, field, replace

from .containers_state import Status

if TYPE_CHECKING:
    from skiff.oci.runtime import Process

    from .containers import ContainerEngine
    from .containers_model import ContainerRecord


@dataclass(frozen=True)
class ExecOptions:
    """What `skiff exec` was asked for: the command, and its tty, stdin, environment, user and workdir."""

    command: list[str]
    detach: bool = False
    interactive: bool = False
    tty: bool = False
    env: list[str] = field(default_factory=list)
    env_files: list[str] = field(default_factory=list)
    user: str | None = None
    workdir: str | None = None
    privileged: bool = False
    detach_keys: str | None = None  # -it: the keys that let go of the process (ctrl-p,ctrl-q when None)


def exec_in(eng: ContainerEngine, text: str, opts: ExecOptions) -> int:
    """Run ``opts.command`` in the container; its exit code (0 when detached). As Docker: 127 when the command
    is not found, 126 when it cannot be invoked or the process cannot be set up (an unknown user, a missing
    working directory...), 1 for a container that is not running, paused or restarting."""
    if not opts.command:
        raise SkiffError("exec requires at least 1 argument", exit_code=1)
    cid, rec, process, keys = prepare(eng, text, opts)
    exec_id = {"execID": os.urandom(32).hex()}
    command = " ".join(opts.command)  # moby: the entrypoint and its arguments, in the event's action
    eng.event(rec, f"exec_create: {command}", exec_id)
    eng.event(rec, f"exec_start: {command}", exec_id)
    try:
        code = _start(eng, cid, rec.host_config.runtime, process, opts, keys)
    except SkiffError as e:
        if e.exit_code == 125:  # the process could not be set up: moby records 126 for a failed exec start
            e.exit_code = 126
        raise
    if not opts.detach:
        eng.event(rec, "exec_die", {**exec_id, "exitCode": str(code)})
    return code


def prepare(eng: ContainerEngine, text: str, opts: ExecOptions) -> tuple[str, ContainerRecord, Process, bytes]:
    """(container ID, its record, the process to start in it, the detach keys): every check exec makes before
    it starts anything (the health checks' probes start theirs the same way)."""
    from skiff.oci.runtime import LinuxCapabilities, Process, User

    from .bundles import capabilities, no_new_privileges, resolve_user
    from .containers_create import _check_exec
    from .containers_options import merge_env, parse_env_line, process_env, read_env_file

    env = []  # docker/cli reads --env-file and -e before it looks the container up
    for f in opts.env_files:
        env += read_env_file(f)
    for e in opts.env:
        # a bare NAME the host does not set unsets NAME (moby's ReplaceOrAppendEnvValues)
        env.append(parse_env_line(e) or e)
    cid = eng.cs.resolve(text)
    st = eng.cs.state(cid)
    if st.st is Status.PAUSED:  # moby's errExecPaused names the container as it was given
        raise ConflictError(f"Container {text} is paused, unpause the container before exec", exit_code=1)
    if st.st is Status.RESTARTING:
        raise ConflictError(f"Container {cid} is restarting, wait until the container is running", exit_code=1)
    if st.st is not Status.RUNNING:
        raise ConflictError(f"Container {cid} is not running", exit_code=1)
    rec = eng.cs.record(cid)
    rootfs = f"/proc/{st.pid}/root"
    base = list(rec.config.env)
    if rec.host_config.links:  # moby's exec gets the legacy links' variables, as the container's start did
        from .networks import with_links

        base = list(with_links(eng, rec).config.env)
    env = merge_env(process_env(base, rec.config.hostname, opts.tty), env)
    cwd = opts.workdir or rec.config.working_dir or "/"
    if not cwd.startswith("/"):
        raise SkiffError("exec failed: Cwd must be an absolute path", exit_code=126)  # runc's check
    try:
        uid, gid, extra, home = resolve_user(rootfs, opts.user if opts.user is not None else rec.config.user,
                                             rec.host_config.group_add)
    except SkiffError as e:
        raise SkiffError(e.message, exit_code=126) from None
    keys = b""
    if opts.detach_keys or (opts.tty and opts.interactive and not opts.detach):  # moby's exec create checks them
        from .containers_attach import detach_sequence

        keys = detach_sequence(opts.detach_keys, noun="escape")
    if not any(e.startswith("HOME=") for e in env):
        env.append(f"HOME={home}")
    _check_exec(rootfs, opts.command[0], env, cwd)
    caps = capabilities(rec.host_config.cap_add, rec.host_config.cap_drop,
                        rec.host_config.privileged or opts.privileged)
    process = Process(args=list(opts.command), cwd=cwd, env=env, terminal=opts.tty,
                      user=User(uid=uid, gid=gid, additional_gids=extra),
                      capabilities=LinuxCapabilities(bounding=caps, effective=caps, permitted=caps),
                      no_new_privileges=no_new_privileges(rec.host_config.security_opt, rec.host_config.privileged))
    return cid, rec, process, keys


def _start(eng: ContainerEngine, cid: str, runtime: str, process: Process, opts: ExecOptions,
           detach_keys: bytes) -> int:
    drv = eng.driver(runtime)
    if opts.detach:
        null = os.open("/dev/null", os.O_RDWR)
        try:
            drv.exec(cid, replace(process, terminal=False), detach=True, stdio=(null, null, null))
        finally:
            os.close(null)
        return 0
    if not opts.tty:
        stdin = 0 if opts.interactive else os.open("/dev/null", os.O_RDONLY)
        try:
            return drv.exec(cid, process, detach=False, stdio=(stdin, 1, 2))
        finally:
            if stdin != 0:
                os.close(stdin)
    return _exec_tty(eng, drv, cid, process, opts.interactive, detach_keys)


def _exec_tty(eng: ContainerEngine, drv: object, cid: str, process: Process, interactive: bool,
              detach_keys: bytes) -> int:
    """-t: the runtime hands us the pty master; pump it to our terminal (raw mode, window size). With -i, the
    detach keys let go of the terminal (``containers_attach.Detached``) and the process runs on, as Docker's."""
    from skiff.monitor.monitor import Monitor, set_winsize

    from .containers_attach import Detached, EscapeProxy, raw_terminal, terminal_size
    from .containers_launch import set_subreaper

    masters: list[int] = []
    null = os.open("/dev/null", os.O_RDWR)
    set_subreaper()
    pid = drv.exec(cid, process, detach=True, stdio=(null, null, null),  # type: ignore[attr-defined]
                   on_terminal=masters.append)
    os.close(null)
    if not masters:
        raise SkiffError("exec -t: the runtime did not provide a terminal")
    master = masters[0]
    if size := terminal_size(0):
        set_winsize(master, *size)
    def on_winch(signum: int, frame: object) -> None:
        if size := terminal_size(0):
            set_winsize(master, *size)

    old = signal.signal(signal.SIGWINCH, on_winch)
    escape = EscapeProxy(detach_keys) if interactive and detach_keys else None
    mon = Monitor(pid=pid, outputs={master: 1}, stdin_fd=master, log_path=None, local_out={1: 1},
                  local_in=0 if interactive else None, forward_signals=True, terminal_fd=master,
                  local_filter=escape.feed if escape is not None else None)
    try:
        with raw_terminal(0) if interactive else nullcontext():
            return mon.run()
    except Detached:
        _hold_terminal(master)
        raise
    finally:
        signal.signal(signal.SIGWINCH, old)
        os.close(master)


def _hold_terminal(master: int) -> None:
    """After the detach keys: a child of ours, in a session of its own, keeps the process's pty master open and
    drains it until the process side lets go (EIO), as Docker's shim does; closing the master would hang the
    process up, and a full pty would block its writes."""
    import sys

    sys.stdout.flush()
    sys.stderr.flush()
    if os.fork():
        return
    try:  # pragma: no cover - runs in the forked child
        os.setsid()
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        os.closerange(3, master)  # nothing else of ours (lock files, sockets) stays open
        os.closerange(master + 1, os.sysconf("SC_OPEN_MAX"))
        for signum in (signal.SIGWINCH, signal.SIGCHLD, signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_DFL)
        os.set_blocking(master, True)
        while os.read(master, 65536):
            pass
    except BaseException:
        pass
    finally:
        os._exit(0)
