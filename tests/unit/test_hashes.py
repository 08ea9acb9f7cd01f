"""skiff.hashes.sha256: the builtin below LARGE, OpenSSL's from there (or when asked), the same digests."""

from __future__ import annotations

import hashlib

from hypothesis import given
from hypothesis import strategies as st

from skiff.hashes import LARGE, sha256


@given(st.binary(max_size=4096), st.booleans())
def test_same_digest_as_hashlib(data: bytes, large: bool) -> None:
    h = sha256(data, large=large)
    h.update(data)
    assert h.hexdigest() == hashlib.sha256(data + data).hexdigest()


def test_which_implementation() -> None:
    assert type(sha256(b"x")).__module__ == "_sha256"
    assert type(sha256(b"x", large=True)) is type(hashlib.sha256())
    assert type(sha256(bytes(LARGE))) is type(hashlib.sha256())
    assert sha256(bytes(LARGE)).hexdigest() == hashlib.sha256(bytes(LARGE)).hexdigest()
