"""Image use cases: list, inspect, tag, remove, history, prune (Options in, Reports out; the CLI renders).

Transfers (save, load, import) are in image_io.py, `image bootstrap` in bootstrap.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, BinaryIO

from skiff.engine.context import EngineContext
from skiff.engine.image_list import ImageSummary, ListOptions, keep, list_images, parse_filters, parse_time
from skiff.errors import ConflictError, InvalidArgumentError, NotFoundError, SkiffError
from skiff.oci import reference
from skiff.records import dataclass, field
from skiff.store.images import ImageRecord, find

if TYPE_CHECKING:
    from skiff.engine.bootstrap import BootstrapOptions
    from skiff.engine.image_io import ImportOptions, LoadOptions, LoadReport, SaveOptions


class ImageEngine:
    def __init__(self, ctx: EngineContext) -> None:
        self.ctx = ctx

    # ---- list ----
    def list_images(self, opts: ListOptions) -> list[ImageSummary]:
        return list_images(self.ctx, opts)

    # ---- transfers (image_io.py, bootstrap.py), here too so that callers need one object ----
    def save(self, opts: SaveOptions, stdout: BinaryIO | None = None) -> None:
        from skiff.engine.image_io import ImageIO

        ids = [self.ctx.store.resolve_image(n).id for n in opts.names]  # a missing one fails the save first
        ImageIO(self.ctx).save(opts, stdout)
        for i in dict.fromkeys(ids):
            self._event("save", i)

    def load(self, opts: LoadOptions, stdin: BinaryIO | None = None) -> LoadReport:
        from skiff.engine.image_io import ImageIO

        rep = ImageIO(self.ctx).load(opts, stdin)
        for i in dict.fromkeys([*(self.ctx.store.resolve_image(n).id for n in rep.loaded), *rep.ids]):
            self._event("load", i)
        return rep

    def import_(self, opts: ImportOptions, stdin: BinaryIO | None = None) -> str:
        from skiff.engine.image_io import ImageIO

        image_id = ImageIO(self.ctx).import_(opts, stdin)
        self._event("import", image_id)
        return image_id

    def bootstrap(self, opts: BootstrapOptions) -> str:
        from skiff.engine.bootstrap import bootstrap

        return bootstrap(self.ctx, opts)

    # ---- inspect, history ----
    def resolve(self, text: str) -> ImageRecord:
        return self.ctx.store.resolve_image(text)

    def inspect(self, text: str) -> dict[str, Any]:
        """Docker's `image inspect` JSON object (built from typed records; plain data only for rendering)."""
        from skiff.oci.codec import to_obj

        from .inspect_shapes import image_config

        store = self.ctx.store
        r = store.resolve_image(text)
        cfg = store.image_config(r)
        container_config = to_obj(cfg.config)
        graph: dict[str, Any] = {"Name": "overlay", "Data": None}
        try:
            dirs = [str(p) for p in store.layer_dirs(r)] if r.chain_ids else []
            graph["Data"] = {"LowerDir": ":".join(reversed(dirs[:-1])) or None,
                             "UpperDir": dirs[-1] if dirs else None, "MergedDir": None, "WorkDir": None}
        except SkiffError:
            pass
        return {
            "Id": r.id,
            "RepoTags": [reference.parse(n).familiar() for n in r.names],
            "RepoDigests": [reference.parse(d, default_tag=False).familiar() for d in r.digests],
            "Parent": r.parent or "",
            # Docker's: the config's "comment" (docker commit -m, import), else the last history entry's
            "Comment": str(cfg.extra.get("comment") or (cfg.history[-1].comment if cfg.history else "") or ""),
            "Created": cfg.created or "",
            "DockerVersion": "",
            "Author": cfg.author or "",
            "Config": image_config(container_config),
            "Architecture": cfg.architecture,
            "Variant": cfg.variant,
            "Os": cfg.os,
            "Size": r.size,
            "VirtualSize": r.size,
            "GraphDriver": graph,
            "RootFS": {"Type": cfg.rootfs.type, "Layers": list(cfg.rootfs.diff_ids)},
            "Metadata": {"LastTagTime": datetime.fromtimestamp(r.loaded).astimezone().isoformat()
                         if r.loaded else "0001-01-01T00:00:00Z"},
        }

    def history(self, text: str) -> list[HistoryEntry]:
        store = self.ctx.store
        r = store.resolve_image(text)
        cfg = store.image_config(r)
        sizes = [0] * len(r.chain_ids)
        for i, c in enumerate(r.chain_ids):
            rec = store.layers.get(c)
            sizes[i] = rec.size if rec else 0
        entries: list[HistoryEntry] = []
        layer = 0
        hist = cfg.history or [None] * len(r.chain_ids)  # type: ignore[list-item]
        for h in hist:
            empty = bool(h and h.empty_layer)
            size = 0
            if not empty and layer < len(sizes):
                size = sizes[layer]
                layer += 1
            entries.append(HistoryEntry(id="<missing>", created=parse_time(h.created if h else None),
                                        created_by=(h.created_by or "") if h else "",
                                        size=size, comment=(h.comment or "") if h else ""))
        entries.reverse()
        img: ImageRecord | None = r
        for e in entries:  # moby's ImageHistory: the newest entries get the image's ID, then its parents' (of
            if img is None:  # `commit` and the legacy builder), one per entry, while the parent is in the store
                break
            e.id = img.id
            try:
                img = store.get_image(img.parent) if img.parent else None
            except NotFoundError:
                img = None
        return entries

    # ---- tag, remove, prune ----
    def tag(self, source: str, target: str) -> str:
        store = self.ctx.store
        r = store.resolve_image(source)
        ref = reference.parse(target)
        if ref.digest:
            raise InvalidArgumentError(f"refusing to create a tag with a digest reference: {target}")
        store.tag(r.id, str(ref))
        self._event("tag", r, ref.familiar())
        return r.id

    def _event(self, action: str, image: str | ImageRecord, name: str | None = None) -> None:
        """moby's LogImageEvent: the image's labels and ``name`` (its ID when no reference is involved)."""
        from skiff.events import image_event

        store = self.ctx.store
        try:
            rec = store.get_image(image) if isinstance(image, str) else image
            labels = dict(store.image_config(rec).config.labels or {})
        except (SkiffError, OSError):  # gone already: the event without labels
            labels = {}
        image_id = image if isinstance(image, str) else image.id
        image_event(self.ctx.runroot, action, image_id, image_id if name is None else name, labels)

    def remove(self, names: list[str], force: bool = False) -> RemoveReport:
        """Docker's rmi: a name of an image with other names is only untagged; the last name or the ID
        deletes the image (refused while a container uses it; an ID with several names needs -f)."""
        store = self.ctx.store
        report = RemoveReport()
        for text in names:
            try:
                self._remove_one(text, force, report)
            except (NotFoundError, ConflictError) as e:
                report.errors.append(str(e))
        if report.deleted:
            store.gc()
        return report

    def _remove_one(self, text: str, force: bool, report: RemoveReport) -> None:
        store = self.ctx.store
        rec, matched = find(store.list_images(), text)
        users = store.image_in_use(rec.id)
        if matched is not None and (len(rec.names) + len(rec.digests) > 1 or (users and force)):
            store.untag(matched)
            report.untagged.append(reference.parse(matched, default_tag=False).familiar())
            self._event("untag", rec)
            return
        if users:
            what = f"repository reference \"{text}\"" if matched else rec.short_id
            raise ConflictError(f"conflict: unable to remove {what} (must force) - container {users[0][:12]} "
                                f"is using its referenced image {rec.short_id}")
        if matched is None and len(rec.names) > 1 and not force:
            raise ConflictError(f"conflict: unable to delete {rec.short_id} (must be forced) - image is "
                                "referenced in multiple repositories")
        for n in [*rec.names, *rec.digests]:
            report.untagged.append(reference.parse(n, default_tag=False).familiar())
        store.delete_image(rec.id)
        report.deleted.append(rec.id)
        if rec.names or rec.digests:
            self._event("untag", rec)
        self._event("delete", rec)

    def prune(self, all: bool = False, filters: list[str] | None = None) -> PruneReport:
        store = self.ctx.store
        flt = parse_filters(filters or [])
        report = PruneReport()
        records = store.list_images()
        for r in records:
            if not all and not r.dangling:
                continue
            if store.image_in_use(r.id) or not keep(self.ctx, r, {k: v for k, v in flt.items() if k != "dangling"},
                                                          records):
                continue
            for n in r.names:
                report.untagged.append(reference.parse(n).familiar())
            store.delete_image(r.id)
            report.deleted.append(r.id)
            if r.names:
                self._event("untag", r)
            self._event("delete", r)
        before = store_usage(self.ctx)
        store.gc()  # also collects what crashed commands left behind
        report.reclaimed = max(0, before - store_usage(self.ctx))
        from skiff.events import emit

        emit(self.ctx.runroot, "image", "prune", "", {"reclaimed": str(report.reclaimed)})
        return report


def store_usage(ctx: EngineContext) -> int:
    """Bytes of the store's blobs and unpacked layers (what a prune's collection frees)."""
    store = ctx.store
    total = sum(store.blobs.size(d) for d in store.blobs.list())
    return total + sum(r.size for r in store.layers.records())


@dataclass
class HistoryEntry:
    """One row of `skiff history`: the instruction that made a layer, when, its size and its comment."""

    id: str
    created: float
    created_by: str
    size: int
    comment: str


@dataclass
class RemoveReport:
    """What `skiff rmi` did: the names untagged, the images deleted, and the errors of names it left alone."""

    untagged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass
class PruneReport:
    """What `skiff image prune` did: the names untagged, the images deleted and the bytes reclaimed."""

    untagged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    reclaimed: int = 0
