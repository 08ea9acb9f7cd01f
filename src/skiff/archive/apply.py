"""apply_layer: a layer blob (plain, gzip or zstd, detected by magic) unpacked onto a folder, safely."""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO

from skiff.archive import tarfmt
from skiff.archive.compression import LayerReader
from skiff.archive.errors import ArchiveError
from skiff.archive.extract import ExtractOptions, Extractor
from skiff.archive.tarfmt import BLOCK, ZERO_BLOCK, Entry
from skiff.oci.digest import Digest
from skiff.records import dataclass, field


@dataclass(frozen=True)
class ApplyResult:
    """What ``apply_layer`` did: the layer's diff_id, blob digest, sizes, compression, entries, skips."""

    diff_id: Digest  # sha256 of the uncompressed tar
    digest: Digest  # sha256 of the blob as read (compressed)
    size: int  # uncompressed bytes
    compressed_size: int
    compression: str
    entries: int
    skipped: list[str] = field(default_factory=list)  # device nodes not created
    # what Docker shows as a layer's size (moby's directory.Size of the unpacked diff): the bytes of its
    # regular files and symlink targets, a hard link counted once, folders and devices as 0
    content_size: int = 0


def iter_entries(reader: LayerReader, what: str = "layer"):  # type: ignore[no-untyped-def]
    """Yield each member's Entry with PAX/GNU extensions merged; the caller must consume exactly
    ``entry.size`` bytes of a regular file's content from ``reader`` (padding is skipped here)."""
    global_pax: dict[str, bytes] = {}
    pending: dict[str, bytes] = {}
    read = reader.read
    while True:
        block = read(BLOCK)
        if len(block) < BLOCK:
            if not block:
                return  # no end-of-archive marker: accepted, as GNU tar does (with a warning)
            raise ArchiveError(f"{what}: truncated tar header")
        if block == ZERO_BLOCK:
            return
        e = tarfmt.decode_header(block)
        t = e.type
        if t in (b"x", b"g", b"L", b"K"):
            data = read(e.size + tarfmt.padding(e.size))[: e.size]
            if len(data) < e.size:
                raise ArchiveError(f"{what}: truncated extended header of {e.name!r}")
            if t == b"x":
                pending.update(tarfmt.parse_pax(data, e.name))
            elif t == b"g":
                global_pax.update(tarfmt.parse_pax(data, e.name))
            elif t == b"L":
                pending["path"] = data.split(b"\0", 1)[0]
            else:
                pending["linkpath"] = data.split(b"\0", 1)[0]
            continue
        if global_pax or pending:
            tarfmt.apply_pax(e, {**global_pax, **pending})
            pending = {}
        tarfmt.check_type(e)
        yield e
        if e.type == tarfmt.REG:
            pad = tarfmt.padding(e.size)
        else:
            pad = e.size + tarfmt.padding(e.size)  # links and folders carry no content
        if pad and len(read(pad)) < pad:
            raise ArchiveError(f"{what}: truncated after {e.name!r}")


def apply_layer(stream: BinaryIO, dest: Path, *, overlay_whiteouts: bool = False, allow_devices: bool = False,
                max_bytes: int | None = None, uid: int | None = None, gid: int | None = None,
                what: str = "layer") -> ApplyResult:
    """Unpack a layer blob onto ``dest`` (which must exist). Whiteouts delete lower entries, or become
    overlayfs whiteouts with ``overlay_whiteouts`` (for unpacking each layer into its own lower dir).
    Hostile entries raise :class:`~skiff.archive.errors.UnsafeEntryError` naming the entry; nothing is
    ever written outside ``dest``. ``max_bytes`` bounds the uncompressed size."""
    reader = LayerReader(stream, max_bytes=max_bytes, what=what)
    ex = Extractor(dest, ExtractOptions(overlay_whiteouts=overlay_whiteouts, allow_devices=allow_devices,
                                        uid=uid, gid=gid))
    content = 0
    try:
        try:
            add = ex.add
            for e in iter_entries(reader, what):
                add(e, reader)
                if e.type == tarfmt.REG:
                    content += e.size
                elif e.type == tarfmt.SYM:
                    content += len(os.fsencode(e.linkname))
        finally:
            ex.finish()
        reader.finish()
    finally:
        reader.close()
    return ApplyResult(diff_id=Digest(reader.diff_id), digest=Digest(reader.digest), size=reader.size,
                       compressed_size=reader.compressed_size, compression=reader.compression,
                       entries=ex.stats.entries, skipped=ex.stats.skipped, content_size=content)


def list_layer(stream: BinaryIO, *, max_bytes: int | None = None) -> list[Entry]:
    """The entries of a layer blob (content skipped): for tests, `skiff image inspect` helpers, debugging."""
    reader = LayerReader(stream, max_bytes=max_bytes)
    out = []
    try:
        for e in iter_entries(reader):
            out.append(e)
            left = e.size if e.type == tarfmt.REG else 0
            while left > 0:
                chunk = reader.read(min(left, 1 << 20))
                if not chunk:
                    raise ArchiveError(f"layer: truncated content of {e.name!r}")
                left -= len(chunk)
        reader.finish()
    finally:
        reader.close()
    return out
