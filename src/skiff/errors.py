"""The root of every skiff exception.

Libraries raise; only ``skiff.cli.main`` turns a :class:`SkiffError` into an exit code (Docker's rules:
125 engine error, 126 cannot invoke, 127 not found, else the container's own status).
"""

from __future__ import annotations


class SkiffError(Exception):
    """A user-facing error: one line naming the file, line, flag, reference or JSON path at fault."""

    exit_code: int = 125

    def __init__(self, message: str, *, hint: str | None = None, exit_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        if exit_code is not None:
            self.exit_code = exit_code

    def __str__(self) -> str:
        return self.message


class NotFoundError(SkiffError):
    """An image, container, volume, network or blob that does not exist."""


class ConflictError(SkiffError):
    """The object exists or is in use (name taken, image used by a container, ...)."""


class InvalidArgumentError(SkiffError):
    """Bad input from the user: a flag, a reference, a file."""


class DigestMismatchError(SkiffError):
    """Content whose sha256 differs from the digest it was announced with."""
