"""sha256 without loading OpenSSL for small inputs (this module imports nothing)."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from hashlib import _Hash

LARGE = 1 << 20  # from here on OpenSSL's speed repays loading it


def sha256(data: bytes = b"", *, large: bool = False) -> _Hash:
    """A sha256 hash object fed ``data``. hashlib's (OpenSSL) hashes bulk data ~2x faster here (more with the
    CPU's SHA extensions), but loading it costs ~4-5 ms, a tenth of a cached rebuild; below ~1 MiB the
    interpreter's builtin ``_sha256`` is done first. ``large``: the caller will feed much more than ``data``."""
    if not large and len(data) < LARGE:
        try:
            from _sha256 import sha256 as builtin
        except ImportError:  # pragma: no cover - an interpreter built without it
            pass
        else:
            return builtin(data)  # type: ignore[no-any-return]
    import hashlib

    return hashlib.sha256(data)
