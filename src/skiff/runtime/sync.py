"""The sync channel between the runtime and the container's init: typed messages on a SEQPACKET socketpair.

child -> parent: ``Ready(pid)`` set-up done, waiting for start; ``ExecFailed(errno, message)``;
``Failed(message)``; ``Terminal`` carries the pty master fd.  parent -> child: ``Go`` (ids mapped, cgroup
joined), ``Start``.  The child's end is close-on-exec: EOF after Start means execve succeeded.
"""

from __future__ import annotations

import json
import socket
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Go:
    pass


@dataclass(frozen=True)
class Start:
    pass


@dataclass(frozen=True)
class Ready:
    pid: int


@dataclass(frozen=True)
class ExecFailed:
    errno: int
    message: str


@dataclass(frozen=True)
class Failed:
    message: str


@dataclass(frozen=True)
class Terminal:
    pass


Message = Go | Start | Ready | ExecFailed | Failed | Terminal
_TYPES: dict[str, type[Message]] = {c.__name__: c for c in (Go, Start, Ready, ExecFailed, Failed, Terminal)}


class Channel:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    @staticmethod
    def pair() -> tuple[Channel, Channel]:
        a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        return Channel(a), Channel(b)

    def send(self, msg: Message, fds: list[int] | None = None) -> None:
        data = json.dumps({"type": type(msg).__name__, **asdict(msg)}).encode()
        if fds:
            socket.send_fds(self.sock, [data], fds)
        else:
            self.sock.sendall(data)

    def recv(self) -> tuple[Message | None, list[int]]:
        """The next message and any fds passed with it; (None, []) at EOF."""
        data, fds, _flags, _addr = socket.recv_fds(self.sock, 65536, 4)
        if not data:
            return None, list(fds)
        obj = json.loads(data)
        cls = _TYPES[obj.pop("type")]
        return cls(**obj), list(fds)

    def fileno(self) -> int:
        return self.sock.fileno()

    def close(self) -> None:
        self.sock.close()
