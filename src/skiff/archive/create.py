"""create_layer: a folder (or the changes in it) as a layer blob, hashed and compressed in one pass."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO, Literal, Protocol

from skiff.archive import tarfmt
from skiff.archive.compression import Compression, LayerWriter
from skiff.archive.errors import ArchiveError
from skiff.archive.walk import Item, Walker
from skiff.oci.digest import Digest
from skiff.records import dataclass

Mode = Literal["dir", "overlay-upper", "diff"]
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC  # NONBLOCK: a FIFO never blocks


@dataclass(frozen=True)
class LayerResult:
    """The blob ``create_layer`` wrote: digest, diff_id, size, media type, tar size and entry count."""

    digest: Digest  # sha256 of the blob as written
    diff_id: Digest  # sha256 of the uncompressed tar
    size: int  # bytes of the blob
    media_type: str
    tar_size: int = 0
    entries: int = 0


class Writer(Protocol):
    def write(self, data: bytes, /) -> object: ...


def write_items(items: Iterable[Item], w: LayerWriter | Writer) -> int:
    """Serialize entries (headers by hand, file content streamed from the host file)."""
    count = 0
    write = w.write
    encode = tarfmt.encode_header
    for item in items:
        e = item.entry
        count += 1
        write(encode(e))
        if item.source is None or not e.size:
            continue
        _copy_content(item.source, e.size, write, e.name)
    write(bytes(2 * tarfmt.BLOCK))
    return count


def _copy_content(path: str, size: int, write: object, name: str) -> None:
    try:
        fd = os.open(path, _READ_FLAGS)
    except OSError as err:
        raise ArchiveError(f"{path}: cannot read: {err.strerror}") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ArchiveError(f"{path}: no longer a regular file (as {name!r})")
        left = size
        while left > 0:
            data = os.read(fd, min(left, 1 << 20))
            if not data:
                raise ArchiveError(f"{path}: file shrank while being archived (as {name!r})")
            left -= len(data)
            write(data)  # type: ignore[operator]
        pad = tarfmt.padding(size)
        if pad:
            write(bytes(pad))  # type: ignore[operator]
    finally:
        os.close(fd)


def create_layer(src: Path, out: BinaryIO, *, compression: Compression = "gzip",
                 source_date_epoch: int | None = None, lower: list[Path] | None = None,
                 mode: Mode = "dir", level: int | None = None) -> LayerResult:
    """Write a layer blob of ``src`` to ``out``.

    ``mode``: ``dir`` archives the whole tree; ``overlay-upper`` reads an overlayfs upper dir (char 0/0
    whiteouts and opaque folders become ``.wh.`` entries); ``diff`` compares ``src`` with ``lower[0]`` (the
    vfs driver: both full trees) and writes only what changed, with whiteouts for what is gone.
    ``source_date_epoch`` clamps every mtime to it, so the same content gives the same digest."""
    src_s = os.fspath(src)
    if not os.path.isdir(src_s):
        raise ArchiveError(f"{src_s}: not a folder")
    walker = Walker(source_date_epoch=source_date_epoch, overlay_upper=mode == "overlay-upper")
    if mode == "diff":
        if not lower or len(lower) != 1:
            raise ArchiveError("create_layer: diff mode needs exactly one lower folder")
        items: Iterable[Item] = walker.diff(src_s, os.fspath(lower[0]))
    elif mode in ("dir", "overlay-upper"):
        items = walker.tree(src_s)
    else:
        raise ArchiveError(f"create_layer: unknown mode {mode!r}")
    w = LayerWriter(out, compression, level)
    try:
        n = write_items(items, w)
        w.close()
    except BaseException:
        w.abort()
        raise
    return LayerResult(digest=Digest(w.digest), diff_id=Digest(w.diff_id), size=w.size,
                       media_type=w.media_type, tar_size=w.tar_size, entries=n)
