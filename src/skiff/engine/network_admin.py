"""Network use cases for `skiff network create|ls|inspect|rm|prune|connect|disconnect` (Options in, Report out).

:class:`NetworkAdmin` wraps :class:`skiff.network.manager.NetworkManager` (whose constructor reads
``$SKIFF_BRIDGE_PREFIX`` and ``$SKIFF_NFT_TABLE``, so that tests never touch the host's skiff0 bridge or its
``inet skiff`` table) and adds Docker's views: the ``host`` and ``none`` pseudo-networks, the inspect JSON,
``ls`` filters. Dead endpoints (a container whose namespace is gone) are collected before ``rm`` and
``prune`` so that a crashed container never pins a network.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from skiff.errors import ConflictError, InvalidArgumentError, NotFoundError, SkiffError
from skiff.hashes import sha256
from skiff.records import dataclass, field

if TYPE_CHECKING:
    from skiff.network.manager import NetworkManager
    from skiff.network.model import Endpoint, NetworkRecord

PSEUDO = {"host": "host", "none": "null"}  # name -> driver


@dataclass(frozen=True)
class CreateOptions:
    """What `skiff network create` was asked for: name, driver, subnet, gateway, ``--internal``, labels, and
    Docker's other flags (``--ip-range``, ``--aux-address``, ``-o``, ``--ipam-*``, ``--ipv4``/``--ipv6``,
    ``--attachable``, ``--ingress``, ``--scope``, ``--config-only``, ``--config-from``)."""

    name: str
    driver: str = "bridge"
    subnet: str | None = None
    gateway: str | None = None
    internal: bool = False
    labels: list[str] = field(default_factory=list)  # "k=v" or "k"
    ip_range: str | None = None
    aux_addresses: list[str] = field(default_factory=list)  # "name=IP"
    options: list[str] = field(default_factory=list)  # "key=value"
    ipam_driver: str = "default"
    ipam_options: list[str] = field(default_factory=list)  # "key=value"
    ipv4: bool = True
    ipv6: bool = False
    attachable: bool = False
    ingress: bool = False
    scope: str = ""
    config_only: bool = False
    config_from: str = ""


@dataclass(frozen=True)
class CreateReport:
    """What `skiff network create` returns: the new network's ID."""

    id: str


@dataclass(frozen=True)
class ListOptions:
    """The ``--filter`` values of `skiff network ls`."""

    filters: list[str] = field(default_factory=list)  # name=, id=, driver=, label=, scope=, type=


@dataclass(frozen=True)
class NetworkSummary:
    """One row of `skiff network ls` (a user network, or the ``host``/``none`` pseudo-network)."""

    id: str
    name: str
    driver: str
    scope: str
    internal: bool
    created: str
    labels: dict[str, str]


@dataclass(frozen=True)
class InspectReport:
    """What `skiff network inspect` shows: one network in Docker's JSON shape."""

    data: dict[str, Any]  # Docker's JSON shape (GET /networks/{id})


@dataclass(frozen=True)
class RemoveReport:
    """What `skiff network rm` did: the networks removed, and an error message for each one that was not."""

    removed: list[str]
    errors: list[str]


@dataclass(frozen=True)
class PruneReport:
    """What `skiff network prune` did: the names of the unused networks it removed."""

    removed: list[str]


@dataclass(frozen=True)
class ConnectOptions:
    """What `skiff network connect` was asked for: the network, the running container, its aliases and IP."""

    network: str
    container: str
    aliases: list[str] = field(default_factory=list)
    ip: str | None = None
    ip6: str | None = None
    links: list[str] = field(default_factory=list)  # NAME[:ALIAS]
    link_local_ips: list[str] = field(default_factory=list)
    driver_opts: list[str] = field(default_factory=list)  # "key=value"


@dataclass(frozen=True)
class DisconnectOptions:
    """What `skiff network disconnect` was asked for; ``force`` also drops a removed container's endpoint."""

    network: str
    container: str
    force: bool = False


def parse_labels(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        k, _, v = item.partition("=")
        if not k:
            raise InvalidArgumentError(f"invalid label {item!r}: expected key=value")
        out[k] = v
    return out


def pseudo_id(name: str) -> str:
    return sha256(f"skiff-network/{name}".encode()).hexdigest()


def endpoint_id(network_id: str, container_id: str) -> str:
    return sha256(f"{network_id}/{container_id}".encode()).hexdigest()


def _filters(items: list[str]) -> dict[str, list[str]]:
    from skiff.engine.filterargs import by_key

    f = by_key(items, ("name", "id", "driver", "label", "scope", "type", "dangling"))
    dangling = f.get("dangling", [])
    if len(set(dangling)) > 1:
        raise InvalidArgumentError('got more than one value for filter key "dangling"')
    if dangling and dangling[0] not in ("0", "false", "1", "true"):
        raise InvalidArgumentError('invalid value for filter \'dangling\', must be "true" (or "1"), or "false" '
                                   '(or "0")')
    for t in f.get("type", []):
        if t not in ("builtin", "custom"):
            raise InvalidArgumentError(f"invalid filter: 'type'='{t}'")
    return f


def _match(values: list[str], source: str) -> bool:
    """moby's filters.Args.Match: equal, or an unanchored regular expression that matches (a bad one never)."""
    for v in values:
        if v == source:
            return True
        try:
            if re.search(v, source):
                return True
        except re.error:
            continue
    return False


def _matches(s: NetworkSummary, f: dict[str, list[str]]) -> bool:
    """moby's FilterNetworks: driver and scope exactly, name and ID as Match, every label value, and type."""
    def label(v: str) -> bool:
        k, sep, val = v.partition("=")
        return k in s.labels and (not sep or s.labels[k] == val)

    builtin = s.name in ("bridge", *PSEUDO)
    return (("driver" not in f or s.driver in f["driver"])
            and ("name" not in f or _match(f["name"], s.name))
            and ("id" not in f or _match(f["id"], s.id))
            and all(label(v) for v in f.get("label", []))
            and ("scope" not in f or s.scope in f["scope"])
            and ("type" not in f or ("builtin" if builtin else "custom") in f["type"]))


class NetworkAdmin:
    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx
        self._mgr: NetworkManager | None = None

    @property
    def mgr(self) -> NetworkManager:
        if self._mgr is None:
            from skiff.network.manager import NetworkManager

            self._mgr = NetworkManager(self.ctx.root, self.ctx.runroot)
        return self._mgr

    # ---- create / list / inspect -----------------------------------------------------------------
    def create(self, opts: CreateOptions) -> CreateReport:
        """Docker's checks in Docker's order (the CLI's IPAM checks, then the daemon's), then the network."""
        from skiff.network.options import NetworkSettings, ipam_config, key_values

        ip_range, aux = ipam_config(opts.subnet, opts.ip_range, opts.aux_addresses)
        if opts.driver != "bridge" and not opts.config_only:
            raise InvalidArgumentError(f"--driver {opts.driver}: only the bridge driver is supported")
        if opts.ipv6:
            raise InvalidArgumentError("--ipv6: skiff's networks are IPv4 only")
        if not opts.ipv4:
            raise InvalidArgumentError("--ipv4=false: IPv4 or IPv6 must be enabled (skiff's networks are IPv4 "
                                       "only)")
        labels = parse_labels(opts.labels)
        if opts.name not in PSEUDO and self.mgr.store.get(opts.name) is not None:
            raise ConflictError(f"network with name {opts.name} already exists")
        if opts.config_only and (opts.ingress or opts.internal or opts.attachable or opts.scope):
            raise InvalidArgumentError("configuration network can only contain network specific fields. Network "
                                       "operator fields like [ ingress | internal | attachable | scope ] are not "
                                       "supported.")
        if opts.config_from:
            if opts.config_only:
                raise InvalidArgumentError("a configuration network cannot depend on another configuration network")
            if (opts.ipam_driver not in ("", "default") or labels or opts.ipam_options or opts.subnet
                    or opts.gateway or ip_range or aux):
                raise InvalidArgumentError("user specified configurations are not supported if the network "
                                           "depends on a configuration network")
            if opts.options:
                raise InvalidArgumentError("network driver options are not supported if the network depends on a "
                                           "configuration network")
        if not opts.config_only:
            if opts.scope not in ("", "local"):
                if opts.scope == "swarm":
                    raise InvalidArgumentError("cannot create a swarm scoped network when swarm is not active")
                raise InvalidArgumentError(f"--scope {opts.scope}: skiff's networks are local (scope \"local\" only)")
            if opts.ingress:
                raise InvalidArgumentError("Ingress network can only be global scope network")
            if opts.config_from:
                cfg = self.mgr.store.get(opts.config_from) if opts.config_from not in PSEUDO else None
                if cfg is None or not cfg.config_only:
                    raise NotFoundError(f'configuration network "{opts.config_from}" does not exist')
            if opts.ipam_driver not in ("", "default"):
                raise NotFoundError(f'plugin "{opts.ipam_driver}" not found')
        settings = NetworkSettings(ip_range=ip_range, aux_addresses=aux, options=key_values(opts.options),
                                   ipam_options=key_values(opts.ipam_options), attachable=opts.attachable,
                                   config_only=opts.config_only, config_from=opts.config_from)
        rec = self.mgr.create_network(opts.name, subnet=opts.subnet, gateway=opts.gateway,
                                      internal=opts.internal, labels=labels, settings=settings)
        return CreateReport(id=rec.id)

    def _pseudo(self, created: str) -> list[NetworkSummary]:
        return [NetworkSummary(pseudo_id(n), n, d, "local", False, created, {}) for n, d in PSEUDO.items()]

    def list_networks(self, opts: ListOptions) -> list[NetworkSummary]:
        f = _filters(opts.filters)
        recs = self.mgr.list()
        rows = [NetworkSummary(r.id, r.name, r.driver, "local", r.internal, r.created, dict(r.labels))
                for r in recs]  # a config-only network shows with driver "null", as in Docker
        bridge = next((r.created for r in recs if r.default), "")
        rows += self._pseudo(bridge)
        if f.get("dangling", ["false"])[0] in ("1", "true"):  # only unused custom networks ("false": all)
            used = {r.name for r in recs if self.mgr.store.ipam(r.name).endpoints}
            rows = [s for s in rows if s.name not in ("bridge", *PSEUDO) and s.name not in used]
        return sorted((s for s in rows if _matches(s, f)), key=lambda s: s.name)

    def _record(self, name: str) -> NetworkRecord | None:
        """The record, or None for a pseudo-network; NotFoundError with Docker's wording otherwise."""
        if name in PSEUDO or name in (pseudo_id(n) for n in PSEUDO):
            return None
        try:
            return self.mgr.inspect(name).record
        except NotFoundError:
            raise NotFoundError(f"network {name} not found") from None

    def inspect(self, name: str) -> InspectReport:
        rec = self._record(name)
        if rec is None:
            pname = name if name in PSEUDO else next(n for n in PSEUDO if pseudo_id(n) == name)
            return InspectReport(_docker_json(pname, pseudo_id(pname), PSEUDO[pname], "", None, [], {}))
        eps = self.mgr.inspect(rec.name).endpoints
        opts = {"com.docker.network.bridge.name": rec.bridge} if rec.bridge else {}
        opts.update(rec.options)
        if rec.default:
            opts["com.docker.network.bridge.default_bridge"] = "true"
        return InspectReport(_docker_json(rec.name, rec.id, rec.driver, rec.created, rec, eps, opts))

    # ---- remove / prune --------------------------------------------------------------------------
    def remove(self, names: list[str]) -> RemoveReport:
        """Each name in turn (Docker's order); failures are collected, not raised."""
        self.mgr.gc_dead()
        removed, errors = [], []
        for name in names:
            try:
                if name in PSEUDO:
                    raise InvalidArgumentError(f"{name} is a pre-defined network and cannot be removed")
                self.mgr.remove(name)
                removed.append(name)
            except NotFoundError:
                errors.append(f"network {name} not found")
            except SkiffError as e:
                errors.append(e.message)
        return RemoveReport(removed, errors)

    def check_prune_filters(self, filters: list[str]) -> None:
        """moby's network prune filters: ``until``, ``label`` and ``label!`` (Docker's error for others)."""
        from .prune import parse_filters

        parse_filters(filters, ("until", "label", "label!"))

    def prune(self, filters: list[str] | None = None) -> PruneReport:
        """Every unused user network the filters select: created before ``until``, labels matching every
        ``label`` and no ``label!`` (moby's network prune)."""
        from .prune import parse_filters

        flt = parse_filters(filters or [], ("until", "label", "label!"))

        def keep(rec: NetworkRecord) -> bool:
            if flt.until_ns is not None:
                from skiff.monitor.logs import parse_rfc3339

                try:
                    if parse_rfc3339(rec.created) >= flt.until_ns:
                        return True
                except (ValueError, IndexError):
                    return True
            return not flt.keeps_labels(dict(rec.labels))

        self.mgr.gc_dead()
        return PruneReport(self.mgr.prune(keep if filters else None))

    # ---- connect / disconnect --------------------------------------------------------------------
    def _containers(self) -> Any:
        from skiff.engine.containers_state import ContainerStore

        return ContainerStore(self.ctx.root, self.ctx.runroot)

    def connect(self, opts: ConnectOptions) -> None:
        """Attach a running container (its namespace is /proc/PID/ns/net) to one more network."""
        if opts.network in PSEUDO:
            raise InvalidArgumentError(f"container cannot be connected to the {opts.network} network")
        self._record(opts.network)  # Docker's not-found wording first
        cs = self._containers()
        cid = cs.resolve(opts.container)
        rec, st = cs.record(cid), cs.state(cid)
        mode = rec.host_config.network_mode or "bridge"
        if mode in PSEUDO:
            raise ConflictError(f"container {rec.bare_name} uses --network {mode} and cannot be connected to "
                                "other networks")
        if opts.ip6:
            raise InvalidArgumentError(f"--ip6 {opts.ip6}: skiff's networks are IPv4 only")
        lls = check_link_local_ips(opts.link_local_ips)
        if opts.links and self.mgr.inspect(opts.network).record.default:
            raise InvalidArgumentError("links are only supported for user-defined networks")
        links = []
        for link in opts.links:  # moby's ParseLink, then the container it names must exist
            name, _, alias = link.partition(":")
            name = name.lstrip("/")
            if not name:
                raise InvalidArgumentError(f"invalid link format: {link}")
            try:
                child = cs.record(cs.resolve(name))
            except NotFoundError as e:
                raise NotFoundError(f"could not get container for {name}: {e.message}") from None
            links.append(f"{child.bare_name}:{alias or name}")
        if not st.st.is_live or st.pid <= 0:
            raise ConflictError(f"container {rec.bare_name} is not running (connect needs its network namespace)")
        from skiff.network.options import key_values

        self.mgr.attach(cid, f"/proc/{st.pid}/ns/net", opts.network, name=rec.bare_name,
                        aliases=opts.aliases, ip=opts.ip, links_=links, driver_opts=key_values(opts.driver_opts),
                        link_local_ips=lls)

    def disconnect(self, opts: DisconnectOptions) -> None:
        """Detach a container from a network. With ``force``, the endpoint of a removed container (by name or
        ID prefix) goes too, and nothing left to disconnect is no error."""
        net = self._record(opts.network)
        if net is None:
            raise InvalidArgumentError(f"container cannot be disconnected from the {opts.network} network")
        try:
            cid = self._containers().resolve(opts.container)
        except NotFoundError:
            if not opts.force:
                raise
            eps = self.mgr.inspect(net.name).endpoints
            hits = [e.container_id for e in eps
                    if e.name == opts.container or e.container_id.startswith(opts.container)]
            if len(hits) != 1:
                return
            cid = hits[0]
        try:
            self.mgr.detach(cid, net.name)
        except NotFoundError:
            if not opts.force:
                raise


def check_link_local_ips(items: list[str]) -> list[str]:
    """``--link-local-ip``: IPv4 link-local addresses (169.254.0.0/16) only, as skiff's networks are IPv4."""
    import ipaddress

    out = []
    for item in items:
        try:
            addr = ipaddress.ip_address(item)
        except ValueError:
            raise InvalidArgumentError(f"invalid link-local IP address: {item}") from None
        if addr.version != 4:
            raise InvalidArgumentError(f"--link-local-ip {item}: skiff's networks are IPv4 only")
        if not addr.is_link_local:
            raise InvalidArgumentError(f"invalid link-local IP address {item}: not in 169.254.0.0/16")
        out.append(str(addr))
    return out


def _ipam_config(rec: NetworkRecord) -> list[dict[str, Any]]:
    """moby's IPAMConfig entries: Subnet, IPRange, Gateway, AuxiliaryAddresses (empty ones left out)."""
    if not rec.subnet:
        return []
    ent: dict[str, Any] = {"Subnet": rec.subnet}
    if rec.ip_range:
        ent["IPRange"] = rec.ip_range
    if rec.gateway:
        ent["Gateway"] = rec.gateway
    if rec.aux_addresses:
        ent["AuxiliaryAddresses"] = dict(rec.aux_addresses)
    return [ent]


def _docker_json(name: str, net_id: str, driver: str, created: str, rec: NetworkRecord | None,
                 eps: list[Endpoint], options: dict[str, str]) -> dict[str, Any]:
    config = _ipam_config(rec) if rec else []
    containers = {e.container_id: {"Name": e.name, "EndpointID": endpoint_id(net_id, e.container_id),
                                   "MacAddress": e.mac, "IPv4Address": f"{e.ip}/{rec.prefixlen}",
                                   "IPv6Address": ""} for e in eps} if rec else {}
    return {"Name": name, "Id": net_id, "Created": created or "0001-01-01T00:00:00Z", "Scope": "local",
            "Driver": driver, "EnableIPv4": True, "EnableIPv6": False,
            "IPAM": {"Driver": "default", "Options": dict(rec.ipam_options) if rec and rec.ipam_options else None,
                     "Config": config},
            "Internal": bool(rec and rec.internal), "Attachable": bool(rec and rec.attachable), "Ingress": False,
            "ConfigFrom": {"Network": rec.config_from if rec else ""}, "ConfigOnly": bool(rec and rec.config_only),
            "Containers": containers,
            "Options": options, "Labels": dict(rec.labels) if rec else {}}
