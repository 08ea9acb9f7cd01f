"""Registry errors: one line naming the reference (or registry) and the cause; never a credential."""

from __future__ import annotations

from skiff.errors import InvalidArgumentError, NotFoundError, SkiffError


class RegistryError(SkiffError):
    """Any failure talking to a registry (exit 125)."""


class RegistryAuthError(RegistryError):
    """401/403: missing or wrong credentials, or no access to the repository."""


class RegistryNotFoundError(RegistryError, NotFoundError):
    """404: manifest, blob or repository unknown."""


class RegistryUnreachableError(RegistryError):
    """Connection refused, DNS failure, TLS failure, timeout."""


class RegistryProtocolError(RegistryError):
    """The registry answered something skiff cannot use (unknown media type, bad headers, too large)."""


class RegistryConfigError(InvalidArgumentError):
    """A registries.toml or auth file that cannot be read."""
