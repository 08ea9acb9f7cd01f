"""The real `skiff` CLI of this checkout's venv, with a test store's --root/--runroot."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

VENV_BIN = Path(sys.executable).parent


def skiff_cmd(root: Path, runroot: Path, *args: str) -> list[str]:
    exe = shutil.which("skiff", path=str(VENV_BIN)) or "skiff"
    return [exe, "--root", str(root), "--runroot", str(runroot), *args]


def pty_run(argv: list[str], steps: list[tuple[bytes, bytes]], timeout: float = 20,
            winsize: tuple[int, int] | None = None) -> tuple[bytes, int]:
    """Run ``argv`` on a new pty; for each (wait_for, send) wait until the output holds ``wait_for`` and type
    ``send`` (``winsize``: the terminal's rows and columns, set first). The output and the exit code; the
    process is killed and reaped whatever happens."""
    import fcntl
    import os
    import pty
    import select
    import signal
    import struct
    import termios
    import time

    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - child
        os.execv(argv[0], argv)
    if winsize is not None:
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", *winsize, 0, 0))
    buf = b""
    status = None
    try:
        for token, send in steps:
            end = time.monotonic() + timeout
            while token not in buf and time.monotonic() < end:
                if select.select([fd], [], [], 0.2)[0]:
                    try:
                        data = os.read(fd, 4096)
                    except OSError:
                        break
                    if not data:
                        break
                    buf += data
            assert token in buf, buf
            os.write(fd, send)
        end = time.monotonic() + timeout
        while status is None and time.monotonic() < end:
            if select.select([fd], [], [], 0.2)[0]:
                try:
                    buf += os.read(fd, 4096)
                except OSError:
                    pass
            done, st = os.waitpid(pid, os.WNOHANG)
            if done:
                status = st
        while status is not None and select.select([fd], [], [], 0)[0]:  # what it wrote just before exiting
            try:
                data = os.read(fd, 4096)
            except OSError:  # EIO: the terminal's other side is closed and drained
                break
            if not data:
                break
            buf += data
    finally:
        if status is None:
            os.kill(pid, signal.SIGKILL)
            _, status = os.waitpid(pid, 0)
        os.close(fd)
    return buf, os.waitstatus_to_exitcode(status)
