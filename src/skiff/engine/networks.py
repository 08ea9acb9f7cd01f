"""The seam between containers and networking: which network namespace a container's spec gets.

``none``: a new namespace with only loopback (the runtime makes it); ``host``: the host's namespace;
``bridge`` and named networks: a namespace prepared and attached by :mod:`skiff.network` (when this build
has it wired; until then they behave as ``none``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from skiff.errors import InvalidArgumentError

from .containers_model import ContainerRecord

if TYPE_CHECKING:
    from .containers import ContainerEngine


def setup_network(eng: ContainerEngine, rec: ContainerRecord) -> str | None:
    """The netns for the spec: "host", a path to join, or None for a new empty namespace."""
    mode = rec.host_config.network_mode or "bridge"
    if mode == "host":
        return "host"
    if mode == "none":
        return None
    if mode.startswith("container:"):
        raise InvalidArgumentError("--network container:<name> is not supported")
    return None


def release_network(eng: ContainerEngine, rec: ContainerRecord) -> None:
    """Undo :func:`setup_network` (stop, rm, crash cleanup); nothing to do for none and host."""
    return None
