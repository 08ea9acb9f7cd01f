"""``skiff run`` in the foreground: this process is the container's parent and its monitor (no second
interpreter on the fast path), forwarding signals, feeding stdin, following the terminal size for ``-t``."""

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
    from .containers import ContainerEngine


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
        try:
            bundle = prepare_bundle(eng, rec)
            pid = create_process(drv, cid, bundle, stdio)
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
    if failed is not None:
        if rec.host_config.auto_remove:
            eng.remove(cid, force=True, volumes=True)
        raise failed
    sys.stdout.flush()
    local_in = 0 if interactive else None
    mon = Monitor(pid=pid, outputs=stdio.outputs, stdin_fd=stdio.stdin, log_path=str(eng.cs.log_path(cid)),
                  attach_path=str(eng.cs.attach_path(cid)), local_out={1: 1, 2: 2}, local_in=local_in,
                  forward_signals=True, terminal_fd=stdio.master, cgroup=f"/skiff/{cid}")
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


def _terminal_size(fd: int) -> tuple[int, int] | None:
    from .containers_attach import terminal_size  # with socket: only for a terminal (-t)

    return terminal_size(fd)


def _raw_terminal(fd: int) -> AbstractContextManager[object]:
    from .containers_attach import raw_terminal

    return raw_terminal(fd)
