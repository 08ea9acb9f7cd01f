"""The seam between containers and networking.

``none``: the runtime makes a new namespace and brings its loopback up (skiff's, crun and runc all do). ``host``: the host's
namespace. ``bridge`` (the default) and named networks: as Docker and Podman do, the namespace is made before
the container (:func:`setup_network`, bound at RUNROOT/netns/ID, Docker's SandboxKey) and the bundle joins it.
The network helper (the plumber, started first thing by `skiff run`) is handed the attach request as soon as
the bundle is written, so it attaches while the container is created; :func:`connect` then only reads its
answer before the container starts (without the helper, it attaches
:class:`skiff.network.manager.NetworkManager` itself). /etc/hosts and /etc/resolv.conf are rewritten in place
(they are already bind-mounted). ``release_network`` undoes it on stop/rm/crash cleanup, and unbinds the
namespace.
"""

from __future__ import annotations

import os

from skiff.errors import SkiffError
from skiff.network.names import DEFAULT_ROOT, host_names  # noqa: F401 - DEFAULT_ROOT re-exported

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (`run` starts the network helper first)
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

    from .containers import ContainerEngine
    from .containers_model import ContainerRecord

_NO_NETWORK = ("none", "host")


def setup_network(eng: ContainerEngine, rec: ContainerRecord) -> str | None:
    """The netns for the spec: "host"; None for a new namespace (``none``: the runtime brings its loopback up);
    for a bridge or user network, a new namespace bound at :func:`netns_path` (:func:`make_netns`)."""
    mode = rec.host_config.network_mode or "bridge"
    if mode == "host":
        return "host"
    if mode.startswith("container:"):
        return joined_netns(eng, mode.partition(":")[2])
    if mode == "none":
        return None
    path = netns_path(eng, rec)
    make_netns(path)
    return str(path)


def joined_netns(eng: ContainerEngine, donor: str) -> str:
    """``--network container:NAME``: the network namespace of NAME's process, which must run (moby's
    getNetworkedContainer)."""
    from .containers_create import namespace_of
    from .containers_state import Status

    cid = eng.cs.resolve(donor)
    st = eng.cs.state(cid)
    if st.st not in (Status.RUNNING, Status.PAUSED) or not st.pid:
        raise SkiffError(f"cannot join network of a non running container: {donor}")
    return namespace_of(cid, st.pid, "net")


def shares_network(rec: ContainerRecord) -> bool:
    """A container of ``--network host|none|container:NAME``: no attachment, no namespace of skiff's own."""
    mode = rec.host_config.network_mode or "bridge"
    return mode in _NO_NETWORK or mode.startswith("container:")


def netns_path(eng: ContainerEngine, rec: ContainerRecord) -> Path:
    return eng.runroot / "netns" / rec.id


def make_netns(path: Path) -> None:
    """A new network namespace bound at ``path``, as `ip netns add` makes one: this thread unshares its network
    namespace, bind-mounts the new one onto an empty file and goes back (a stale binding there is dropped)."""
    from skiff.kernel import CLONE_NEWNET, MS_BIND
    from skiff.kernel.linux import LinuxKernel

    kernel = LinuxKernel()
    path.parent.mkdir(parents=True, exist_ok=True)
    drop_netns(path)
    os.close(os.open(path, os.O_RDONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o444))
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    try:
        kernel.unshare(CLONE_NEWNET)
        try:
            kernel.mount("/proc/thread-self/ns/net", str(path), None, MS_BIND, None)
        finally:
            kernel.setns(own, CLONE_NEWNET)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    finally:
        os.close(own)


def drop_netns(path: Path) -> None:
    """Unbind and remove a namespace :func:`make_netns` bound (nothing if there is none). The namespace goes
    once nothing uses it any more: its veth peer with it."""
    import errno

    from skiff.kernel import MNT_DETACH
    from skiff.kernel.linux import LinuxKernel

    try:
        LinuxKernel().umount2(str(path), MNT_DETACH)
    except OSError as e:
        if e.errno not in (errno.EINVAL, errno.ENOENT):
            raise
    path.unlink(missing_ok=True)


def early_attach(eng: ContainerEngine, rec: ContainerRecord, netns: str | None) -> None:
    """Hand the helper the attach request for the namespace the bundle joins (written but not yet joined):
    the helper attaches while the container is created; :func:`connect` then reads the answer."""
    if eng.plumber is None or not netns or netns == "host":
        return
    from skiff.network.plumber import HelperGone

    try:
        _helper_attach(eng, rec, netns, wait=False)
        eng.early_attached.add(rec.id)
    except HelperGone:  # connect() attaches in this process instead
        eng.plumber = None


def network_manager(root: Path, runroot: Path) -> Any:
    from pathlib import Path

    from skiff.network.manager import NetworkManager

    prefix, table = host_names(root)
    return NetworkManager(Path(root), Path(runroot), bridge_prefix=prefix, table=table)


def manager(eng: ContainerEngine) -> Any:
    return network_manager(eng.root, eng.runroot)


def host_gateway(eng: ContainerEngine, rec: ContainerRecord) -> str | None:
    """The address ``--add-host NAME:host-gateway`` stands for in a container on no bridge (host, none): the
    default bridge's gateway, as Docker's is docker0's address (None when no entry asks for it, or on a
    bridge, where the helper's /etc/hosts uses the container's own gateway)."""
    if (rec.host_config.network_mode or "bridge") not in _NO_NETWORK:
        return None
    if not any(h.endswith((":host-gateway", "=host-gateway")) for h in rec.host_config.extra_hosts):
        return None
    return str(manager(eng).inspect("bridge").record.gateway)  # the record only: no device is made


def _port_specs(rec: ContainerRecord) -> list[dict[str, Any]]:
    """The container's -p bindings as PortMapping fields (plain data: the plumber takes them as JSON)."""
    out = []
    for key, binds in rec.host_config.port_bindings.items():
        port, _, proto = key.partition("/")
        for b in binds:
            hp = b.get("HostPort") or "0"
            lo, _, hi = hp.partition("-")
            out.append({"container_port": int(port), "protocol": proto or "tcp", "host_ip": b.get("HostIp", ""),
                        "host_port": int(lo or 0), "host_port_end": int(hi or 0)})
    return out


def _ports(rec: ContainerRecord) -> list[Any]:
    from skiff.network.model import PortMapping
    from skiff.network.ports import with_exposed

    return with_exposed([PortMapping(**p) for p in _port_specs(rec)], rec.config.exposed_ports,
                        rec.host_config.publish_all_ports)


def spawn_plumber(root: str, runroot: str, mode: str | None) -> Any:
    """For a bridge or user network, the network helper (skiff.network.plumber), started now so that its
    imports run on another core while the container is created; None for none, host and container:.
    Cheap to call first thing (`skiff run` does, before importing the engine)."""
    mode = mode or "bridge"
    if mode in _NO_NETWORK or mode.startswith("container:") or os.environ.get("SKIFF_NO_PLUMBER"):
        return None
    from skiff.network.plumber import Plumber

    prefix, table = host_names(root)
    return Plumber.spawn(str(root), str(runroot), prefix, table, mode)


def start_plumber(eng: ContainerEngine, mode: str) -> None:
    """:func:`spawn_plumber` for ``eng`` unless it has one already; :func:`connect` hands it the namespace."""
    if eng.plumber is None:
        eng.plumber = spawn_plumber(str(eng.root), str(eng.runroot), mode)


def stop_plumber(eng: ContainerEngine) -> None:
    if eng.plumber is not None:
        plumber, eng.plumber = eng.plumber, None
        plumber.close()


def _etc(rec: ContainerRecord) -> dict[str, list[str]]:
    hc = rec.host_config
    return {"extra_hosts": list(hc.extra_hosts), "dns": list(hc.dns), "dns_search": list(hc.dns_search),
            "dns_options": list(hc.dns_options)}


def _helper_attach(eng: ContainerEngine, rec: ContainerRecord, netns: str, *, wait: bool) -> None:
    hc = rec.host_config
    eng.plumber.attach(rec.id, netns, hc.network_mode or "bridge", rec.bare_name,
                       _port_specs(rec), exposed=list(rec.config.exposed_ports) if hc.publish_all_ports else None,
                       rundir=str(eng.cs.rdir(rec.id)), hostname=rec.config.hostname, etc=_etc(rec), wait=wait,
                       endpoint=rec.endpoint)


def connect(eng: ContainerEngine, rec: ContainerRecord, pid: int) -> None:
    """Called between create and start with the container's init pid (after :func:`early_attach`, if it sent
    the request: then only the helper's answer is read here)."""
    mode = rec.host_config.network_mode or "bridge"
    if mode == "host" or mode.startswith("container:"):
        return
    if mode == "none":
        return  # the runtime has brought the new namespace's loopback up
    path = netns_path(eng, rec)
    netns = str(path) if path.exists() else f"/proc/{pid}/ns/net"
    if eng.plumber is not None:
        from skiff.network.plumber import HelperGone

        try:
            if rec.id in eng.early_attached:
                eng.early_attached.discard(rec.id)
                eng.plumber.answer()
            else:
                _helper_attach(eng, rec, netns, wait=True)
            return
        except HelperGone:  # the helper died before answering: attach here instead
            eng.plumber = None
    from skiff.network.etcfiles import rewrite_in_place

    ep = rec.endpoint
    att = manager(eng).attach(rec.id, netns, mode, name=rec.bare_name, ports=_ports(rec),
                              aliases=ep.get("Aliases", ()), ip=ep.get("IPv4Address"), mac=ep.get("MacAddress"),
                              link_local_ips=ep.get("LinkLocalIPs", ()))
    rewrite_in_place(eng.cs.rdir(rec.id), rec.config.hostname, [att], **_etc(rec))


def release_network(eng: ContainerEngine, rec: ContainerRecord) -> None:
    """Undo :func:`connect` (stop, rm, cleanup after a crash) and unbind the namespace :func:`setup_network`
    made; nothing to do for none, host and container:."""
    if shares_network(rec):
        return
    eng.early_attached.discard(rec.id)  # an answer still due is collected when the helper is closed
    if eng.plumber is not None:  # run() closes it after removing the container: that waits for this
        eng.plumber.release(rec.id, wait=False)
    else:
        manager(eng).release_all(rec.id)
    drop_netns(netns_path(eng, rec))  # the helper deletes the veth by its host-side name: no namespace needed


def attachments(eng: ContainerEngine, rec: ContainerRecord) -> list[Any]:
    if shares_network(rec):
        return []
    return list(manager(eng).attachments(rec.id))


def with_links(eng: ContainerEngine, rec: ContainerRecord) -> ContainerRecord:
    """The default bridge's legacy links (``--link``) at a start, as moby sets them up: each linked container
    must be running; its bridge address goes into /etc/hosts as "ALIAS HOSTNAME [NAME]" and its ports, name and
    environment into this container's (``ALIAS_PORT_80_TCP=tcp://IP:80``, ``ALIAS_NAME``, ``ALIAS_ENV_X``),
    before the container's own variables. The record is changed for this start only."""
    links = rec.host_config.links
    if not links or (rec.host_config.network_mode or "bridge") != "bridge":
        return rec
    from skiff.errors import ConflictError, NotFoundError
    from skiff.records import replace

    from .containers_options import merge_env
    from .containers_state import Status

    hosts: list[str] = []
    env: list[str] = []
    for link in links:
        child_path, _, link_path = link.partition(":")
        alias = link_path.rsplit("/", 1)[-1]
        try:
            cid = eng.cs.resolve(child_path.lstrip("/"))
        except NotFoundError as e:
            raise SkiffError(f"could not get container for {child_path.lstrip('/')}: {e.message}") from None
        child = eng.cs.record(cid)
        if eng.cs.state(cid).st not in (Status.RUNNING, Status.PAUSED):
            raise ConflictError(f"Cannot link to a non running container: {child.name} AS /{rec.bare_name}/{alias}")
        ip = next((a.ip for a in attachments(eng, child) if a.network == "bridge"), None)
        if ip is None:
            continue
        hosts.append(" ".join([alias, child.config.hostname, *([child.bare_name] if alias != child.bare_name
                                                               else [])]) + "=" + ip)
        env += link_env(alias, ip, list(child.config.exposed_ports or {}), list(child.config.env),
                        f"/{rec.bare_name}/{alias}")
    return replace(rec, config=replace(rec.config, env=merge_env(env, list(rec.config.env))),
                   host_config=replace(rec.host_config, extra_hosts=[*rec.host_config.extra_hosts, *hosts]))


def link_env(alias: str, ip: str, ports: list[str], child_env: list[str], name: str) -> list[str]:
    """moby's Link.ToEnv: the variables a link gives (``_PORT`` of the lowest port, each port's four, a range of
    consecutive ports' ``_START``/``_END``, ``_NAME``, and the linked container's variables but HOME and PATH)."""
    prefix = alias.upper().replace("-", "_")
    keyed: list[tuple[int, str]] = []
    for p in ports:
        digits, _, kind = p.partition("/")
        if digits.isdigit():
            keyed.append((int(digits), kind or "tcp"))
    keyed.sort(key=lambda p: (p[0], p[1].lower() != "tcp"))
    out: list[str] = []
    start = end = keyed[0] if keyed else None
    for i, (num, proto) in enumerate(keyed):
        if i == 0:
            out.append(f"{prefix}_PORT={proto}://{ip}:{num}")
        key = f"{prefix}_PORT_{num}_{proto.upper()}"
        out += [f"{key}={proto}://{ip}:{num}", f"{key}_ADDR={ip}", f"{key}_PORT={num}", f"{key}_PROTO={proto}"]
        assert start is not None and end is not None
        if num == end[0] + 1 and proto.lower() == start[1].lower():
            end = (num, proto)
            if i < len(keyed) - 1:
                continue
        if end != start:
            key = f"{prefix}_PORT_{start[0]}_{start[1].upper()}"
            out += [f"{key}_START={start[1]}://{ip}:{start[0]}", f"{key}_PORT_START={start[0]}",
                    f"{key}_END={end[1]}://{ip}:{end[0]}", f"{key}_PORT_END={end[0]}"]
        start = end = (num, proto)
    out.append(f"{prefix}_NAME={name}")
    for v in child_env:
        k, eq, val = v.partition("=")
        if eq and k not in ("HOME", "PATH"):
            out.append(f"{prefix}_ENV_{k}={val}")
    return out
