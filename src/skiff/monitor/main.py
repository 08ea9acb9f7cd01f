"""The detached monitor's entry: ``python -I -S -c 'from skiff.monitor.main import main; main()' k=v ... -- CMD``.

The engine forks, creates the container in the child (which becomes its parent, and a child subreaper), then
execs this entry, so the process that waits for the container imports only :mod:`skiff.monitor`. Keys:
``pid`` container pid; ``out``/``err``/``in``/``tty`` inherited fds; ``log`` json-file path (``max_size`` and
``max_file``: its rotation); ``health_interval``, ``health_start_period`` and ``health_start_interval`` (ms),
with the health check's probe command between ``--health`` and ``--``; ``exit`` the file
that receives the exit status; ``attach`` the attach socket path; ``unless`` a path whose existence skips the
exit command (``rm -f`` does the clean-up itself). After ``--`` comes the exit command (``skiff container
cleanup ID``), exec'ed once the status is recorded.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    cmd: list[str] = []
    if "--" in args:
        i = args.index("--")
        args, cmd = args[:i], args[i + 1:]
    probe: list[str] = []
    if "--health" in args:
        i = args.index("--health")
        args, probe = args[:i], args[i + 1:]
    kv = dict(a.split("=", 1) for a in args)
    from skiff.monitor.monitor import STDERR, STDOUT, Health, Monitor, write_exit

    health = Health(probe, int(kv["health_interval"]), int(kv.get("health_start_period", "0")),
                    int(kv.get("health_start_interval", "5000"))) if probe and kv.get("health_interval") else None

    pid = int(kv["pid"])
    outputs: dict[int, int] = {}
    tty = int(kv["tty"]) if "tty" in kv else None
    if tty is not None:
        outputs[tty] = STDOUT
        stdin_fd: int | None = tty if kv.get("stdin") == "1" else None
    else:
        if "out" in kv:
            outputs[int(kv["out"])] = STDOUT
        if "err" in kv:
            outputs[int(kv["err"])] = STDERR
        stdin_fd = int(kv["in"]) if "in" in kv else None
    mon = Monitor(pid=pid, outputs=outputs, stdin_fd=stdin_fd, log_path=kv.get("log"),
                  attach_path=kv.get("attach"), terminal_fd=tty, cgroup=kv.get("cgroup"),
                  wait_attach=float(kv.get("wait_attach", "0")),
                  log_limits=(int(kv.get("max_size", "0")), int(kv.get("max_file", "1"))), health=health)
    code = mon.run()
    write_exit(kv["exit"], code, mon.oom, pid)
    if cmd and not ("unless" in kv and os.path.exists(kv["unless"])):  # `rm -f` cleans up itself
        null = os.open("/dev/null", os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        os.execv(cmd[0], cmd)


if __name__ == "__main__":
    main()
