"""Typed records of the network layer (stored through :mod:`skiff.oci.codec`)."""

from __future__ import annotations

from skiff.errors import SkiffError
from skiff.oci.codec import jfield
from skiff.records import dataclass, field


class NetworkError(SkiffError):
    """A network, address, port or firewall operation that failed."""


@dataclass(frozen=True)
class PortMapping:
    """One published port. ``host_port`` 0 means "pick a free one" (from ``host_port_end`` range if set)."""

    container_port: int = jfield("ContainerPort")
    protocol: str = jfield("Protocol", default="tcp")
    host_ip: str = jfield("HostIp", default="")
    host_port: int = jfield("HostPort", default=0)
    host_port_end: int = jfield("HostPortEnd", default=0)

    def __str__(self) -> str:
        hip = self.host_ip or "0.0.0.0"
        return f"{self.container_port}/{self.protocol} -> {hip}:{self.host_port}"


@dataclass(frozen=True)
class NetworkRecord:
    """A network's configuration, stored as ROOT/networks/<name>.json."""

    name: str = jfield("Name")
    id: str = jfield("Id")
    subnet: str = jfield("Subnet")
    gateway: str = jfield("Gateway")
    bridge: str = jfield("Bridge")
    driver: str = jfield("Driver", default="bridge")
    internal: bool = jfield("Internal", default=False)
    default: bool = jfield("Default", default=False)
    labels: dict[str, str] = jfield("Labels", default_factory=dict)  # noqa: RUF009
    created: str = jfield("Created", default="")

    @property
    def prefixlen(self) -> int:
        return int(self.subnet.split("/")[1])

    @property
    def dns_enabled(self) -> bool:
        """User networks get an embedded DNS responder; the default bridge does not (as in Docker)."""
        return not self.default


@dataclass(frozen=True)
class Endpoint:
    """A container's presence on one network (its address, host-side veth and published ports)."""

    container_id: str = jfield("ContainerId")
    ip: str = jfield("IPv4Address")
    mac: str = jfield("MacAddress")
    veth: str = jfield("HostVeth")
    ifname: str = jfield("Interface", default="eth0")
    name: str = jfield("Name", default="")
    aliases: list[str] = jfield("Aliases", default_factory=list)  # noqa: RUF009
    netns: str = jfield("Netns", default="")
    ports: list[PortMapping] = jfield("Ports", default_factory=list)  # noqa: RUF009


@dataclass(frozen=True)
class IpamState:
    """Allocations of one network, stored as ROOT/networks/ipam/<name>.json."""

    network: str = jfield("Network")
    endpoints: list[Endpoint] = jfield("Endpoints", default_factory=list)  # noqa: RUF009


@dataclass(frozen=True)
class Attachment:
    """What :meth:`NetworkManager.attach` did: the container's address on the network and its real ports."""

    network: str
    container_id: str
    ip: str
    gateway: str
    prefixlen: int
    mac: str
    ifname: str
    veth: str
    internal: bool = False
    dns_server: str | None = None  # the embedded resolver for user networks
    aliases: list[str] = field(default_factory=list)
    ports: list[PortMapping] = field(default_factory=list)


@dataclass(frozen=True)
class NetworkInspect:
    """What :meth:`NetworkManager.inspect` returns: the network's record and its endpoints."""

    record: NetworkRecord
    endpoints: list[Endpoint]
