"""Typed records of the network layer (stored through :mod:`skiff.oci.codec`)."""

from __future__ import annotations

from skiff.errors import SkiffError
from skiff.oci.codec import jfield
from skiff.records import dataclass, field

OPT_BRIDGE_NAME = "com.docker.network.bridge.name"
OPT_MTU = "com.docker.network.driver.mtu"
OPT_ICC = "com.docker.network.bridge.enable_icc"
OPT_MASQ = "com.docker.network.bridge.enable_ip_masquerade"
OPT_HOST_IP = "com.docker.network.bridge.host_binding_ipv4"


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
    # Docker's create options: --ip-range, --aux-address, -o (the driver options as given), --ipam-opt,
    # --attachable, --config-only and --config-from
    ip_range: str = jfield("IPRange", default="")
    aux_addresses: dict[str, str] = jfield("AuxiliaryAddresses", default_factory=dict)  # noqa: RUF009
    options: dict[str, str] = jfield("Options", default_factory=dict)  # noqa: RUF009
    ipam_options: dict[str, str] = jfield("IPAMOptions", default_factory=dict)  # noqa: RUF009
    attachable: bool = jfield("Attachable", default=False)
    config_only: bool = jfield("ConfigOnly", default=False)
    config_from: str = jfield("ConfigFrom", default="")

    @property
    def prefixlen(self) -> int:
        return int(self.subnet.split("/")[1])

    def _opt_bool(self, key: str) -> bool:
        return self.options.get(key, "true").strip().lower() in ("1", "t", "true")

    @property
    def mtu(self) -> int | None:
        """``com.docker.network.driver.mtu`` (None: the uplink's, as before)."""
        v = self.options.get(OPT_MTU, "")
        return int(v) if v.strip() and int(v) > 0 else None

    @property
    def icc(self) -> bool:
        """``com.docker.network.bridge.enable_icc``: false isolates the bridge's ports from each other."""
        return self._opt_bool(OPT_ICC)

    @property
    def masquerade(self) -> bool:
        """``com.docker.network.bridge.enable_ip_masquerade``: false, no masquerade of the subnet's traffic."""
        return self._opt_bool(OPT_MASQ)

    @property
    def host_binding_ipv4(self) -> str:
        """``com.docker.network.bridge.host_binding_ipv4``: the host address of ports published without one."""
        return self.options.get(OPT_HOST_IP, "")

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
    links: list[str] = jfield("Links", default_factory=list)  # noqa: RUF009  # "NAME:ALIAS" (network connect --link)
    driver_opts: dict[str, str] = jfield("DriverOpts", default_factory=dict)  # noqa: RUF009
    link_local_ips: list[str] = jfield("LinkLocalIPs", default_factory=list)  # noqa: RUF009


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
    links: list[str] = field(default_factory=list)
    driver_opts: dict[str, str] = field(default_factory=dict)
    link_local_ips: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class NetworkInspect:
    """What :meth:`NetworkManager.inspect` returns: the network's record and its endpoints."""

    record: NetworkRecord
    endpoints: list[Endpoint]
