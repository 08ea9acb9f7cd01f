"""The client side of the monitor's attach socket, and the local terminal handling for ``-it``."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import sys
from collections.abc import Callable, Iterator

from skiff.monitor.monitor import C_CLOSE, C_RESIZE, C_STDIN, EXIT, frame


def terminal_size(fd: int) -> tuple[int, int] | None:
    try:
        size = os.get_terminal_size(fd)
    except OSError:
        return None
    return size.lines, size.columns


@contextlib.contextmanager
def raw_terminal(fd: int) -> Iterator[None]:
    """Put the local terminal in raw mode (``-it``), restoring it afterwards."""
    if not os.isatty(fd):
        yield
        return
    import termios
    import tty

    old = termios.tcgetattr(fd)
    try:
        tty.setraw(fd)
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, old)


def connect(path: str, *, retry_while: Callable[[], bool] | None = None) -> socket.socket | None:
    """Connect to the attach socket; while ``retry_while()`` holds (the monitor is starting), keep trying."""
    import time

    deadline = time.monotonic() + 10
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            dfd = os.open(os.path.dirname(path), os.O_PATH | os.O_CLOEXEC)
            try:  # through the folder's fd: sun_path is short whatever the store path's length
                s.connect(f"/proc/self/fd/{dfd}/{os.path.basename(path)}")
            finally:
                os.close(dfd)
            return s
        except OSError:
            s.close()
            if retry_while is None or time.monotonic() > deadline or not retry_while():
                return None
            time.sleep(0.01)


def attach(path: str, *, stdin: bool, tty: bool, out: int = 1, err: int = 2,
           retry_while: Callable[[], bool] | None = None) -> int | None:
    """Stream a running container's output here (and our stdin there) until it exits: its exit code,
    or None when the monitor went away without telling."""
    s = connect(path, retry_while=retry_while)
    if s is None:
        return None
    rsig, wsig = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    old_wakeup = signal.set_wakeup_fd(wsig)
    old_winch = signal.signal(signal.SIGWINCH, lambda *_: None)
    sys.stdout.flush()
    code: int | None = None
    try:
        if tty and (size := terminal_size(0)):
            s.sendall(frame(C_RESIZE, f"{size[0]} {size[1]}".encode()))
        fds = [s.fileno(), rsig] + ([0] if stdin else [])
        buf = b""
        with raw_terminal(0) if tty and stdin else contextlib.nullcontext():
            while code is None:
                ready, _, _ = select.select(fds, [], [])
                if rsig in ready:
                    os.read(rsig, 512)
                    if tty and (size := terminal_size(0)):
                        with contextlib.suppress(OSError):
                            s.sendall(frame(C_RESIZE, f"{size[0]} {size[1]}".encode()))
                if 0 in ready:
                    data = os.read(0, 65536)
                    try:
                        s.sendall(frame(C_STDIN, data) if data else frame(C_CLOSE, b""))
                    except OSError:  # the container is done with its stdin (or gone): keep reading output
                        data = b""
                    if not data:
                        fds.remove(0)
                if s.fileno() in ready:
                    data = s.recv(65536)
                    if not data:
                        break
                    buf += data
                    while len(buf) >= 8:
                        n = int.from_bytes(buf[4:8], "big")
                        if len(buf) < 8 + n:
                            break
                        kind, payload, buf = buf[0], buf[8:8 + n], buf[8 + n:]
                        if kind == EXIT:
                            code = int(payload)
                        else:
                            os.write(out if kind == 1 else err, payload)
    finally:
        signal.set_wakeup_fd(old_wakeup)
        signal.signal(signal.SIGWINCH, old_winch)
        os.close(rsig)
        os.close(wsig)
        s.close()
    return code
