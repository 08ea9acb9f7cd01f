"""Errors of skiff.runtime (all SkiffError subclasses)."""

from __future__ import annotations

from skiff.errors import ConflictError, InvalidArgumentError, NotFoundError, SkiffError


class BundleError(InvalidArgumentError):
    """config.json or the rootfs is invalid; the message names the file or JSON field."""


class ContainerNotFound(NotFoundError):
    """No container with that id under the state root."""


class ContainerExists(ConflictError):
    """A container with that id already exists."""


class StateTransitionError(ConflictError):
    """The operation is not allowed in the container's current status (runtime-spec lifecycle)."""


class ContainerStartError(SkiffError):
    """The container process could not be set up or started."""


class ExecFailed(SkiffError):
    """execve of the user's command failed: 127 when not found, 126 when not executable."""

    def __init__(self, message: str, errno_value: int) -> None:
        import errno as _errno

        code = 127 if errno_value in (_errno.ENOENT, _errno.ENOTDIR) else 126
        super().__init__(message, exit_code=code)
        self.errno = errno_value
