"""skiff.archive: layer tars. Create (a tree, an overlay upper dir, a two-tree diff), apply safely onto a
folder (whiteouts, or overlay whiteouts), gzip/zstd by magic, and safe path resolution inside a root.

No store knowledge; imports only skiff.oci, skiff.errors and the stdlib (isal and zstandard lazily).

API:
- ``create_layer(src, out, *, compression="gzip"|"zstd"|"none", source_date_epoch=None, lower=None,
  mode="dir"|"overlay-upper"|"diff", level=None) -> LayerResult(digest, diff_id, size, media_type,
  tar_size, entries)``
- ``apply_layer(stream, dest, *, overlay_whiteouts=False, allow_devices=False, max_bytes=None, uid=None,
  gid=None, what="layer") -> ApplyResult(diff_id, digest, size, compressed_size, compression, entries,
  skipped)``
- ``list_layer(stream, *, max_bytes=None) -> list[Entry]``; ``detect_compression(head) -> "gzip"|"zstd"|"none"``
- ``safe_join(root, path) -> Path``; ``open_in_root(root, path, flags, mode, *, follow=True) -> fd``;
  ``copy_into_root(src, root, dest, *, uid=None, gid=None, chown=None) -> entries``
Errors: ``ArchiveError`` (bad or unreadable data), ``UnsafeEntryError`` (hostile entry, named),
``LayerTooLargeError`` (``max_bytes`` exceeded); all are SkiffError.
Worker threads (hash/compress) live only inside one call; none is left running when a call returns.
"""

from __future__ import annotations

from skiff.archive.apply import ApplyResult, apply_layer, list_layer
from skiff.archive.compression import MEDIA_TYPES, detect_compression
from skiff.archive.copy import copy_into_root
from skiff.archive.create import LayerResult, create_layer
from skiff.archive.errors import ArchiveError, LayerTooLargeError, UnsafeEntryError
from skiff.archive.rootfs import open_in_root, safe_join

__all__ = [
    "MEDIA_TYPES", "ApplyResult", "ArchiveError", "LayerResult", "LayerTooLargeError", "UnsafeEntryError",
    "apply_layer", "copy_into_root", "create_layer", "detect_compression", "list_layer", "open_in_root",
    "safe_join",
]
