"""`skiff system df`: Docker's disk usage (moby's daemon/disk_usage.go, as docker/cli's formatter reads it).

Sizes are the ones `images` and `ps -s` show: an image's unpacked layers, each shared layer counted once in the
total; a container's read-write layer; a volume's files (moby's directory.Size). An image is active when a
container (in any state) uses it, a container when it is running, paused or restarting, a volume when a
container mounts it. What is reclaimable follows docker/cli: the containers and volumes not in use; for images,
the total less the unique part of the images in use (shared layers count as reclaimable there, as in Docker).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from skiff.errors import SkiffError
from skiff.records import dataclass, field

from .containers_list import ContainerSummary, dir_size, ps
from .image_list import parse_time

if TYPE_CHECKING:
    from .containers import ContainerEngine

ACTIVE_STATES = ("running", "paused", "restarting")


@dataclass(frozen=True)
class ImageUsage:
    """One image (an ID, not a name): its size, the part shared with other images, the containers using it."""

    id: str
    names: list[str]
    created: float  # seconds since the epoch
    dangling: bool
    size: int
    shared_size: int
    containers: int

    @property
    def unique_size(self) -> int:
        return self.size - self.shared_size


@dataclass(frozen=True)
class VolumeUsage:
    """One volume: the containers that mount it (Docker's UsageData.RefCount) and its size."""

    name: str
    links: int
    size: int


@dataclass(frozen=True)
class DiskUsage:
    """Docker's /system/df: images newest first, containers as `ps -a -s` lists them, volumes by name."""

    layers_size: int
    images: list[ImageUsage] = field(default_factory=list)
    containers: list[ContainerSummary] = field(default_factory=list)
    volumes: list[VolumeUsage] = field(default_factory=list)
    build_cache_size: int = 0

    # ---- the summary rows (docker/cli's diskUsage*Context) ---------------------------------------
    @property
    def images_active(self) -> int:
        return sum(1 for i in self.images if i.containers > 0)

    @property
    def images_reclaimable(self) -> int:
        return self.layers_size - sum(i.unique_size for i in self.images if i.containers > 0)

    @property
    def containers_active(self) -> int:
        return sum(1 for c in self.containers if c.state in ACTIVE_STATES)

    @property
    def containers_size(self) -> int:
        return sum(c.size_rw or 0 for c in self.containers)

    @property
    def containers_reclaimable(self) -> int:
        return sum(c.size_rw or 0 for c in self.containers if c.state not in ACTIVE_STATES)

    @property
    def volumes_active(self) -> int:
        return sum(1 for v in self.volumes if v.links > 0)

    @property
    def volumes_size(self) -> int:
        return sum(v.size for v in self.volumes)

    @property
    def volumes_reclaimable(self) -> int:
        return sum(v.size for v in self.volumes if v.links == 0)


def disk_usage(eng: ContainerEngine) -> DiskUsage:
    containers = ps(eng, all=True, size=True)
    store = eng.store
    records = store.list_images()
    parents = {r.parent for r in records if r.parent}
    shown = [r for r in records if not (r.dangling and r.id in parents)]  # no intermediate images, as `images`
    layer_size = {r.chain_id: r.size for r in store.layers.records()}
    refs: dict[str, int] = {}
    for r in records:
        for c in set(r.chain_ids):
            refs[c] = refs.get(c, 0) + 1
    users: dict[str, int] = {}
    for c in containers:
        users[c.image_id] = users.get(c.image_id, 0) + 1
    images = []
    for r in shown:
        chain = set(r.chain_ids)
        size = sum(layer_size.get(c, 0) for c in chain)
        shared = sum(layer_size.get(c, 0) for c in chain if refs.get(c, 0) > 1)
        images.append(ImageUsage(r.id, list(r.names), parse_time(r.created), r.dangling, size, shared,
                                 users.get(r.id, 0)))
    images.sort(key=lambda i: -i.created)
    links: dict[str, int] = {}
    for cid in eng.cs.ids():
        try:
            mounts = eng.cs.record(cid).mounts
        except (OSError, SkiffError):  # a container being removed meanwhile
            continue
        for name in {m.name for m in mounts if m.name}:
            links[name] = links.get(name, 0) + 1
    volumes = [VolumeUsage(v.name, links.get(v.name, 0), dir_size(v.mountpoint)) for v in eng.volumes.list()]
    return DiskUsage(layers_size=sum(layer_size.get(c, 0) for c in refs), images=images, containers=containers,
                     volumes=sorted(volumes, key=lambda v: v.name))
