"""A readable blob stream from a registry that resumes after a broken connection (``Range``) and verifies
size and digest at its end: the registry side of ``ImageSource.get_blob`` and of ``get_blob``."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from contextlib import suppress
from typing import TYPE_CHECKING

from skiff.errors import DigestMismatchError
from skiff.oci.image import Descriptor
from skiff.registry.config import Endpoint
from skiff.registry.errors import RegistryProtocolError, RegistryUnreachableError
from skiff.registry.session import Session, status_error

if TYPE_CHECKING:
    import httpx

MAX_RESUMES = 5
Progress = Callable[[int], None]


class BlobReader:
    """``read(n)`` gives the blob's bytes; the last read (b"") raises if the digest or size is wrong."""

    def __init__(self, session: Session, ep: Endpoint, what: str, desc: Descriptor,
                 progress: Progress | None = None) -> None:
        self._session = session
        self._ep = ep
        self._what = what
        self._desc = desc
        self._progress = progress
        self._hash = hashlib.sha256()
        self.offset = 0
        self.resumes = 0
        self._resp: httpx.Response | None = None
        self._iter: Iterator[bytes] | None = None
        self._buf = b""
        self._done = False
        self._open()  # errors (404, 401, unreachable) surface here, before any byte is consumed

    # -- connection ------------------------------------------------------------------------------------------
    def _open(self) -> None:
        headers = {"Accept-Encoding": "identity"}  # bytes as stored: the digest is over them
        if self.offset:
            headers["Range"] = f"bytes={self.offset}-"
        resp = self._session.request(self._ep, "GET", f"/v2/{self._ep.path}/blobs/{self._desc.digest}",
                                     scopes=[f"repository:{self._ep.path}:pull"], what=self._what,
                                     headers=headers, stream=True)
        skip = 0
        if resp.status_code == 200 and self.offset:
            skip = self.offset  # the server ignored Range: drop what we already have
        elif resp.status_code not in (200, 206) or (resp.status_code == 206 and not self.offset):
            try:
                raise status_error(self._what, resp)
            finally:
                resp.close()
        if resp.status_code == 206:
            start = resp.headers.get("content-range", "").removeprefix("bytes ").split("-", 1)[0]
            if start.strip().isdigit() and int(start) != self.offset:
                resp.close()
                raise RegistryProtocolError(f"{self._what}: asked for bytes from {self.offset}, the registry "
                                            f"sent them from {start}")
        self._resp = resp
        self._iter = resp.iter_bytes()
        while skip > 0:
            chunk = next(self._iter, b"")
            if not chunk:
                break
            if len(chunk) > skip:
                self._buf = chunk[skip:]
            skip -= min(skip, len(chunk))

    def _reopen(self, broken: bool) -> None:
        self._close_resp()
        self.resumes += 1
        if self.resumes > MAX_RESUMES:
            if broken:
                raise RegistryUnreachableError(f"{self._what}: the connection kept breaking "
                                               f"({self.offset} of {self._desc.size} bytes)")
            raise DigestMismatchError(f"{self._what}: truncated: the registry sent {self.offset} of "
                                      f"{self._desc.size} bytes")
        time.sleep(self._session.retry.delay(self.resumes - 1))
        self._open()

    def _close_resp(self) -> None:
        if self._resp is not None:
            with suppress(Exception):
                self._resp.close()
        self._resp = None
        self._iter = None

    # -- reading -----------------------------------------------------------------------------------------------
    def _next_chunk(self) -> bytes:
        import httpx

        while True:
            if self._buf:
                chunk, self._buf = self._buf, b""
                return chunk
            if self.offset >= self._desc.size:
                return b""
            assert self._iter is not None
            try:
                chunk = next(self._iter, b"")
            except (httpx.ReadError, httpx.RemoteProtocolError, httpx.TimeoutException):
                self._reopen(broken=True)
                continue
            if chunk:
                return chunk
            self._reopen(broken=False)  # clean end before the announced size

    def read(self, n: int = -1) -> bytes:
        if self._done:
            return b""
        if n is None or n < 0:
            n = 1 << 62
        out = bytearray()
        while len(out) < n:
            chunk = self._next_chunk()
            if not chunk:
                break
            take = chunk[: n - len(out)]
            if len(take) < len(chunk):
                self._buf = chunk[len(take):]
            if self.offset + len(take) > self._desc.size:
                raise DigestMismatchError(f"{self._what}: more data than the {self._desc.size} bytes announced")
            self._hash.update(take)
            self.offset += len(take)
            out += take
            if self._progress:
                self._progress(len(take))
        if not out:
            self._finish()
        return bytes(out)

    def read_chunk(self) -> bytes:
        """Whatever the connection delivered next (no copying into a buffer); b"" at the verified end."""
        if self._done:
            return b""
        chunk = self._next_chunk()
        if not chunk:
            self._finish()
            return b""
        if self.offset + len(chunk) > self._desc.size:
            raise DigestMismatchError(f"{self._what}: more data than the {self._desc.size} bytes announced")
        self._hash.update(chunk)
        self.offset += len(chunk)
        if self._progress:
            self._progress(len(chunk))
        return chunk

    def _finish(self) -> None:
        self._done = True
        self._close_resp()
        got = "sha256:" + self._hash.hexdigest()
        if self.offset != self._desc.size:
            raise DigestMismatchError(f"{self._what}: size {self.offset} does not match the "
                                      f"{self._desc.size} bytes announced")
        if got != self._desc.digest:
            raise DigestMismatchError(f"{self._what}: content has digest {got}")

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._close_resp()

    def __enter__(self) -> BlobReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
