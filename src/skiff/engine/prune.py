"""`container prune`, `volume prune` and `system prune`: what goes, and the space it gave back.

Filters follow moby's prune filters: ``until`` (a timestamp or Go duration, see :mod:`.timetypes`) for
containers, ``label``/``label!`` (``KEY`` or ``KEY=VALUE``) for containers and volumes. Reclaimed space is
measured before removal: a container's writable layer, a volume's data; images and build cache report the
store space their collection freed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from skiff.errors import InvalidArgumentError, SkiffError
from skiff.records import dataclass, field

if TYPE_CHECKING:
    from .containers import ContainerEngine


@dataclass
class PruneFilters:
    """Parsed ``--filter`` values of a prune."""

    until_ns: int | None = None
    labels: list[str] = field(default_factory=list)
    not_labels: list[str] = field(default_factory=list)

    def keeps_labels(self, labels: dict[str, str]) -> bool:
        """False when the labels match every ``label`` filter and no ``label!`` filter (moby MatchKVList)."""
        def has(spec: str) -> bool:
            k, eq, v = spec.partition("=")
            return k in labels and (not eq or labels[k] == v)

        return all(has(s) for s in self.labels) and not any(has(s) for s in self.not_labels)


def parse_filters(filters: list[str], accepted: tuple[str, ...]) -> PruneFilters:
    from .filterargs import by_key

    by = by_key(filters, accepted)
    out = PruneFilters(labels=by.get("label", []), not_labels=by.get("label!", []))
    for value in by.get("until", []):  # the last one counts
        from .timetypes import unix_nanos

        out.until_ns = unix_nanos(value, "until")
    return out


@dataclass
class PruneReport:
    """What a prune removed (container IDs or volume names) and the bytes that freed."""

    deleted: list[str] = field(default_factory=list)
    reclaimed: int = 0


def _rw_size(eng: ContainerEngine, cid: str) -> int:
    from .containers_list import dir_size

    drv = eng.store.driver
    try:
        return dir_size(str(drv.upper_dir(cid))) if drv.exists(cid) else 0
    except (OSError, SkiffError):
        return 0


def prune_containers(eng: ContainerEngine, filters: list[str]) -> PruneReport:
    """Remove the stopped containers the filters select (``until``, ``label``, ``label!``)."""
    from skiff.monitor.logs import parse_rfc3339

    flt = parse_filters(filters, ("until", "label", "label!"))
    rep = PruneReport()
    for rec, st in eng.cs.entries():
        cid = rec.id
        if st.st.is_live or not flt.keeps_labels(dict(rec.config.labels)):
            continue
        if flt.until_ns is not None:
            try:
                if parse_rfc3339(rec.created) >= flt.until_ns:
                    continue
            except (ValueError, IndexError):
                continue
        size = _rw_size(eng, cid)
        try:
            eng.remove(cid)
        except SkiffError:
            continue
        rep.deleted.append(cid)
        rep.reclaimed += size
    _pruned(eng, "container", rep.reclaimed)
    return rep


def _pruned(eng: ContainerEngine, typ: str, reclaimed: int) -> None:
    """Docker 20.10 logs each prune with the space it freed."""
    from skiff.events import emit

    emit(eng.runroot, typ, "prune", "", {"reclaimed": str(reclaimed)})


def prune_volumes(eng: ContainerEngine, *, all: bool = False, filters: list[str] | None = None) -> PruneReport:
    """Remove volumes no container uses: anonymous ones only, or every one with ``all`` (or ``all=true``)."""
    from .containers_list import dir_size

    rest = []
    for f in filters or []:
        key, _, value = f.partition("=")
        if key == "all":
            all = value.lower() in ("1", "true")
        else:
            rest.append(f)
    flt = parse_filters(rest, ("label", "label!"))
    used = {m.name for cid in eng.cs.ids() for m in eng.cs.record(cid).mounts if m.name}
    rep = PruneReport()
    for v in eng.volumes.list():
        if v.name in used or (not all and not v.anonymous) or not flt.keeps_labels(v.labels):
            continue
        size = dir_size(v.mountpoint)
        eng.volumes.remove(v.name, [])
        rep.deleted.append(v.name)
        rep.reclaimed += size
    _pruned(eng, "volume", rep.reclaimed)
    return rep


@dataclass
class SystemPruneReport:
    """`system prune`: each kind's removals, the build cache counts, and the total space freed."""

    containers: PruneReport
    networks: list[str]
    volumes: PruneReport | None
    images_untagged: list[str]
    images_deleted: list[str]
    build_cache: tuple[int, int]
    reclaimed: int


def system_prune(eng: ContainerEngine, *, all: bool, volumes: bool, filters: list[str]) -> SystemPruneReport:
    """Docker's order: stopped containers, unused networks, (anonymous) volumes, images, build cache."""
    from . import build as engine_build
    from .images import ImageEngine, store_usage
    from .network_admin import NetworkAdmin

    if volumes and any(f.partition("=")[0] == "until" for f in filters):
        raise InvalidArgumentError('ERROR: The "until" filter is not supported with "--volumes"')
    containers = prune_containers(eng, filters)
    networks = NetworkAdmin(eng.ctx).prune([f for f in filters if f.partition("=")[0] in
                                            ("until", "label", "label!")]).removed
    vols = prune_volumes(eng, filters=[f for f in filters if not f.startswith("until")]) if volumes else None
    images = ImageEngine(eng.ctx).prune(all=all, filters=[f for f in filters if f.startswith("label=")])
    before = store_usage(eng.ctx)
    cache = engine_build.prune(eng.ctx)
    cache_freed = max(0, before - store_usage(eng.ctx))
    total = containers.reclaimed + (vols.reclaimed if vols else 0) + images.reclaimed + cache_freed
    return SystemPruneReport(containers=containers, networks=list(networks), volumes=vols,
                             images_untagged=list(images.untagged), images_deleted=list(images.deleted),
                             build_cache=cache, reclaimed=total)
