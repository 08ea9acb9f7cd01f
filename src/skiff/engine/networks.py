"""The seam between containers and networking.

``none``: the runtime makes a new namespace; :func:`connect` brings its loopback up. ``host``: the host's
namespace. ``bridge`` (the default) and named networks: after the container is created (its process waits
for start inside its new namespace), :class:`skiff.network.manager.NetworkManager` attaches
``/proc/PID/ns/net`` to the network with the published ports; /etc/hosts and /etc/resolv.conf are then
rewritten in place (they are already bind-mounted). ``release_network`` undoes it on stop/rm/crash cleanup.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from skiff.errors import InvalidArgumentError

from .containers_model import ContainerRecord

if TYPE_CHECKING:
    from .containers import ContainerEngine

_NO_NETWORK = ("none", "host")


def setup_network(eng: ContainerEngine, rec: ContainerRecord) -> str | None:
    """The netns for the spec: "host", or None for a new namespace (configured by :func:`connect`)."""
    mode = rec.host_config.network_mode or "bridge"
    if mode == "host":
        return "host"
    if mode.startswith("container:"):
        raise InvalidArgumentError("--network container:<name> is not supported")
    return None


DEFAULT_ROOT = "/var/lib/skiff"


def host_names(root: Path) -> tuple[str, str]:
    """(bridge prefix, nft table) for a store root. The default store owns `skiff0` and table `skiff`; any
    other root (tests, a user's --root) gets names of its own, so two stores never share a bridge or rules.
    SKIFF_BRIDGE_PREFIX / SKIFF_NFT_TABLE override both."""
    import hashlib

    if os.path.abspath(root) == DEFAULT_ROOT:
        prefix, table = "skiff", "skiff"
    else:
        h = hashlib.sha256(os.path.abspath(root).encode()).hexdigest()[:5]
        prefix, table = f"sk{h}", f"skiff_{h}"
    return os.environ.get("SKIFF_BRIDGE_PREFIX", prefix), os.environ.get("SKIFF_NFT_TABLE", table)


def network_manager(root: Path, runroot: Path) -> Any:
    from skiff.network.manager import NetworkManager

    prefix, table = host_names(root)
    return NetworkManager(Path(root), Path(runroot), bridge_prefix=prefix, table=table)


def manager(eng: ContainerEngine) -> Any:
    return network_manager(eng.root, eng.runroot)


def _ports(rec: ContainerRecord) -> list[Any]:
    from skiff.network.model import PortMapping

    out = []
    for key, binds in rec.host_config.port_bindings.items():
        port, _, proto = key.partition("/")
        for b in binds:
            hp = b.get("HostPort") or "0"
            lo, _, hi = hp.partition("-")
            out.append(PortMapping(container_port=int(port), protocol=proto or "tcp", host_ip=b.get("HostIp", ""),
                                   host_port=int(lo or 0), host_port_end=int(hi or 0)))
    if rec.host_config.publish_all_ports:
        from skiff.network.ports import expand_exposed

        have = {(p.container_port, p.protocol) for p in out}
        out += [p for p in expand_exposed(rec.config.exposed_ports) if (p.container_port, p.protocol) not in have]
    return out


def connect(eng: ContainerEngine, rec: ContainerRecord, pid: int) -> None:
    """Called between create and start with the container's init pid."""
    mode = rec.host_config.network_mode or "bridge"
    if mode == "host":
        return
    netns = f"/proc/{pid}/ns/net"
    if mode == "none":
        loopback_up(netns)
        return
    from skiff.network.etcfiles import write_etc_files

    mgr = manager(eng)
    att = mgr.attach(rec.id, netns, mode, name=rec.bare_name, ports=_ports(rec))
    rundir = eng.cs.rdir(rec.id)
    tmp = rundir / "net"
    tmp.mkdir(exist_ok=True)
    hc = rec.host_config
    files = write_etc_files(tmp, rec.config.hostname, [att], extra_hosts=hc.extra_hosts, dns=hc.dns,
                            dns_search=hc.dns_search, dns_options=hc.dns_options)
    for name, path in files.items():
        # in place: the container already has these files bind-mounted (same inode)
        with open(rundir / name, "r+b") as f:
            f.truncate(0)
            f.write(Path(path).read_bytes())


def release_network(eng: ContainerEngine, rec: ContainerRecord) -> None:
    """Undo :func:`connect` (stop, rm, cleanup after a crash); nothing to do for none and host."""
    if (rec.host_config.network_mode or "bridge") in _NO_NETWORK:
        return
    manager(eng).release_all(rec.id)


def attachments(eng: ContainerEngine, rec: ContainerRecord) -> list[Any]:
    if (rec.host_config.network_mode or "bridge") in _NO_NETWORK:
        return []
    return list(manager(eng).attachments(rec.id))


def loopback_up(netns: str) -> None:
    """Bring ``lo`` up inside ``netns`` from a short-lived forked child (setns + SIOCSIFFLAGS)."""
    import fcntl
    import socket
    import struct

    from skiff.kernel import CLONE_NEWNET
    from skiff.kernel.linux import LinuxKernel

    kernel = LinuxKernel()
    fd = os.open(netns, os.O_RDONLY | os.O_CLOEXEC)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        code = 1
        try:
            kernel.setns(fd, CLONE_NEWNET)
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                req = struct.pack("16sH14x", b"lo", 0)
                flags = struct.unpack("16sH14x", fcntl.ioctl(s.fileno(), 0x8913, req))[1]  # SIOCGIFFLAGS
                fcntl.ioctl(s.fileno(), 0x8914, struct.pack("16sH14x", b"lo", flags | 0x1))  # SIOCSIFFLAGS IFF_UP
            code = 0
        finally:
            os._exit(code)
    os.close(fd)
    os.waitpid(pid, 0)
