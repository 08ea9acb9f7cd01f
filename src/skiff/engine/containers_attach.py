"""The client side of the monitor's attach socket, and the local terminal handling for ``-it``."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import sys
from collections.abc import Callable, Iterator

from skiff.errors import InvalidArgumentError, SkiffError
from skiff.monitor.monitor import C_CLOSE, C_RESIZE, C_STDIN, EXIT, FORWARDED, frame

DEFAULT_DETACH_KEYS = b"\x10\x11"  # ctrl-p,ctrl-q


class Detached(SkiffError):
    """The user typed the detach keys: the client lets go and the container keeps running (docker/cli's
    ``EscapeError``, whose text this is)."""

    def __init__(self) -> None:
        super().__init__("read escape sequence", exit_code=1)


def detach_sequence(keys: str | None, *, noun: str = "detach") -> bytes:
    """``--detach-keys``: comma-separated keys, each one character or ``ctrl-<a-z @ [ \\ ] ^ _>`` or ``DEL``
    (moby's term.ToBytes); ctrl-p,ctrl-q by default. A bad one is refused with the daemon's message, which
    says "escape keys" for an exec (``noun``) and "detach keys" for an attach."""
    if not keys:
        return DEFAULT_DETACH_KEYS
    codes = bytearray()
    ctrl = "@abcdefghijklmnopqrstuvwxyz[\\]^_"
    for key in keys.split(","):
        if len(key.encode()) == 1:
            codes += key.encode()
        elif key.startswith("ctrl-") and len(key) == 6 and key[5] in ctrl:
            codes.append(ctrl.index(key[5]))
        elif key == "DEL":
            codes.append(127)
        else:
            raise InvalidArgumentError(f"Invalid {noun} keys ({keys}) provided", exit_code=1)
    return bytes(codes)


class EscapeProxy:
    """moby's term.EscapeProxy: input bytes that begin the detach sequence are held back; the whole sequence
    detaches (:class:`Detached`), anything else lets the held bytes through."""

    def __init__(self, keys: bytes) -> None:
        self.keys = keys
        self.held = 0

    def feed(self, data: bytes) -> bytes:
        out = bytearray()
        for b in data:
            if b == self.keys[self.held]:
                self.held += 1
                if self.held == len(self.keys):
                    raise Detached()
                continue
            out += self.keys[:self.held]
            self.held = 0
            if b == self.keys[0]:
                self.held = 1
                if len(self.keys) == 1:
                    raise Detached()
            else:
                out.append(b)
        return bytes(out)


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
           retry_while: Callable[[], bool] | None = None, detach_keys: bytes = b"",
           on_signal: Callable[[int], None] | None = None) -> int | None:
    """Stream a running container's output here (and our stdin there) until it exits: its exit code,
    or None when the monitor went away without telling. With a terminal and stdin, ``detach_keys`` typed
    raise :class:`Detached`; ``on_signal`` is given the signals this process receives (``--sig-proxy``)."""
    s = connect(path, retry_while=retry_while)
    if s is None:
        return None
    escape = EscapeProxy(detach_keys) if tty and stdin and detach_keys else None
    rsig, wsig = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    old_wakeup = signal.set_wakeup_fd(wsig)
    old_handlers = {n: signal.signal(n, _ignore) for n in (signal.SIGWINCH, *(FORWARDED if on_signal else ()))}
    sys.stdout.flush()
    code: int | None = None
    try:
        if tty and (size := terminal_size(0)):
            # a container that has already exited has closed its end (EPIPE here): what it wrote and its
            # exit code are still waiting in this socket, so go on and read them
            with contextlib.suppress(OSError):
                s.sendall(frame(C_RESIZE, f"{size[0]} {size[1]}".encode()))
        fds = [s.fileno(), rsig] + ([0] if stdin else [])
        buf = b""
        with raw_terminal(0) if tty and stdin else contextlib.nullcontext():
            while code is None:
                ready, _, _ = select.select(fds, [], [])
                if rsig in ready:
                    for signum in os.read(rsig, 512):
                        if signum != signal.SIGWINCH and on_signal is not None:
                            on_signal(signum)
                        elif signum == signal.SIGWINCH and tty and (size := terminal_size(0)):
                            with contextlib.suppress(OSError):
                                s.sendall(frame(C_RESIZE, f"{size[0]} {size[1]}".encode()))
                if 0 in ready:
                    raw = os.read(0, 65536)
                    data = escape.feed(raw) if escape is not None else raw
                    try:
                        if data or not raw:
                            s.sendall(frame(C_STDIN, data) if raw else frame(C_CLOSE, b""))
                    except OSError:  # the container is done with its stdin (or gone): keep reading output
                        raw = b""
                    if not raw:
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
        for n, handler in old_handlers.items():
            signal.signal(n, handler)
        os.close(rsig)
        os.close(wsig)
        s.close()
    return code


def _ignore(signum: int, frame: object) -> None:
    """A Python-level handler, so that the signal reaches the wakeup fd rather than its default action."""
