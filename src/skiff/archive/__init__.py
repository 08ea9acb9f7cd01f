"""skiff.archive: layer tars. Create (a tree, an overlay upper dir, a two-tree diff), apply safely onto a
folder (whiteouts, or overlay whiteouts), gzip/zstd by magic, and safe path resolution inside a root.

No store knowledge; imports only skiff.oci, skiff.errors and the stdlib (isal and zstandard lazily).
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
