"""`skiff ps`: Docker's container list. Filters follow moby's daemon/list.go (validated before any container
is read; ``before``/``since`` cut the list sorted newest first; ``name`` is a regular expression), ports are
the container's current ones (empty once it stops), sizes are the read-write layer's bytes.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any

from skiff.errors import InvalidArgumentError, SkiffError
from skiff.monitor.logs import parse_rfc3339
from skiff.records import dataclass, field

from .containers_state import State, Status

if TYPE_CHECKING:
    from collections.abc import Iterable

    from .containers import ContainerEngine
    from .containers_model import ContainerRecord, MountPoint

ACCEPTED = ("ancestor", "before", "exited", "id", "isolation", "label", "name", "status", "health", "since",
            "volume", "network", "is-task", "publish", "expose")
STATES = ("created", "restarting", "running", "removing", "paused", "exited", "dead")
HEALTH = ("starting", "healthy", "unhealthy", "none")


@dataclass(frozen=True)
class PortSummary:
    """One entry of a container's ``Ports`` (Docker's API): a private port, and where it is published."""

    private_port: int
    type: str = "tcp"
    ip: str = ""
    public_port: int = 0


@dataclass(frozen=True)
class ContainerSummary:
    """One row of `skiff ps`, as Docker's API gives it (the CLI formats it)."""

    id: str
    names: list[str]
    image: str
    image_id: str
    command: str  # Path and Args, args with a space single-quoted (moby's snapshot)
    created: float  # seconds since the epoch
    state: str
    status: str
    ports: list[PortSummary]
    labels: dict[str, str]
    mounts: list[MountPoint]
    networks: list[str]
    size_rw: int | None = None
    size_root_fs: int | None = None


@dataclass(frozen=True)
class PsFilters:
    """``--filter`` values, checked and resolved once (moby's foldFilter)."""

    by: dict[str, list[str]] = field(default_factory=dict)
    exited: list[int] = field(default_factory=list)
    before: str | None = None
    since: str | None = None
    images: set[str] | None = None  # ancestor: the image IDs that descend from the given images
    publish: set[tuple[int, str]] = field(default_factory=set)
    expose: set[tuple[int, str]] = field(default_factory=set)

    @property
    def all(self) -> bool:
        return "status" in self.by


def _invalid(key: str, value: str) -> InvalidArgumentError:
    return InvalidArgumentError(f"invalid filter '{key}={value}'")


def parse_filters(eng: ContainerEngine, filters: Iterable[str]) -> PsFilters:
    from .filterargs import by_key

    by = by_key(list(filters), ACCEPTED)
    exited = []
    for v in by.get("exited", []):
        try:
            exited.append(int(v, 10))
        except ValueError:
            raise InvalidArgumentError(f"invalid filter 'exited={v}': strconv.Atoi: parsing \"{v}\": invalid "
                                       "syntax") from None
    for v in by.get("status", []):
        if v not in STATES:
            raise _invalid("status", v)
    task = by.get("is-task")
    if task and not any(v in ("true", "false") for v in task):
        raise _invalid("is-task", "[" + " ".join(task) + "]")
    for v in by.get("health", []):
        if v not in HEALTH:
            raise InvalidArgumentError(f"Unrecognised filter value for health: {v}")
    before = since = None
    for v in by.get("before", []):
        before = eng.cs.resolve(v)
    for v in by.get("since", []):
        since = eng.cs.resolve(v)
    images = _descendants(eng, by["ancestor"]) if "ancestor" in by else None
    return PsFilters(by, exited, before, since, images, _ports("publish", by), _ports("expose", by))


def _ports(key: str, by: dict[str, list[str]]) -> set[tuple[int, str]]:
    out: set[tuple[int, str]] = set()
    for v in by.get(key, []):
        if ":" in v:
            raise InvalidArgumentError(f"filter for '{key}' should not contain ':': {v}")
        port, _, proto = v.partition("/")
        lo, dash, hi = port.partition("-")
        try:
            start, end = int(lo), int(hi if dash else lo)
            if not (0 <= start <= 65535 and 0 <= end <= 65535) or end < start:
                raise ValueError
        except ValueError:
            raise InvalidArgumentError(f"error while looking up for {key} {v}: invalid port range: "
                                       f"{port}") from None
        out.update((p, (proto or "tcp").lower()) for p in range(start, end + 1))
    return out


def _descendants(eng: ContainerEngine, refs: list[str]) -> set[str]:
    """The IDs of the named images and of every image built on them: its parent chain leads there, or its
    layer chain extends theirs (moby walks the image store's children)."""
    records = eng.store.list_images()
    roots = set()
    for ref in refs:
        try:
            roots.add(eng.store.resolve_image(ref).id)
        except SkiffError:
            continue  # moby logs a warning and matches nothing for it
    by_id = {r.id: r for r in records}
    out = set(roots)
    for r in records:
        cur, seen = r, set()
        while cur is not None and cur.id not in seen:
            if cur.id in roots:
                out.add(r.id)
                break
            seen.add(cur.id)
            cur = by_id.get(cur.parent) if cur.parent else None
        for root in roots & by_id.keys():
            chain = by_id[root].chain_ids
            if chain and len(r.chain_ids) > len(chain) and r.chain_ids[:len(chain)] == chain:
                out.add(r.id)
    return out


def _exposed_keys(rec: ContainerRecord) -> list[tuple[int, str]]:
    keys: set[tuple[int, str]] = set()
    for key in [*rec.config.exposed_ports, *rec.host_config.port_bindings]:
        port, _, proto = key.partition("/")
        lo, dash, hi = port.partition("-")  # "100-102/tcp": a range (Docker's config has one key per port)
        if lo.isdigit() and (hi.isdigit() if dash else True):
            keys.update((p, proto or "tcp") for p in range(int(lo), int(hi if dash else lo) + 1))
    return sorted(keys)


def port_summaries(rec: ContainerRecord, live: bool, endpoints: list[Any]) -> list[PortSummary]:
    """The container's ``Ports``: every exposed port, with its real host bindings when published; none when
    it is not running or has no network of its own (none, host)."""
    mode = rec.host_config.network_mode or "bridge"
    if not live or mode in ("none", "host"):
        return []
    bound: dict[tuple[int, str], list[PortSummary]] = {}
    for ep in endpoints:
        for p in ep.ports:
            bound.setdefault((p.container_port, p.protocol), []).append(
                PortSummary(p.container_port, p.protocol, p.host_ip or "0.0.0.0", p.host_port))
    out = []
    for key in sorted(set(_exposed_keys(rec)) | bound.keys()):
        out.extend(bound.get(key) or [PortSummary(key[0], key[1])])
    return out


def _network_index(eng: ContainerEngine) -> tuple[dict[str, list[tuple[str, Any]]], dict[str, str]]:
    """container ID -> [(network name, endpoint)], and network ID -> name, read once for the whole list."""
    from .networks import manager

    by_cid: dict[str, list[tuple[str, Any]]] = {}
    ids: dict[str, str] = {}
    try:
        store = manager(eng).store
        for net in store.networks():
            ids[net.id] = net.name
            for ep in store.ipam(net.name).endpoints:
                by_cid.setdefault(ep.container_id, []).append((net.name, ep))
    except (OSError, SkiffError):
        pass
    return by_cid, ids


def _command(rec: ContainerRecord) -> str:
    if not rec.args:
        return rec.path
    return rec.path + " " + " ".join(f"'{a}'" if " " in a else a for a in rec.args)


def _network_names(rec: ContainerRecord, attached: list[tuple[str, Any]]) -> list[str]:
    mode = rec.host_config.network_mode or "bridge"
    names = {n for n, _ in attached}
    names.add("bridge" if mode == "default" else mode)
    return sorted(names)


def dir_size(path: str) -> int:
    """Bytes of the regular files and links under ``path``, each inode once (moby's directory.Size)."""
    total = 0
    seen: set[tuple[int, int]] = set()
    for top, dirs, files in os.walk(path):
        for name in files + [d for d in dirs if os.path.islink(os.path.join(top, d))]:
            try:
                st = os.lstat(os.path.join(top, name))
            except OSError:
                continue
            if st.st_nlink > 1:
                if (st.st_dev, st.st_ino) in seen:
                    continue
                seen.add((st.st_dev, st.st_ino))
            total += st.st_size
    return total


def _sizes(eng: ContainerEngine, rec: ContainerRecord, image_sizes: dict[str, int]) -> tuple[int, int]:
    drv = eng.store.driver
    try:
        rw = dir_size(str(drv.upper_dir(rec.id))) if drv.exists(rec.id) else 0
    except (OSError, SkiffError):
        rw = 0
    return rw, rw + image_sizes.get(rec.image, 0)


def status_text(st: State, now: float | None = None, health: str = "none") -> str:
    """Docker's State.String(): "Up 3 minutes", "Up 3 minutes (healthy)", "Exited (0) 2 weeks ago", "Created"..."""
    from skiff.units import human_duration

    now = time.time() if now is None else now

    def since(ts: str) -> str:
        try:
            return human_duration(max(0.0, now - parse_rfc3339(ts) / 1e9))
        except (ValueError, IndexError):
            return human_duration(0)

    s = st.st
    if s is Status.CREATED:
        return "Created"
    if s is Status.PAUSED:
        return "Up " + since(st.started_at) + " (Paused)"
    if s is Status.RUNNING:
        shown = {"none": "", "starting": " (health: starting)"}.get(health, f" ({health})")
        return "Up " + since(st.started_at) + shown
    if s is Status.RESTARTING:
        return f"Restarting ({st.exit_code}) {since(st.finished_at)} ago"
    if s is Status.EXITED:
        if st.started_at.startswith("0001-"):
            return "Created"
        return f"Exited ({st.exit_code}) {since(st.finished_at)} ago"
    return "Dead"


def _regex(pattern: str, text: str) -> bool:
    import re

    try:
        return re.search(pattern, text) is not None
    except re.error:
        return False


def _match(f: PsFilters, rec: ContainerRecord, st: State, ports: list[PortSummary], nets: list[str],
           net_ids: dict[str, str], health: str = "none", names: list[str] | None = None) -> bool:
    by = f.by
    every = [f"/{n}" for n in names or [rec.bare_name]]  # moby matches each of the names, with their slash
    if "name" in by and not any(v in (n, n[1:]) or _regex(v, n) or _regex(v, n[1:]) for n in every
                                for v in by["name"]):
        return False
    if "id" in by and not any(rec.id.startswith(v) for v in by["id"]):
        return False
    if "is-task" in by and "false" not in by["is-task"]:
        return False  # no container is a swarm task
    for v in by.get("label", []):
        lk, leq, lv = v.partition("=")
        if lk not in rec.config.labels or (leq and rec.config.labels[lk] != lv):
            return False
    if f.exited and not (st.st is Status.EXITED and st.exit_code in f.exited and not st.started_at.startswith("0001-")):
        return False
    if "status" in by and st.status not in by["status"]:
        return False
    if "health" in by and health not in by["health"]:
        return False
    if "volume" in by and not any(v in (m.name or m.source, m.destination) for m in rec.mounts for v in by["volume"]):
        return False
    if f.images is not None and rec.image not in f.images:
        return False
    if "network" in by:
        ids = {i for i, n in net_ids.items() if n in nets}
        if not any(v in nets or any(i.startswith(v) for i in ids) for v in by["network"]):
            return False
    if f.publish or f.expose:
        if not any((p.public_port, p.type) in f.publish or (p.private_port, p.type) in f.expose for p in ports):
            return False
    return True


def ps(eng: ContainerEngine, *, all: bool = False, last: int = -1, filters: list[str] | None = None,
       size: bool = False) -> list[ContainerSummary]:
    f = parse_filters(eng, filters or [])
    all = all or f.all
    entries: list[tuple[int, ContainerRecord, State]] = []
    for rec, st in eng.cs.entries():
        try:
            created = parse_rfc3339(rec.created)
        except (ValueError, IndexError):
            created = 0
        entries.append((created, rec, st))
    entries.sort(key=lambda e: e[0], reverse=True)
    need_net = any(e[2].st.is_live and (e[1].host_config.network_mode or "bridge") not in ("none", "host")
                   for e in entries) or "network" in f.by
    by_cid, net_ids = _network_index(eng) if need_net else ({}, {})
    image_sizes = {r.id: r.size for r in eng.store.list_images()} if size else {}
    before, since = f.before, f.since
    linked: dict[str, list[str]] = {}  # a container's legacy link names ("web/db"), as moby lists them
    for _, rec, _ in entries:
        for link in rec.host_config.links or []:
            child, _, alias = link.partition(":")
            linked.setdefault(child, []).append(alias.lstrip("/"))
    out: list[ContainerSummary] = []
    for created, rec, st in entries:
        if before is not None:
            if rec.id == before:
                before = None
            continue
        if since is not None and rec.id == since:
            break
        live = st.st.is_live
        if not live and not all and last <= 0:
            continue
        if last > 0 and len(out) == last:
            break
        attached = by_cid.get(rec.id, []) if live else []
        ports = port_summaries(rec, live, [ep for _, ep in attached])
        nets = _network_names(rec, attached)
        health = "none"
        if rec.config.healthcheck is not None and live:
            from . import containers_health

            health = containers_health.status(eng, rec)
        names = [rec.bare_name, *sorted(linked.get(rec.name, []))]
        if not _match(f, rec, st, ports, nets, net_ids, health, names):
            continue
        rw, root_fs = _sizes(eng, rec, image_sizes) if size else (None, None)
        out.append(ContainerSummary(
            id=rec.id, names=names, image=rec.config.image or rec.image, image_id=rec.image,
            command=_command(rec), created=created / 1e9, state=st.status, status=status_text(st, health=health),
            ports=ports,
            labels=dict(rec.config.labels), mounts=list(rec.mounts), networks=nets, size_rw=rw,
            size_root_fs=root_fs))
    return out
