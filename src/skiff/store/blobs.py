"""The content-addressed blob store: ROOT/blobs/sha256/<hex>.

Contract (umoci's oci/cas): put writes to a temp file under ROOT/tmp, hashes while writing, fsyncs, checks the
digest (and size) it was announced with, then renames into place and fsyncs the folder. A blob that is present
is complete and correct; readers may still verify with :meth:`BlobStore.open_verified`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from skiff.errors import DigestMismatchError, NotFoundError
from skiff.hashes import LARGE, sha256
from skiff.lightfs import mkstemp
from skiff.oci.digest import Digest, VerifyingReader

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from typing import BinaryIO

CHUNK = 1 << 20


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes, tmp_dir: Path | None = None, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` so that readers see either the old or the new file, never a part."""
    tmp_dir = tmp_dir or path.parent
    tmp_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = mkstemp(dir=tmp_dir, prefix=".w-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


class BlobStore:
    def __init__(self, root: Path, tmp: Path) -> None:
        self.dir = root / "blobs" / "sha256"
        self.tmp = tmp
        self._defer = 0  # inside deferring(): the folder's fsync waits for sync()
        self._pending = False

    @contextlib.contextmanager
    def deferring(self) -> Iterator[None]:
        """Blobs put meanwhile are fsynced each, their folder once (by :meth:`sync`, or on leaving): a build's
        layer, config and manifest cost one folder fsync instead of three. Whoever records something that
        names these blobs (the image index) calls :meth:`sync` first."""
        self._defer += 1
        try:
            yield
        finally:
            self._defer -= 1
            if not self._defer:
                self.sync()

    def sync(self) -> None:
        """Make the names of the blobs put so far durable (fsync of the blob folder), if one is pending."""
        if self._pending:
            fsync_dir(self.dir)
            self._pending = False

    def path(self, digest: Digest) -> Path:
        return self.dir / digest.hex

    def has(self, digest: Digest) -> bool:
        return self.path(digest).is_file()

    def size(self, digest: Digest) -> int:
        try:
            return self.path(digest).stat().st_size
        except FileNotFoundError:
            raise NotFoundError(f"blob {digest} is not in the store") from None

    def put(self, data: bytes | BinaryIO, expected: Digest | None = None, size: int | None = None,
            what: str = "blob") -> tuple[Digest, int]:
        """Store ``data`` (bytes or a readable stream); returns its digest and size.

        With ``expected``/``size`` the content must match them, else :class:`DigestMismatchError` and nothing
        is stored."""
        if expected is not None and self.has(expected):
            if isinstance(data, bytes):
                got = Digest.of(data)
                if got != expected:
                    raise DigestMismatchError(f"{what} {expected}: content has digest {got}")
            return expected, self.size(expected)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.tmp.mkdir(parents=True, exist_ok=True)
        h = sha256(large=(len(data) if isinstance(data, bytes) else size if size is not None else LARGE) >= LARGE)
        count = 0
        fd, tmp = mkstemp(dir=self.tmp, prefix="blob-")
        try:
            with os.fdopen(fd, "wb") as f:
                if isinstance(data, bytes):
                    h.update(data)
                    f.write(data)
                    count = len(data)
                else:
                    while chunk := data.read(CHUNK):
                        h.update(chunk)
                        f.write(chunk)
                        count += len(chunk)
                        if size is not None and count > size:
                            raise DigestMismatchError(
                                f"{what} {expected}: more data than the {size} bytes announced")
                f.flush()
                os.fsync(f.fileno())
            got = Digest("sha256:" + h.hexdigest())
            if size is not None and count != size:
                raise DigestMismatchError(f"{what} {expected or got}: size {count} does not match the {size} "
                                          "bytes announced (truncated?)")
            if expected is not None and got != expected:
                raise DigestMismatchError(f"{what} {expected}: content has digest {got}")
            os.chmod(tmp, 0o644)
            os.replace(tmp, self.path(got))
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        if self._defer:
            self._pending = True
        else:
            fsync_dir(self.dir)
        return got, count

    def open(self, digest: Digest) -> BinaryIO:
        try:
            return open(self.path(digest), "rb")
        except FileNotFoundError:
            raise NotFoundError(f"blob {digest} is not in the store") from None

    def read(self, digest: Digest) -> bytes:
        """The blob's bytes, verified against its digest (it is small: a manifest or config)."""
        with self.open(digest) as f:
            data = f.read()
        got = Digest.of(data)
        if got != digest:
            raise DigestMismatchError(f"blob {digest} in the store is corrupted: content has digest {got}")
        return data

    def open_verified(self, digest: Digest) -> VerifyingReader:
        f = self.open(digest)
        return VerifyingReader(f, digest, self.size(digest), what="stored blob")

    def delete(self, digest: Digest) -> None:
        try:
            self.path(digest).unlink()
        except FileNotFoundError:
            pass

    def list(self) -> Iterator[Digest]:
        if not self.dir.is_dir():
            return
        for name in os.listdir(self.dir):
            if len(name) == 64:
                yield Digest("sha256:" + name)
