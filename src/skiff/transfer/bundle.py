"""Read-only access to the files of an image archive (a tar, possibly gzip-compressed) or folder.

Nothing is ever extracted to disk: members are read by name, so path tricks in member names cannot write
anywhere. Links inside a tar are followed inside the tar only (tarfile resolves them to other members).
"""

from __future__ import annotations

import os
import posixpath
import shutil
import tarfile
import tempfile
from pathlib import Path
from typing import Any, BinaryIO

from skiff.errors import NotFoundError, SkiffError


class ArchiveFormatError(SkiffError):
    """An archive that is truncated, damaged or not an image archive."""


class Bundle:
    """The files of an archive or folder, by relative path."""

    label: str

    def exists(self, name: str) -> bool:
        raise NotImplementedError

    def size(self, name: str) -> int:
        raise NotImplementedError

    def open(self, name: str) -> BinaryIO:
        raise NotImplementedError

    def read(self, name: str, limit: int = 64 << 20) -> bytes:
        if self.size(name) > limit:
            raise ArchiveFormatError(f"{self.label}: {name} is larger than {limit} bytes")
        with self.open(name) as f:
            data = f.read()
        if len(data) != self.size(name):
            raise ArchiveFormatError(f"{self.label}: {name} is truncated")
        return data

    def close(self) -> None:
        return None


def _norm(name: str) -> str:
    n = posixpath.normpath("/" + name).lstrip("/")
    return n


class DirBundle(Bundle):
    def __init__(self, path: Path) -> None:
        self.path = path
        self.label = str(path)

    def _p(self, name: str) -> Path:
        return self.path / _norm(name)

    def exists(self, name: str) -> bool:
        return self._p(name).is_file()

    def size(self, name: str) -> int:
        try:
            return self._p(name).stat().st_size
        except FileNotFoundError:
            raise NotFoundError(f"{self.label}: {name} is missing") from None

    def open(self, name: str) -> BinaryIO:
        try:
            return open(self._p(name), "rb")
        except FileNotFoundError:
            raise NotFoundError(f"{self.label}: {name} is missing") from None


class TarBundle(Bundle):
    """A tar file (plain or gzip). The member list is read once up front, which also detects truncation."""

    def __init__(self, path: Path, tmp_dir: Path, label: str | None = None, max_bytes: int | None = None) -> None:
        """``max_bytes`` bounds a compressed archive's decompressed size (default: the free space under
        ``tmp_dir`` less 1 GiB), so a decompression bomb fails cleanly instead of filling the disk."""
        self.label = label or str(path)
        self.max_bytes = max_bytes
        self._spool: str | None = None
        with open(path, "rb") as f:
            head = f.read(6)
        if head[:2] == b"\x1f\x8b" or head[:3] == b"BZh" or head[:6] == b"\xfd7zXZ\x00":
            path = self._decompress(path, tmp_dir, head)
        try:
            self._tar = tarfile.open(path, "r:")
            self._members = {_norm(m.name): m for m in self._tar.getmembers()}
        except (tarfile.TarError, EOFError, OSError) as e:
            self.close()
            raise ArchiveFormatError(f"{self.label}: not a valid tar archive (truncated or damaged): {e}") from None
        end = max((m.offset_data + m.size for m in self._members.values()), default=0)
        if end > os.path.getsize(path):
            self.close()
            raise ArchiveFormatError(f"{self.label}: archive is truncated")

    def _decompress(self, path: Path, tmp_dir: Path, head: bytes) -> Path:
        import bz2
        import lzma

        tmp_dir.mkdir(parents=True, exist_ok=True)
        fd, spool = tempfile.mkstemp(dir=tmp_dir, prefix="archive-")
        self._spool = spool
        opener: Any = {b"\x1f\x8b": _gzip_open, b"BZ": bz2.open, b"\xfd7": lzma.open}[head[:2]]
        limit = self.max_bytes
        if limit is None:
            limit = max(0, shutil.disk_usage(tmp_dir).free - (1 << 30))
        try:
            with opener(path) as src, os.fdopen(fd, "wb") as dst:
                total = 0
                while chunk := src.read(1 << 20):
                    total += len(chunk)
                    if total > limit:
                        self.close()
                        raise ArchiveFormatError(f"{self.label}: decompressed archive exceeds {limit} bytes")
                    dst.write(chunk)
        except (OSError, EOFError, lzma.LZMAError) as e:
            self.close()
            raise ArchiveFormatError(f"{self.label}: compressed archive is truncated or damaged: {e}") from None
        return Path(spool)

    def exists(self, name: str) -> bool:
        try:
            return self._member(name).isfile()
        except (NotFoundError, ArchiveFormatError):
            return False

    def _member(self, name: str) -> tarfile.TarInfo:
        """The regular-file member ``name`` stands for, following links inside the tar only."""
        key = _norm(name)
        for _ in range(16):
            m = self._members.get(key)
            if m is None:
                raise NotFoundError(f"{self.label}: {name} is missing from the archive")
            if m.issym():
                key = _norm(posixpath.join(posixpath.dirname(key), m.linkname))
            elif m.islnk():
                key = _norm(m.linkname)
            else:
                return m
        raise ArchiveFormatError(f"{self.label}: {name}: too many levels of links")

    def size(self, name: str) -> int:
        return self._member(name).size

    def open(self, name: str) -> BinaryIO:
        try:
            f = self._tar.extractfile(self._member(name))
        except (KeyError, tarfile.TarError) as e:
            raise ArchiveFormatError(f"{self.label}: cannot read {name}: {e}") from None
        if f is None:
            raise ArchiveFormatError(f"{self.label}: {name} is not a file")
        return f  # type: ignore[return-value]

    def close(self) -> None:
        tar = getattr(self, "_tar", None)
        if tar is not None:
            tar.close()
        if self._spool:
            try:
                os.unlink(self._spool)
            except FileNotFoundError:
                pass
            self._spool = None


def _gzip_open(path: Path) -> BinaryIO:
    from isal import igzip

    opener: Any = igzip.open
    f: BinaryIO = opener(path, "rb")
    return f


def open_bundle(path: Path, tmp_dir: Path, label: str | None = None) -> Bundle:
    if path.is_dir():
        return DirBundle(path)
    if not path.exists():
        raise NotFoundError(f"open {path}: no such file or directory")
    return TarBundle(path, tmp_dir, label)
