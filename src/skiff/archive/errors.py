"""Errors raised by skiff.archive: every one names the tar entry (or path) at fault."""

from __future__ import annotations

from skiff.errors import SkiffError


class ArchiveError(SkiffError):
    """A layer tar that cannot be read, written or applied."""


class UnsafeEntryError(ArchiveError):
    """A hostile or malformed entry: `..` escapes, bad whiteouts, links leaving the root."""


class LayerTooLargeError(ArchiveError):
    """The uncompressed layer exceeds the configured maximum (decompression bomb guard)."""
