"""Where an archive writer puts its files: a folder (OCI layout) or a tar stream (docker/OCI archive)."""

from __future__ import annotations

import io
import os
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from skiff.errors import SkiffError


class Sink:
    def has(self, name: str) -> bool:
        raise NotImplementedError

    def add(self, name: str, stream: BinaryIO, size: int, check: Callable[[], None] | None = None) -> None:
        """Add a member of ``size`` bytes; ``check`` runs once the content is read (it may raise)."""
        raise NotImplementedError

    def add_bytes(self, name: str, data: bytes) -> None:
        self.add(name, io.BytesIO(data), len(data))

    def close(self) -> None:
        return None


class DirSink(Sink):
    """Files under a folder, each written to a temp file then renamed (a reader never sees half a blob)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)

    def has(self, name: str) -> bool:
        return (self.path / name).is_file()

    def add(self, name: str, stream: BinaryIO, size: int, check: Callable[[], None] | None = None) -> None:
        dest = self.path / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".tmp-")
        try:
            n = 0
            with os.fdopen(fd, "wb") as f:
                while chunk := stream.read(1 << 20):
                    f.write(chunk)
                    n += len(chunk)
                f.flush()
                os.fsync(f.fileno())
            if n != size:
                raise SkiffError(f"{dest}: wrote {n} bytes, expected {size}")
            if check is not None:
                check()
            os.chmod(tmp, 0o644)
            os.replace(tmp, dest)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise


class TarSink(Sink):
    """Members appended to a tar stream (works on a pipe: sizes are known before each member)."""

    def __init__(self, out: BinaryIO) -> None:
        self._tar = tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT)
        self._names: set[str] = set()
        self._dirs: set[str] = set()

    def has(self, name: str) -> bool:
        return name in self._names

    def _dir(self, name: str) -> None:
        parent = os.path.dirname(name)
        if not parent or parent in self._dirs:
            return
        self._dir(parent)
        info = tarfile.TarInfo(parent)
        info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, 0
        self._tar.addfile(info)
        self._dirs.add(parent)

    def add(self, name: str, stream: BinaryIO, size: int, check: Callable[[], None] | None = None) -> None:
        self._dir(name)
        info = tarfile.TarInfo(name)
        info.size, info.mode, info.mtime = size, 0o644, 0
        try:
            self._tar.addfile(info, stream)
        except OSError as e:
            raise SkiffError(f"writing {name}: {e}") from None
        if check is not None:
            check()
        self._names.add(name)

    def close(self) -> None:
        self._tar.close()
