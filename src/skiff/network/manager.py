"""NetworkManager: the network layer's one entry point for the engine.

Every change runs under the store's single network lock (see :mod:`skiff.network.state`): records first,
then host devices, then the firewall table rebuilt from the records. A crash in between leaves records that
name dead containers or devices that no record names; :meth:`NetworkManager.gc` removes both.
"""

from __future__ import annotations

import builtins
import contextlib
import ipaddress
import os
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from skiff.errors import ConflictError, InvalidArgumentError, NotFoundError, SkiffError
from skiff.hashes import sha256
from skiff.network import dnsproc, firewall, links, ports
from skiff.network.model import (
    OPT_BRIDGE_NAME,
    Attachment,
    Endpoint,
    IpamState,
    NetworkError,
    NetworkInspect,
    NetworkRecord,
    PortMapping,
)
from skiff.network.options import NetworkSettings, check_bridge_options
from skiff.network.state import NetworkStore, atomic_write
from skiff.records import replace

DEFAULT_NETWORK = "bridge"
RESERVED = ("bridge", "host", "none")
NAME_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")
# the default bridge's candidates (not podman's 10.88/10.89); each store root has its own default bridge
DEFAULT_POOLS = ("10.86.0.0/16", "10.85.0.0/16", "10.84.0.0/16", "172.30.0.0/16",
                 *(f"10.{n}.0.0/16" for n in range(83, 75, -1)), *(f"172.{n}.0.0/16" for n in range(29, 23, -1)))
USER_POOL = "10.91.0.0/16"  # carved into /24s (podman uses 10.89)


def _now() -> str:
    import time  # not datetime: nothing else on `skiff run`'s path imports it

    sec, ns = divmod(time.time_ns(), 1_000_000_000)  # Go's RFC 3339 with nanoseconds, trailing zeros cut
    frac = f"{ns:09d}".rstrip("0")
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec)) + (f".{frac}" if frac else "") + "Z"


def mac_for(ip: str) -> str:
    """Docker's habit: 02:42 followed by the IPv4 address."""
    return "02:42:" + ":".join(f"{b:02x}" for b in ipaddress.IPv4Address(ip).packed)


class NetworkManager:
    """Bridge networks, IPAM, veths, firewall and DNS for containers of one store root."""

    def __init__(self, root: Path, runroot: Path, *, bridge_prefix: str | None = None, table: str | None = None,
                 default_subnet: str | None = None, dns_upstreams: Sequence[str] | None = None,
                 host_resolv: Path = Path("/etc/resolv.conf"), firewall_backend: str = "auto") -> None:
        # None: the store's own names (skiff0 and `inet skiff` for the default root, hashed ones for any other;
        # $SKIFF_BRIDGE_PREFIX / $SKIFF_NFT_TABLE override them). A manager of another root under the default
        # names took the default store's bridge, veths and rules for strays of its own and removed them.
        if bridge_prefix is None or table is None:
            from skiff.network.names import host_names

            own_prefix, own_table = host_names(root)
            bridge_prefix = bridge_prefix or own_prefix
            table = table or own_table
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,31}", table):
            raise InvalidArgumentError(f"nftables table name {table!r}: letters, digits and _ (at most 32)")
        if not re.fullmatch(r"[a-z][a-z0-9]{0,7}", bridge_prefix):
            raise InvalidArgumentError(f"bridge prefix {bridge_prefix!r}: 1-8 lowercase letters/digits")
        self.root, self.runroot = Path(root), Path(runroot)
        self.prefix, self.table = bridge_prefix, table
        self.default_subnet = default_subnet
        self.dns_upstreams = dns_upstreams
        self.host_resolv = host_resolv
        self.store = NetworkStore(self.root)
        self._nft: firewall.Nft | None = None
        if firewall_backend not in ("auto", "nftables", "iptables"):
            raise InvalidArgumentError(f"firewall backend {firewall_backend!r}: auto, nftables or iptables")
        self.firewall_backend = firewall_backend

    # ---- names -----------------------------------------------------------------------------------
    def veth_name(self, container_id: str, network: str) -> str:
        h = sha256(f"{container_id}/{network}".encode()).hexdigest()
        return (self.prefix + "v" + h)[:15]

    def _nft_(self) -> firewall.Nft:
        if self._nft is None:
            self._nft = firewall.Nft()
        return self._nft

    def warm(self, network: str = DEFAULT_NETWORK) -> None:
        """Do the first-call work of :meth:`attach` ahead, changing nothing: read and re-encode the network's
        records (the codec builds its converters on first use), load libnftables and open a netlink socket.
        The plumber calls it while the container is being created; the first attach of a process is
        otherwise ~15 ms slower than the next."""
        from skiff.network.rtnl import Rtnl
        from skiff.oci import codec

        with contextlib.suppress(SkiffError):
            rec = self.store.get(DEFAULT_NETWORK) if network == DEFAULT_NETWORK else self._find(network)
            if rec is not None and not rec.config_only:
                codec.pretty(rec)
                st = self.store.ipam(rec.name)
                codec.pretty(st)
                firewall.structure(self.table, [firewall.NetworkRules(rec, st.endpoints)])
            self._backend()
        with contextlib.suppress(OSError, SkiffError), Rtnl() as nl:
            nl.get_link("lo")

    # ---- networks --------------------------------------------------------------------------------
    def _find(self, name: str) -> NetworkRecord:
        rec = self.store.get(name) if NAME_RE.match(name) else None
        if rec is None:
            matches = [r for r in self.store.networks() if r.id.startswith(name)] if len(name) >= 3 else []
            if len(matches) != 1:
                raise NotFoundError(f"network {name!r} not found")
            rec = matches[0]
        return rec

    def _used_subnets(self, exclude: str = "") -> builtins.list[tuple[ipaddress.IPv4Network, str]]:
        used = [(ipaddress.IPv4Network(r.subnet), f"network {r.name}") for r in self.store.networks()
                if r.name != exclude and not r.config_only]
        own = {r.bridge for r in self.store.networks()}
        for net, dev in links.host_routes():
            if dev not in own:
                used.append((net, f"host route via {dev or '?'}"))
        return used

    def _pick_subnet(self, candidates: Iterable[ipaddress.IPv4Network]) -> ipaddress.IPv4Network:
        used = self._used_subnets()
        for c in candidates:
            if not any(c.overlaps(u) for u, _ in used):
                return c
        raise NetworkError("no free subnet left for a new network; pass --subnet")

    def _new_record(self, name: str, subnet: str | None, gateway: str | None, internal: bool,
                    labels: dict[str, str], default: bool, bridge: str = "") -> NetworkRecord:
        if subnet:
            try:
                net = ipaddress.IPv4Network(subnet, strict=False)
            except ValueError:
                raise InvalidArgumentError(f"invalid --subnet {subnet!r}: not an IPv4 CIDR") from None
            if net.prefixlen > 30:
                raise InvalidArgumentError(f"invalid --subnet {subnet!r}: too small (at most /30)")
            for used, what in self._used_subnets():
                if net.overlaps(used):
                    raise ConflictError(f"subnet {net} overlaps with {what} ({used})")
        elif default:
            pools = [self.default_subnet] if self.default_subnet else DEFAULT_POOLS
            net = self._pick_subnet(ipaddress.IPv4Network(p) for p in pools)
        else:
            net = self._pick_subnet(ipaddress.IPv4Network(USER_POOL).subnets(new_prefix=24))
        if gateway:
            try:
                gw = ipaddress.IPv4Address(gateway)
            except ValueError:
                raise InvalidArgumentError(f"invalid --gateway {gateway!r}: not an IPv4 address") from None
            if gw not in net or gw in (net.network_address, net.broadcast_address):
                raise InvalidArgumentError(f"invalid --gateway {gateway}: not a host address of subnet {net}")
        else:
            gw = net.network_address + 1
        net_id = os.urandom(32).hex()  # secrets.token_hex(32), without importing secrets
        bridge = bridge or (f"{self.prefix}0" if default else f"{self.prefix}-{net_id}"[:15])
        return NetworkRecord(name=name, id=net_id, subnet=str(net), gateway=str(gw), bridge=bridge,
                             internal=internal, default=default, labels=dict(labels), created=_now())

    def create_network(self, name: str, subnet: str | None = None, gateway: str | None = None,
                       internal: bool = False, labels: dict[str, str] | None = None, *,
                       settings: NetworkSettings | None = None) -> NetworkRecord:
        """A new network. ``settings`` carries Docker's other create options (validated by the caller as
        Docker's CLI does): ``config_only`` stores them and makes nothing; ``config_from`` takes subnet,
        gateway, range, reserved addresses, options and labels from that config-only network."""
        if not NAME_RE.match(name):
            raise InvalidArgumentError(f"invalid network name {name!r}: use [a-zA-Z0-9][a-zA-Z0-9_.-]*")
        if name in RESERVED:
            raise ConflictError(f"network name {name!r} is reserved")
        st = settings or NetworkSettings()
        with self.store.locked():
            if self.store.get(name) is not None:
                raise ConflictError(f"network with name {name} already exists")
            if st.config_only:  # settings only: no subnet is taken, no device is made (moby: driver "null")
                rec = NetworkRecord(name=name, id=os.urandom(32).hex(), subnet=subnet or "", gateway=gateway or "",
                                    bridge="", driver="null", labels=dict(labels or {}), created=_now())
            else:
                if st.config_from:
                    cfg = self.store.get(st.config_from) if NAME_RE.match(st.config_from) else None
                    if cfg is None or not cfg.config_only:
                        raise NotFoundError(f'configuration network "{st.config_from}" does not exist')
                    subnet, gateway, labels = cfg.subnet or None, cfg.gateway or None, dict(cfg.labels)
                    st = replace(st, ip_range=cfg.ip_range, aux_addresses=dict(cfg.aux_addresses),
                                 options=dict(cfg.options), ipam_options=dict(cfg.ipam_options))
                check_bridge_options(st.options)
                bridge = st.options.get(OPT_BRIDGE_NAME, "")
                rec = self._new_record(name, subnet, gateway, internal, labels or {}, default=False, bridge=bridge)
                if bridge:
                    self._bridge_name_free(rec)
            rec = replace(rec, ip_range=st.ip_range, aux_addresses=dict(st.aux_addresses), options=dict(st.options),
                          ipam_options=dict(st.ipam_options), attachable=st.attachable,
                          config_only=st.config_only, config_from=st.config_from)
            self.store.put(rec)
        self._event(rec, "create")
        return rec

    def _bridge_name_free(self, rec: NetworkRecord) -> None:
        """``-o com.docker.network.bridge.name``: no other network's bridge, and no interface of the host
        (Docker would adopt an existing bridge; skiff removes the bridges it names, so it makes its own)."""
        other = next((r for r in self.store.networks() if r.bridge == rec.bridge), None)
        if other is not None:
            raise ConflictError(f"cannot create network {rec.id} ({rec.bridge}): conflicts with network {other.id} "
                                f"({other.bridge}): networks have same bridge name")
        if rec.bridge in links.list_links():
            raise ConflictError(f"cannot create network {rec.name}: the host has an interface named {rec.bridge} "
                                "already")

    def _event(self, rec: NetworkRecord, action: str, container_id: str | None = None) -> None:
        """A network event for `skiff events` (skiff.events), with the attributes moby gives them."""
        from skiff.events import emit

        attrs = {**({"container": container_id} if container_id else {}), "name": rec.name, "type": rec.driver}
        emit(self.runroot, "network", action, rec.id, attrs)

    def _default_network(self) -> NetworkRecord:
        rec = self.store.get(DEFAULT_NETWORK)
        if rec is None:
            rec = self._new_record(DEFAULT_NETWORK, None, None, False, {}, default=True)
            self.store.put(rec)
        return rec

    def _subnet_still_free(self, rec: NetworkRecord) -> NetworkRecord:
        """Before a network's bridge is made again (after a reboot, or ``teardown``): its subnet, chosen free
        when the network was created, may be routed elsewhere on the host by now (another store's bridge, a
        VPN), and a second route to it would send the containers' traffic to the wrong interface. The default
        network with no container on it moves to a free pool, as Docker picks docker0's pool when it makes
        the bridge; any other network is refused, naming the route in the way."""
        net = ipaddress.IPv4Network(rec.subnet)
        clash = next(((u, what) for u, what in self._used_subnets(exclude=rec.name) if net.overlaps(u)), None)
        if clash is None:
            return rec
        if rec.default and not self.default_subnet and not self.store.ipam(rec.name).endpoints:
            new = self._pick_subnet(ipaddress.IPv4Network(p) for p in DEFAULT_POOLS)
            rec = replace(rec, subnet=str(new), gateway=str(new.network_address + 1))
            self.store.put(rec)
            return rec
        raise ConflictError(f"network {rec.name}: its subnet {net} overlaps with {clash[1]} ({clash[0]}) on this "
                            "host now; remove that route, or this network")

    def list(self) -> builtins.list[NetworkRecord]:
        with self.store.locked():
            self._default_network()
        return self.store.networks()

    def inspect(self, name: str) -> NetworkInspect:
        if name == DEFAULT_NETWORK:
            with self.store.locked():
                self._default_network()
        rec = self._find(name)
        return NetworkInspect(rec, builtins.list(self.store.ipam(rec.name).endpoints))

    def remove(self, name: str) -> None:
        with self.store.locked():
            rec = self._find(name)
            if rec.default:
                raise ConflictError(f"{rec.name} is a pre-defined network and cannot be removed")
            if self.store.ipam(rec.name).endpoints:  # Docker's wording
                raise ConflictError(f"error while removing network: network {rec.name} id {rec.id} has active "
                                    "endpoints")
            self._drop_network(rec)

    def _drop_network(self, rec: NetworkRecord) -> None:
        if rec.config_only:
            users = [r.name for r in self.store.networks() if r.config_from == rec.name]
            if users:  # moby's wording
                raise ConflictError(f'configuration network "{rec.name}" is in use')
        dnsproc.stop(self.runroot, rec.name)
        if rec.bridge:
            links.delete_link(rec.bridge)
        self.store.delete(rec.name)
        self._apply_firewall()
        self._event(rec, "destroy")

    def prune(self, keep: Callable[[NetworkRecord], bool] | None = None) -> builtins.list[str]:
        """Remove every user network without endpoints that ``keep`` does not keep; returns their names.
        A config-only network goes after the networks made from it, and stays while one of them does."""
        removed = []
        with self.store.locked():
            recs = sorted(self.store.networks(), key=lambda r: r.config_only)
            for rec in recs:
                if rec.default or self.store.ipam(rec.name).endpoints or (keep is not None and keep(rec)):
                    continue
                if rec.config_only and any(r.config_from == rec.name for r in self.store.networks()):
                    continue
                self._drop_network(rec)
                removed.append(rec.name)
        return removed

    # ---- containers ------------------------------------------------------------------------------
    def _taken_ports(self) -> set[tuple[str, int]]:
        return {(p.protocol, p.host_port) for r in self.store.networks()
                for e in self.store.ipam(r.name).endpoints for p in e.ports}

    def _resolve_ports(self, wanted: Sequence[PortMapping]) -> builtins.list[PortMapping]:
        taken = self._taken_ports()
        out: builtins.list[PortMapping] = []
        for p in wanted:
            if p.host_port and not p.host_port_end:
                key = (p.protocol, p.host_port)
                if key in taken or not ports.port_is_free(p.host_ip, p.host_port, p.protocol):
                    where = f"{p.host_ip or '0.0.0.0'}:{p.host_port}/{p.protocol}"
                    raise ConflictError(f"cannot publish {p.container_port}/{p.protocol}: host port {where} "
                                        "is already in use")
                hp = p.host_port
            else:
                hp = ports.pick_port(p.host_ip, p.protocol, taken, p.host_port, p.host_port_end)
            taken.add((p.protocol, hp))
            out.append(PortMapping(p.container_port, p.protocol, p.host_ip, hp))
        return out

    def _allocate_ip(self, rec: NetworkRecord, st: IpamState, ip: str | None) -> str:
        """``ip`` if it is free, else the first free address (of ``--ip-range`` if the network has one);
        the gateway and ``--aux-address`` addresses are never handed out."""
        net = ipaddress.IPv4Network(rec.subnet)
        used = {e.ip for e in st.endpoints} | {rec.gateway} | set(rec.aux_addresses.values())
        if ip:
            try:
                addr = ipaddress.IPv4Address(ip)
            except ValueError:
                raise InvalidArgumentError(f"invalid --ip {ip!r}: not an IPv4 address") from None
            if addr not in net or addr in (net.network_address, net.broadcast_address):
                raise InvalidArgumentError(f"invalid --ip {ip}: not in subnet {net} of network {rec.name}")
            if str(addr) in used:
                raise ConflictError(f"address {ip} is already in use on network {rec.name}")
            return str(addr)
        pool: Iterable[ipaddress.IPv4Address] = net.hosts()
        if rec.ip_range:
            edges = (net.network_address, net.broadcast_address)
            pool = (a for a in ipaddress.IPv4Network(rec.ip_range) if a in net and a not in edges)
        for addr in pool:
            if str(addr) not in used:
                return str(addr)
        raise NetworkError(f"no free address left in network {rec.name} ({rec.ip_range or net})")

    def attach(self, container_id: str, netns_path: str, network: str = DEFAULT_NETWORK, *, name: str = "",
               aliases: Sequence[str] = (), ip: str | None = None, ports: Sequence[PortMapping] = (),
               mac: str | None = None, links_: Sequence[str] = (), driver_opts: dict[str, str] | None = None,
               link_local_ips: Sequence[str] = ()) -> Attachment:
        """Connect the container whose network namespace is ``netns_path`` to ``network`` (``links_``:
        ``NAME:ALIAS`` of `network connect --link`, names only this container resolves)."""
        with self.store.locked():
            rec = self._default_network() if network == DEFAULT_NETWORK else self._find(network)
            if rec.config_only:  # moby's wording
                raise InvalidArgumentError(f"cannot attach to configuration-only network {rec.name}")
            if not os.path.exists(f"/sys/class/net/{rec.bridge}"):  # the bridge is (re)made: is its subnet free?
                rec = self._subnet_still_free(rec)
            st = self.store.ipam(rec.name)
            if any(e.container_id == container_id for e in st.endpoints):
                raise ConflictError(f"container {name or container_id[:12]} is already on network {rec.name}")
            if rec.host_binding_ipv4:  # the network's default host address for ports published without one
                ports = [replace(p, host_ip=rec.host_binding_ipv4) if not p.host_ip else p for p in ports]
            resolved = self._resolve_ports(ports)
            addr = self._allocate_ip(rec, st, ip)
            ifname = self._free_ifname(container_id)
            mac = mac or mac_for(addr)
            ep = Endpoint(container_id=container_id, ip=addr, mac=mac, veth=self.veth_name(container_id, rec.name),
                          ifname=ifname, name=name, aliases=builtins.list(aliases) if not rec.default else [],
                          netns=netns_path, ports=resolved, links=builtins.list(links_),
                          driver_opts=dict(driver_opts or {}), link_local_ips=builtins.list(link_local_ips))
            self.store.put_ipam(replace(st, endpoints=[*st.endpoints, ep]))
            try:
                self._plumb(rec, ep)
                self._apply_firewall(added=ep)
                if rec.dns_enabled:
                    dnsproc.ensure(self.root, self.runroot, rec, self._upstreams())
            except BaseException:
                with contextlib.suppress(Exception):  # best effort: the original error is the one to show
                    self._unplumb(rec, ep)
                raise
            self._event(rec, "connect", container_id)
            return self._attachment(rec, ep)

    def _free_ifname(self, container_id: str) -> str:
        """eth0, eth1, ...: the first name none of the container's recorded endpoints uses."""
        used = {e.ifname for r in self.store.networks() for e in self.store.ipam(r.name).endpoints
                if e.container_id == container_id}
        n = 0
        while f"eth{n}" in used:
            n += 1
        return f"eth{n}"

    def _plumb(self, rec: NetworkRecord, ep: Endpoint) -> None:
        if not rec.internal:
            self._enable_forwarding()
        links.plumb(bridge=rec.bridge, gateway=rec.gateway, prefixlen=rec.prefixlen,
                    host_name=ep.veth, netns_path=ep.netns, ifname=ep.ifname, ip=ep.ip, mac=ep.mac,
                    default_route=not rec.internal, mtu=rec.mtu, isolated=not rec.icc,
                    extra_addrs=[(a, 16) for a in ep.link_local_ips])

    def _unplumb(self, rec: NetworkRecord, ep: Endpoint) -> None:
        """Undo one endpoint: record, veth, rules, DNS (best effort; called with the lock held)."""
        st = self.store.ipam(rec.name)
        rest = [e for e in st.endpoints if e.container_id != ep.container_id]
        self.store.put_ipam(replace(st, endpoints=rest))
        with contextlib.suppress(Exception):
            links.delete_link(ep.veth)
        self._apply_firewall(removed=ep)
        if not rest:
            dnsproc.stop(self.runroot, rec.name)
        self._event(rec, "disconnect", ep.container_id)

    def _attachment(self, rec: NetworkRecord, ep: Endpoint) -> Attachment:
        return Attachment(network=rec.name, container_id=ep.container_id, ip=ep.ip, gateway=rec.gateway,
                          prefixlen=rec.prefixlen, mac=ep.mac, ifname=ep.ifname, veth=ep.veth,
                          internal=rec.internal, dns_server=rec.gateway if rec.dns_enabled else None,
                          aliases=[a for a in [ep.name, *ep.aliases, ep.container_id[:12]] if a],
                          ports=builtins.list(ep.ports), links=builtins.list(ep.links),
                          driver_opts=dict(ep.driver_opts), link_local_ips=builtins.list(ep.link_local_ips))

    def _upstreams(self) -> builtins.list[str]:
        if self.dns_upstreams is not None:
            return builtins.list(self.dns_upstreams)
        from skiff.network.etcfiles import read_resolv_conf

        return read_resolv_conf(self.host_resolv).nameservers

    def _enable_forwarding(self) -> None:
        old = links.sysctl_set("net/ipv4/ip_forward", "1")
        if old != "1":  # recorded, so that an operator can see skiff turned it on
            atomic_write(self.runroot / "networks" / "ip_forward.was", old.encode())


    def detach(self, container_id: str, network: str) -> None:
        with self.store.locked():
            rec = self._find(network)
            ep = next((e for e in self.store.ipam(rec.name).endpoints if e.container_id == container_id), None)
            if ep is None:
                raise NotFoundError(f"container {container_id[:12]} is not connected to network {rec.name}")
            self._unplumb(rec, ep)

    def release_all(self, container_id: str) -> None:
        """Stop or remove: drop the container from every network (no error when it has none)."""
        with self.store.locked():
            for rec in self.store.networks():
                for ep in self.store.ipam(rec.name).endpoints:
                    if ep.container_id == container_id:
                        self._unplumb(rec, ep)

    def attachments(self, container_id: str) -> builtins.list[Attachment]:
        return [self._attachment(rec, ep) for rec in self.store.networks()
                for ep in self.store.ipam(rec.name).endpoints if ep.container_id == container_id]

    def port(self, container_id: str) -> builtins.list[PortMapping]:
        """`skiff port`: the container's published ports with their real host ports."""
        return [p for a in self.attachments(container_id) for p in a.ports]

    def setup_none(self, netns_path: str) -> None:
        """``--network none``: bring up lo only."""
        links.loopback_up(netns_path)

    def gc(self, live_container_ids: Iterable[str]) -> builtins.list[str]:
        """Repair after crashes: drop endpoints of dead containers, stray veths and bridges, stale rules."""
        with self.store.locked():
            return self._gc_locked(set(live_container_ids))

    def gc_dead(self) -> builtins.list[str]:
        """:meth:`gc` without a container list: an endpoint whose host veth is gone is dead (the kernel
        destroys a veth pair with the namespace of its peer, i.e. when the container's last process exits)."""
        with self.store.locked():
            have = links.list_links()
            live = {e.container_id for r in self.store.networks() for e in self.store.ipam(r.name).endpoints
                    if e.veth in have}
            return self._gc_locked(live)

    def _gc_locked(self, live: set[str]) -> builtins.list[str]:
        removed: builtins.list[str] = []
        recs = self.store.networks()
        keep_veths: set[str] = set()
        for rec in recs:
            st = self.store.ipam(rec.name)
            alive = [e for e in st.endpoints if e.container_id in live]
            for e in st.endpoints:
                if e.container_id not in live:
                    removed.append(f"endpoint {e.container_id[:12]} on {rec.name}")
            if len(alive) != len(st.endpoints):
                self.store.put_ipam(replace(st, endpoints=alive))
            if not alive:
                dnsproc.stop(self.runroot, rec.name)
            keep_veths.update(e.veth for e in alive)
        bridges = {r.bridge for r in recs if r.bridge}
        for name, kind in links.list_links().items():
            if kind == "veth" and name.startswith(self.prefix + "v") and name not in keep_veths:
                links.delete_link(name)
                removed.append(f"veth {name}")
            elif kind == "bridge" and (name == f"{self.prefix}0" or name.startswith(self.prefix + "-")) \
                    and name not in bridges:
                links.delete_link(name)
                removed.append(f"bridge {name}")
        self._apply_firewall()
        return removed

    def _backend(self) -> str:
        if self.firewall_backend == "auto":
            try:
                self._nft_()
                self.firewall_backend = "nftables"
            except NetworkError:
                self.firewall_backend = "iptables"
        return self.firewall_backend

    def _apply_firewall(self, added: Endpoint | None = None, removed: Endpoint | None = None, *,
                        remove_all: bool = False) -> None:
        nets = [] if remove_all else [firewall.NetworkRules(r, self.store.ipam(r.name).endpoints)
                                      for r in self.store.networks() if not r.config_only]
        if self._backend() == "iptables":
            from skiff.network import iptables

            iptables.apply(self.table.upper(), nets)
            return
        state = self.runroot / "networks" / f"nft-{self.table}.digest"
        firewall.apply(self._nft_(), self.table, nets, state, added, removed)

    def teardown(self) -> None:
        """Remove everything this root created on the host (bridges, table, DNS); records stay."""
        self.gc(())
        with self.store.locked():
            for rec in self.store.networks():
                if rec.bridge:
                    links.delete_link(rec.bridge)
            self._apply_firewall(remove_all=True)
