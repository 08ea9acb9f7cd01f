"""Compression for layer blobs: detection by magic, streaming readers and writers that hash as they go.

gzip goes through isal (igzip), or zlib for a layer smaller than a chunk, and zstd through zstandard; each is
imported only when used. Readers hash the compressed bytes (the blob digest) and the uncompressed bytes (the
diff_id) in the same pass, and stop at a configurable uncompressed size (decompression bombs, SECURITY.md #6).
"""

from __future__ import annotations

from typing import Any, BinaryIO, Literal

from skiff.archive.errors import ArchiveError, LayerTooLargeError
from skiff.hashes import sha256

Compression = Literal["gzip", "zstd", "none"]

CHUNK = 1 << 20
MEDIA_TYPES: dict[str, str] = {
    "gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
    "zstd": "application/vnd.oci.image.layer.v1.tar+zstd",
    "none": "application/vnd.oci.image.layer.v1.tar",
}


def detect_compression(head: bytes) -> Compression:
    """``gzip``, ``zstd`` or ``none`` from the first bytes of a blob (4 are enough)."""
    if head[:2] == b"\x1f\x8b":
        return "gzip"
    if head[:4] == b"\x28\xb5\x2f\xfd":
        return "zstd"
    for magic, name in ((b"BZh", "bzip2"), (b"\xfd7zXZ\x00", "xz")):
        if head.startswith(magic):
            raise ArchiveError(f"{name} compressed layers are not supported (use gzip or zstd)")
    return "none"


class _HashingRaw:
    """Reads the compressed stream, counting and hashing what passes (the blob digest)."""

    def __init__(self, stream: BinaryIO, head: bytes) -> None:
        self._stream = stream
        self._head = head
        self.sha = sha256(large=True)
        self.count = 0

    def read(self, n: int = -1) -> bytes:
        if self._head:
            if n < 0 or n >= len(self._head):
                data = self._head + (self._stream.read(-1 if n < 0 else n - len(self._head)) or b"")
            else:
                data = self._head[:n]
                self._head = self._head[n:]
                self.sha.update(data)
                self.count += len(data)
                return data
            self._head = b""
        else:
            data = self._stream.read(n) or b""
        self.sha.update(data)
        self.count += len(data)
        return data

    def readinto(self, buf: Any) -> int:
        data = self.read(len(buf))
        buf[: len(data)] = data
        return len(data)

    def readable(self) -> bool:
        return True

    def drain(self) -> None:
        while self.read(CHUNK):
            pass


class LayerReader:
    """Uncompressed bytes of a layer blob with ``read(n)``; tracks digest, diff_id and sizes."""

    def __init__(self, stream: BinaryIO, *, max_bytes: int | None = None, what: str = "layer",
                 threaded: bool = True) -> None:
        head = stream.read(6) or b""
        self.compression: Compression = detect_compression(head)
        self._raw = _HashingRaw(stream, head)
        self._dec: Any
        if self.compression == "gzip":
            from isal import igzip

            gz: Any = igzip.IGzipFile
            self._dec = gz(fileobj=self._raw, mode="rb")
        elif self.compression == "zstd":
            import zstandard

            raw: Any = self._raw
            self._dec = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
        else:
            self._dec = self._raw
        self._sha = sha256(large=True)
        self.size = 0
        self._max = max_bytes
        self._what = what
        self._buf = b""
        self._pos = 0
        self._eof = False
        self._queue: Any = None
        self._thread: Any = None
        self._stopping = False
        if threaded:
            import queue
            import threading

            self._queue = queue.Queue(maxsize=8)
            self._thread = threading.Thread(target=self._produce, name="skiff-layer-reader", daemon=True)
            self._thread.start()

    def _produce(self) -> None:
        """Worker: decompress and hash ahead of the consumer (its syscalls release the GIL)."""
        q = self._queue
        while not self._stopping:
            try:
                data = self._next()
            except BaseException as e:
                q.put(e)
                return
            q.put(data)
            if not data:
                try:
                    self._raw.drain()
                except BaseException as e:
                    q.put(e)
                return

    def _fill(self) -> bytes:
        if self._eof:
            return b""
        if self._queue is None:
            data = self._next()
        else:
            item = self._queue.get()
            if isinstance(item, BaseException):
                self._eof = True
                raise item
            data = item
        if not data:
            self._eof = True
        return data

    def close(self) -> None:
        """Stop the worker thread (safe to call more than once, and after errors)."""
        if self._thread is None:
            return
        self._stopping = True
        import queue

        while self._thread.is_alive():
            try:
                self._queue.get(timeout=0.05)
            except queue.Empty:
                pass
        self._thread.join()
        self._thread = None

    def _next(self) -> bytes:
        try:
            data: bytes = self._dec.read(CHUNK)
        except (OSError, EOFError, ValueError) as e:
            raise ArchiveError(f"{self._what}: cannot decompress {self.compression} data: {e}") from None
        except Exception as e:  # zstandard.ZstdError does not derive from OSError
            raise ArchiveError(f"{self._what}: cannot decompress {self.compression} data: {e}") from None
        if data:
            self._sha.update(data)
            self.size += len(data)
            if self._max is not None and self.size > self._max:
                raise LayerTooLargeError(
                    f"{self._what}: uncompressed size exceeds the limit of {self._max} bytes",
                    hint="raise the maximum layer size if this layer is legitimate")
        return data

    def read(self, n: int) -> bytes:
        """Up to ``n`` bytes; fewer only at the end of the stream."""
        pos = self._pos
        end = pos + n
        if end <= len(self._buf):
            self._pos = end
            return self._buf[pos:end]
        parts = [self._buf[pos:]]
        have = len(parts[0])
        self._buf = b""
        self._pos = 0
        while have < n:
            data = self._fill()
            if not data:
                break
            need = n - have
            if len(data) > need:
                parts.append(data[:need])
                self._buf = data
                self._pos = need
                have = n
            else:
                parts.append(data)
                have += len(data)
        return b"".join(parts)

    def finish(self) -> None:
        """Read to the end so that both digests cover the whole blob."""
        self._buf = b""
        self._pos = 0
        while self._fill():
            pass
        if self._thread is None:
            self._raw.drain()
        self.close()

    @property
    def diff_id(self) -> str:
        return "sha256:" + self._sha.hexdigest()

    @property
    def digest(self) -> str:
        return "sha256:" + self._raw.sha.hexdigest()

    @property
    def compressed_size(self) -> int:
        return self._raw.count


class LayerWriter:
    """Tar bytes in, compressed blob out; hashes both sides in the same pass. Small writes are batched.

    What does the work is chosen at the first flush. A layer that fits in one chunk (an app's code) is hashed
    with the builtin sha256 and gzipped with zlib, in the caller's thread: loading OpenSSL, isal and threading
    would cost more than the work. A larger one gets OpenSSL's sha256 and isal's gzip (or zstandard), and with
    ``threaded`` (the default) they run in one worker thread while the caller walks the tree (hashlib, isal
    and zstandard release the GIL); the thread ends in :meth:`close` or :meth:`abort`, so no thread outlives
    the call that made the layer. Either way the same tar gives the same blob."""

    def __init__(self, out: BinaryIO, compression: Compression = "gzip", level: int | None = None, *,
                 threaded: bool = True) -> None:
        if compression not in ("gzip", "zstd", "none"):
            raise ArchiveError(f"unknown compression {compression!r} (use gzip, zstd or none)")
        self._out = out
        self.compression = compression
        self._level = level
        self._threaded = threaded
        self._started = False
        self._comp: Any = None
        self._buf = bytearray()
        self._tar_sha, self._blob_sha = sha256(), sha256()  # replaced by OpenSSL's for a large layer
        self.tar_size = 0
        self.size = 0
        self._queue: Any = None
        self._thread: Any = None
        self._error: BaseException | None = None

    def _start(self, small: bool) -> None:
        """Pick the hashers, compressor and thread (``small``: all the layer's bytes are in the buffer)."""
        self._started = True
        level, compression = self._level, self.compression
        if not small:
            self._tar_sha, self._blob_sha = sha256(large=True), sha256(large=True)
        if compression == "gzip" and small:
            import zlib

            self._comp = zlib.compressobj(1 if level is None else level, zlib.DEFLATED, 31)
        elif compression == "gzip":
            from isal import isal_zlib

            self._comp = isal_zlib.compressobj(1 if level is None else level, isal_zlib.DEFLATED, 31)
        elif compression == "zstd":
            import zstandard

            self._comp = zstandard.ZstdCompressor(level=3 if level is None else level).compressobj()
        if self._threaded and not small:
            import queue
            import threading

            self._queue = queue.Queue(maxsize=8)
            self._thread = threading.Thread(target=self._work, name="skiff-layer-writer", daemon=True)
            self._thread.start()

    def write(self, data: bytes) -> None:
        self._buf += data
        if len(self._buf) >= CHUNK:
            self._flush()

    def _emit(self, data: bytes | bytearray) -> None:
        if data:
            self._blob_sha.update(data)
            self.size += len(data)
            try:
                self._out.write(data)
            except OSError as e:
                raise ArchiveError(f"cannot write layer: {e.strerror or e}") from e

    def _process(self, buf: bytearray) -> None:
        self._tar_sha.update(buf)
        self.tar_size += len(buf)
        self._emit(self._comp.compress(buf) if self._comp is not None else bytes(buf))

    def _work(self) -> None:
        while True:
            buf = self._queue.get()
            if buf is None:
                return
            if self._error is None:
                try:
                    self._process(buf)
                except BaseException as e:  # handed to the caller's thread
                    self._error = e

    def _flush(self, final: bool = False) -> None:
        if not self._started:
            self._start(small=final)
        buf = self._buf
        if not buf:
            return
        self._buf = bytearray()
        if self._queue is None:
            self._process(buf)
            return
        if self._error is not None:
            self._raise()
        self._queue.put(buf)

    def _stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None
            self._queue = None

    def _raise(self) -> None:
        err, self._error = self._error, None
        self._stop()
        if isinstance(err, OSError):
            raise ArchiveError(f"cannot write layer: {err.strerror or err}") from err
        assert err is not None
        raise err

    def close(self) -> None:
        self._flush(final=True)
        self._stop()
        if self._error is not None:
            self._raise()
        if self._comp is not None:
            self._emit(self._comp.flush())

    def abort(self) -> None:
        """Stop the worker without finishing the blob (after an error in the caller)."""
        self._buf = bytearray()
        self._stop()

    @property
    def diff_id(self) -> str:
        return "sha256:" + self._tar_sha.hexdigest()

    @property
    def digest(self) -> str:
        return "sha256:" + self._blob_sha.hexdigest()

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.compression]
