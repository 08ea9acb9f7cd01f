"""The sync channel between the runtime and the container's init: typed messages on a SEQPACKET socketpair.

child -> parent: ``Ready(pid)`` set-up done, waiting for start; ``ExecFailed(errno, message)``;
``Failed(message)``; ``Terminal`` carries the pty master fd.  parent -> child: ``Go`` (ids mapped, cgroup
joined), ``Start``.  The child's end is close-on-exec: EOF after Start means execve succeeded.
"""

from __future__ import annotations

import _socket
import json
from array import array
from dataclasses import asdict, dataclass

# _socket, not socket: socket.py builds four IntEnums from its constants on import, a tenth of a
# `skiff-runtime run`; the channel needs only socketpair, sendmsg and recvmsg.


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


def send_fds(sock: _socket.socket, data: bytes, fds: list[int]) -> None:
    """``data`` with ``fds`` attached (SCM_RIGHTS), as socket.send_fds does."""
    sock.sendmsg([data], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, array("i", fds))])


def recv_fds(sock: _socket.socket, size: int, max_fds: int) -> tuple[bytes, list[int]]:
    """One message and the fds passed with it, as socket.recv_fds does."""
    fds = array("i")
    data, ancillary, _flags, _addr = sock.recvmsg(size, _socket.CMSG_LEN(max_fds * fds.itemsize))
    for level, kind, payload in ancillary:
        if level == _socket.SOL_SOCKET and kind == _socket.SCM_RIGHTS:
            fds.frombytes(payload[:len(payload) - len(payload) % fds.itemsize])
    return data, list(fds)


class Channel:
    def __init__(self, sock: _socket.socket) -> None:
        self.sock = sock

    @staticmethod
    def pair() -> tuple[Channel, Channel]:
        a, b = _socket.socketpair(_socket.AF_UNIX, _socket.SOCK_SEQPACKET)
        return Channel(a), Channel(b)

    def send(self, msg: Message, fds: list[int] | None = None) -> None:
        data = json.dumps({"type": type(msg).__name__, **asdict(msg)}).encode()
        if fds:
            send_fds(self.sock, data, fds)
        else:
            self.sock.sendall(data)

    def recv(self) -> tuple[Message | None, list[int]]:
        """The next message and any fds passed with it; (None, []) at EOF."""
        data, fds = recv_fds(self.sock, 65536, 4)
        if not data:
            return None, fds
        obj = json.loads(data)
        cls = _TYPES[obj.pop("type")]
        return cls(**obj), fds

    def fileno(self) -> int:
        return self.sock.fileno()

    def close(self) -> None:
        self.sock.close()
