"""Following a log of whole lines through its rotations (``logs -f``, ``events``): :class:`FileTail` reads what
was appended since the last read, finishes a file renamed away before it takes the new one at the same path,
reads the rotated files filled between two reads, and starts again from the top of a file cut back in place.
A top-level module, like ``skiff.lightfs``: the monitor's json-file log and the event log both use it."""

from __future__ import annotations

import os

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    Parse = Callable[[bytes], tuple[list[Any], int]]  # the records of the whole lines of bytes, and bytes used


def _inode(path: str) -> int | None:
    try:
        return os.stat(path).st_ino
    except OSError:
        return None


class FileTail:
    """``parse`` turns bytes into (records of the complete lines, bytes used); ``rotated(path)`` lists the
    rotated files of ``path``, oldest first."""

    def __init__(self, path: str, offset: int, parse: Parse,
                 rotated: Callable[[str], list[str]] = lambda path: []) -> None:
        self.path = path
        self.offset = offset
        self.parse = parse
        self.rotated = rotated
        self.fd: int | None = None
        self._open()

    def _open(self) -> None:
        try:
            self.fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            self.fd = None

    def _drain(self) -> list[Any]:
        if self.fd is None:
            return []
        if os.fstat(self.fd).st_size < self.offset:  # cut back in place (json-file with max-file 1)
            self.offset = 0
        data = b""
        while chunk := os.pread(self.fd, 1 << 20, self.offset + len(data)):
            data += chunk
        out, used = self.parse(data)
        self.offset += used
        return out

    def read(self) -> list[Any]:
        out = self._drain()
        ino = _inode(self.path)
        if ino is None:
            return out
        if self.fd is None or os.fstat(self.fd).st_ino != ino:  # rotated (or made): finish the old, take the new
            out += self._drain()
            old = None
            if self.fd is not None:
                old = os.fstat(self.fd).st_ino
                os.close(self.fd)
            files = self.rotated(self.path)
            at = next((i for i, f in enumerate(files) if _inode(f) == old), None)
            for f in files[at + 1:] if at is not None else []:  # filled and rotated since the last read
                try:
                    with open(f, "rb") as fh:
                        out += self.parse(fh.read())[0]
                except FileNotFoundError:
                    pass
            self.offset = 0
            self._open()
            out += self._drain()
        return out

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
