from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from skiff.errors import DigestMismatchError, NotFoundError
from skiff.oci.digest import Digest
from skiff.store.blobs import BlobStore


def test_put_get_and_verify(tmp_path: Path) -> None:
    b = BlobStore(tmp_path, tmp_path / "tmp")
    d, n = b.put(b"hello")
    assert d == Digest.of(b"hello") and n == 5 and b.has(d)
    assert b.read(d) == b"hello"
    d2, _ = b.put(io.BytesIO(b"x" * (3 << 20)), Digest.of(b"x" * (3 << 20)), 3 << 20)
    assert b.size(d2) == 3 << 20
    assert set(b.list()) == {d, d2}


def test_mismatch_stores_nothing(tmp_path: Path) -> None:
    b = BlobStore(tmp_path, tmp_path / "tmp")
    wrong = Digest.of(b"other")
    with pytest.raises(DigestMismatchError, match="content has digest"):
        b.put(io.BytesIO(b"hello"), wrong)
    with pytest.raises(DigestMismatchError, match="truncated"):
        b.put(io.BytesIO(b"hel"), Digest.of(b"hello"), 5)
    with pytest.raises(DigestMismatchError, match="more data"):
        b.put(io.BytesIO(b"hello!"), Digest.of(b"hello"), 5)
    assert not b.has(wrong) and list(b.list()) == []
    assert os.listdir(tmp_path / "tmp") == []


def test_corruption_is_detected_on_read(tmp_path: Path) -> None:
    b = BlobStore(tmp_path, tmp_path / "tmp")
    d, _ = b.put(b"config")
    b.path(d).write_bytes(b"tampered")
    with pytest.raises(DigestMismatchError, match="corrupted"):
        b.read(d)
    with pytest.raises(NotFoundError):
        b.read(Digest.of(b"absent"))
