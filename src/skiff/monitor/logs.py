"""Docker's json-file log format: one JSON object per line, ``{"log": ..., "stream": ..., "time": ...}``.

The writer runs inside the monitor, so it imports only C modules (``_json``, ``time``): no ``json`` (which
pulls in ``re``) and no ``datetime``. The reader (``read_entries``) is used by ``skiff logs``.
"""

from __future__ import annotations

import os
import time

from skiff.follow import FileTail

try:
    from _json import encode_basestring_ascii as _quote
except ImportError:  # pragma: no cover - CPython always has _json
    from json.encoder import encode_basestring_ascii as _quote


def rfc3339_nano(ns: int) -> str:
    """``2024-01-02T03:04:05.123456789Z`` (Docker's log timestamp) from nanoseconds since the epoch."""
    t = time.gmtime(ns // 1_000_000_000)
    return (f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}."
            f"{ns % 1_000_000_000:09d}Z")


def parse_rfc3339(text: str) -> int:
    """Nanoseconds since the epoch from an RFC 3339 UTC timestamp as written by :func:`rfc3339_nano`."""
    import calendar

    date, _, rest = text.rstrip("Z").partition("T")
    hms, _, frac = rest.partition(".")
    y, mo, d = (int(x) for x in date.split("-"))
    h, mi, s = (int(x) for x in hms.split(":"))
    secs = calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0))
    return secs * 1_000_000_000 + int((frac + "000000000")[:9] or 0)


def _line(text: str, stream: str, now: str) -> str:
    return '{"log":' + _quote(text) + ',"stream":"' + stream + '","time":"' + now + '"}\n'


class JsonFileWriter:
    """Appends whole lines per stream; a partial line is kept until its newline (or flush at exit). With
    ``max_size`` the file is rotated as json-file rotates it (moby's loggerutils): once it holds ``max_size``
    bytes it becomes ``PATH.1`` (``PATH.1`` becomes ``PATH.2``... up to ``PATH.<max_file - 1>``), and with
    ``max_file`` 1 it starts again empty; the check comes before each line is written. The native monitor
    (cmonitor.c) does the same."""

    def __init__(self, path: str, max_size: int = 0, max_file: int = 1) -> None:
        self.path = path
        self.max_size = max_size
        self.max_file = max(max_file, 1)
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o640)
        self.size = os.lseek(self.fd, 0, os.SEEK_END)  # a restarted container appends
        self.partial: dict[str, bytes] = {}

    def _append(self, data: bytes) -> None:
        if self.max_size and self.size >= self.max_size:  # before the write, as moby's: the newest line stays
            self._rotate()
        os.write(self.fd, data)
        self.size += len(data)

    def _rotate(self) -> None:
        os.close(self.fd)
        for i in range(self.max_file - 1, 0, -1):
            try:
                os.rename(self.path if i == 1 else f"{self.path}.{i - 1}", f"{self.path}.{i}")
            except FileNotFoundError:
                pass
        trunc = os.O_TRUNC if self.max_file == 1 else 0
        self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC | trunc, 0o640)
        self.size = 0

    def write(self, stream: str, data: bytes) -> None:
        buf = self.partial.pop(stream, b"") + data
        lines = buf.split(b"\n")
        rest = lines.pop()
        texts = [line.decode("utf-8", "replace") + "\n" for line in lines]
        if len(rest) >= 16384:  # Docker splits long lines at 16 KiB
            texts.append(rest.decode("utf-8", "replace"))
        elif rest:
            self.partial[stream] = rest
        now = rfc3339_nano(time.time_ns())
        for t in texts:  # a line at a time: a rotation falls between lines, as json-file's does
            self._append(_line(t, stream, now).encode())

    def flush(self) -> None:
        now = rfc3339_nano(time.time_ns())
        for stream, rest in list(self.partial.items()):
            text = rest.decode("utf-8", "replace")
            self._append(_line(text, stream, now).encode())
        self.partial.clear()

    def close(self) -> None:
        self.flush()
        os.close(self.fd)


def read_entries(path: str, offset: int = 0) -> tuple[list[tuple[str, str, str]], int]:
    """(stream, time, text) entries from ``offset`` to the last whole line, and the new offset."""
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            data = f.read()
    except FileNotFoundError:
        return [], offset
    out, used = _parse(data)
    return out, offset + used


def _parse(data: bytes) -> tuple[list[tuple[str, str, str]], int]:
    import json

    end = data.rfind(b"\n") + 1
    out = []
    for line in data[:end].splitlines():
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        out.append((obj.get("stream", "stdout"), obj.get("time", ""), obj.get("log", "")))
    return out, end


def rotated(path: str) -> list[str]:
    """The rotated files of the log at ``path`` (``PATH.N`` ... ``PATH.1``), oldest first."""
    folder, base = os.path.split(path)
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    nums = sorted((int(n[len(base) + 1:]) for n in names
                   if n.startswith(base + ".") and n[len(base) + 1:].isdigit()), reverse=True)
    return [f"{path}.{n}" for n in nums]


class LogTail(FileTail):
    """Follows a json-file log through its rotations (``logs -f``): the open file is read to its end before
    the new one at ``path`` is taken, and a log cut back (max-file 1) is read again from its start."""

    def __init__(self, path: str, offset: int) -> None:
        super().__init__(path, offset, _parse, rotated)
