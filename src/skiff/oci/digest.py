"""Digests: a validated value type, sha256 helpers and a reader that verifies what it reads."""

from __future__ import annotations

import re

from skiff.errors import DigestMismatchError, InvalidArgumentError
from skiff.hashes import LARGE, sha256
from skiff.records import dataclass

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from typing import BinaryIO

_SHA256 = re.compile(r"^sha256:[a-f0-9]{64}$")
_ANY = re.compile(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$")


@dataclass(frozen=True, order=True)
class Digest:
    """``algorithm:hex``; only sha256 is accepted for content (also keeps ``..`` out of paths)."""

    value: str

    def __post_init__(self) -> None:
        if not _SHA256.match(self.value):
            if _ANY.match(self.value):
                raise InvalidArgumentError(f"unsupported digest algorithm: {self.value}")
            raise InvalidArgumentError(f"invalid digest: {self.value!r}")

    @property
    def algorithm(self) -> str:
        return self.value.split(":", 1)[0]

    @property
    def hex(self) -> str:
        return self.value.split(":", 1)[1]

    @property
    def short(self) -> str:
        return self.hex[:12]

    def __str__(self) -> str:
        return self.value

    @classmethod
    def of(cls, data: bytes) -> Digest:
        return cls("sha256:" + sha256(data).hexdigest())

    @classmethod
    def parse(cls, text: str) -> Digest:
        return cls(text)


def is_digest(text: str) -> bool:
    return bool(_SHA256.match(text))


class VerifyingReader:
    """Wraps a binary stream, hashes what passes, and checks size and digest at EOF (or on :meth:`verify`)."""

    def __init__(self, stream: BinaryIO, expected: Digest, size: int | None = None, what: str = "blob") -> None:
        self._stream = stream
        self._expected = expected
        self._size = size
        self._what = what
        self._h = sha256(large=size is None or size >= LARGE)
        self.count = 0

    def read(self, n: int = -1) -> bytes:
        data = self._stream.read(n)
        self._h.update(data)
        self.count += len(data)
        if self._size is not None and self.count > self._size:
            raise DigestMismatchError(f"{self._what} {self._expected}: more data than the {self._size} bytes announced")
        return data

    def verify(self) -> None:
        while self.read(1 << 20):
            pass
        if self._size is not None and self.count != self._size:
            raise DigestMismatchError(
                f"{self._what} {self._expected}: size {self.count} does not match the {self._size} bytes announced")
        got = "sha256:" + self._h.hexdigest()
        if got != self._expected.value:
            raise DigestMismatchError(f"{self._what} {self._expected}: content has digest {got}")
