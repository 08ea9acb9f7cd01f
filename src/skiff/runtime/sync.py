"""The sync channel between the runtime and the container's init: typed messages on a SEQPACKET socketpair.

child -> parent: ``Ready(pid)`` set-up done, waiting for start; ``ExecFailed(errno, message)``;
``Failed(message)``; ``Terminal`` carries the pty master fd.  parent -> child: ``Go`` (ids mapped, cgroup
joined), ``Start``.  The child's end is close-on-exec: EOF after Start means execve succeeded.
"""

from __future__ import annotations

import _socket
import json
from array import array

# _socket, not socket: socket.py builds four IntEnums from its constants on import, a tenth of a
# `skiff-runtime run`; the channel needs only socketpair, sendmsg and recvmsg.


class _Message:
    """A typed message: a few named fields, sent as one JSON object. Plain classes, not dataclasses: these are
    created on every runtime start, and dataclasses would compile six methods for each."""

    __slots__ = ()
    fields: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.fields}

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self.as_dict() == other.as_dict()

    def __hash__(self) -> int:
        return hash((type(self), tuple(self.as_dict().values())))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.as_dict().items())})"


class Go(_Message):
    __slots__ = ()


class Start(_Message):
    __slots__ = ()


class Terminal(_Message):
    __slots__ = ()


class Ready(_Message):
    __slots__ = fields = ("pid",)

    def __init__(self, pid: int) -> None:
        self.pid = pid


class ExecFailed(_Message):
    __slots__ = fields = ("errno", "message")

    def __init__(self, errno: int, message: str) -> None:
        self.errno = errno
        self.message = message


class Failed(_Message):
    __slots__ = fields = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message


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
        data = json.dumps({"type": type(msg).__name__, **msg.as_dict()}).encode()
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
