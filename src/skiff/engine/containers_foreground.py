"""``skiff run`` in the foreground: this process is the container's parent and its monitor (no second
interpreter on the fast path), forwarding signals, feeding stdin, following the terminal size for ``-t``.

``run -it`` and ``run --sig-proxy=false`` are the exceptions (:func:`run_attached`): the detach keys, or a
signal this process does not pass on, must leave the container running and monitored after this process
exits, so it gets a monitor of its own, as ``run -d`` does, and this process attaches to it."""

from __future__ import annotations

import os
import signal
import sys
from contextlib import AbstractContextManager, nullcontext

from skiff.monitor.monitor import Monitor, set_winsize, write_exit

from .containers_launch import create_process, make_stdio, set_subreaper
from .containers_state import State, boot_id, proc_start_time
from .networks import connect

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from typing import Any

    from .containers import ContainerEngine
    from .containers_options import CreateOptions


def run_here(eng: ContainerEngine, cid: str, *, interactive: bool, tty: bool) -> int:
    """Start the created container ``cid``; a start that fails before its process runs (127, 126, a bad user
    or seccomp profile...) is recorded on the container, which --rm then removes, as Docker does."""
    from .containers import now
    from .containers_create import prepare_bundle

    set_subreaper()
    stdio = make_stdio(tty, interactive)
    failed: BaseException | None = None
    with eng.cs.lock(cid):
        rec = eng.cs.record(cid)
        drv = eng.driver(rec.host_config.runtime)
        eng.event(rec, "attach")  # docker/cli attaches before it starts the container
        try:
            if rec.host_config.links:
                from .networks import with_links

                rec = with_links(eng, rec)
            bundle = prepare_bundle(eng, rec)
            pid = create_process(drv, cid, bundle, stdio)
            eng.volume_events(rec, "mount")
            try:
                connect(eng, rec, pid)
            except BaseException:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
                raise
            if tty and stdio.master is not None and (size := _terminal_size(0)):
                set_winsize(stdio.master, *size)
            drv.start(cid)
        except BaseException as e:
            failed = e
            eng.start_failed(rec, e)
        else:
            eng.cs.save_state(cid, State(status="running", pid=pid, monitor_pid=os.getpid(),
                                         monitor_start=proc_start_time(os.getpid()), started_at=now(),
                                         boot_id=boot_id()))
            eng.event(rec, "start")
    if failed is not None:
        if rec.host_config.auto_remove:
            eng.remove(cid, force=True, volumes=True)
        raise failed
    sys.stdout.flush()
    local_in = 0 if interactive and rec.config.attach_stdin else None  # -i, unless -a leaves stdin out
    log, lc = eng.log_file(rec), rec.host_config.log_config
    mon = Monitor(pid=pid, outputs=stdio.outputs, stdin_fd=stdio.stdin, log_path=str(log) if log else None,
                  attach_path=str(eng.cs.attach_path(cid)), local_out=_local_out(rec), local_in=local_in,
                  forward_signals=True, terminal_fd=stdio.master, cgroup=rec.cgroup,
                  log_limits=(lc.max_size, lc.max_file), health=_health(eng, rec))
    old_winch = None
    if tty and stdio.master is not None:
        master = stdio.master

        def on_winch(signum: int, frame: object) -> None:
            if size := _terminal_size(0):
                set_winsize(master, *size)

        old_winch = signal.signal(signal.SIGWINCH, on_winch)
    try:
        with _raw_terminal(0) if tty and interactive else nullcontext():
            code = mon.run()
    finally:
        if old_winch is not None:
            signal.signal(signal.SIGWINCH, old_winch)
        if stdio.master is not None:
            os.close(stdio.master)
    write_exit(str(eng.cs.exit_path(cid)), code, mon.oom, pid)
    eng.cleanup(cid)
    return code


def run_attached(eng: ContainerEngine, cid: str, opts: CreateOptions, detach_keys: str | None,
                 sig_proxy: bool = True) -> int:
    """Start the created ``-it`` container under its own monitor and attach this terminal to it (docker/cli's
    run: signals proxied, the exit code, --rm done before returning). The detach keys (ctrl-p,ctrl-q unless
    ``detach_keys``) raise ``containers_attach.Detached``: the container runs on, its monitor records its exit
    and applies --rm then."""
    import time

    from .containers_attach import detach_sequence

    keys = detach_sequence(detach_keys) if opts.tty and opts.interactive else b""
    set_subreaper()  # the monitor is then our child while we attach: `run -p`'s watcher finds it by its parent
    try:
        eng.start(cid, attach=True)
    except BaseException:
        if opts.auto_remove:
            eng.remove(cid, force=True, volumes=True)
        raise
    code = eng.attach(cid, stdin=opts.interactive, sig_proxy=sig_proxy, detach_keys=keys)
    deadline = time.monotonic() + 10
    while opts.auto_remove and eng.cs.cdir(cid).is_dir() and time.monotonic() < deadline:
        time.sleep(0.01)  # the monitor's exit command is removing it: gone when `run --rm` returns, as in Docker
    return code


def _local_out(rec: Any) -> dict[int, int]:
    """The container's streams this terminal shows: those run -a attached (stdout and stderr by default); the
    log has them all."""
    cfg = rec.config
    if not (cfg.attach_stdout or cfg.attach_stderr or cfg.attach_stdin):  # a record from before -a: both
        return {1: 1, 2: 2}
    return {**({1: 1} if cfg.attach_stdout else {}), **({2: 2} if cfg.attach_stderr else {})}


def _health(eng: ContainerEngine, rec: Any) -> Any:
    """This process runs the health check's probes too, as the monitor it is."""
    h = eng.health_for_start(rec)
    if h is None:
        return None
    from skiff.monitor.monitor import Health

    return Health(h[0], int(h[1]["health_interval"]), int(h[1]["health_start_period"]),
                  int(h[1]["health_start_interval"]))


def _terminal_size(fd: int) -> tuple[int, int] | None:
    from .containers_attach import terminal_size  # with socket: only for a terminal (-t)

    return terminal_size(fd)


def _raw_terminal(fd: int) -> AbstractContextManager[object]:
    from .containers_attach import raw_terminal

    return raw_terminal(fd)
