"""Where an image's bytes go: each layer's compressed and unpacked size and the instruction that made it,
largest first, with totals (``skiff image inspect --size-breakdown``).

The instruction comes from the config's ``history``: entries without ``empty_layer`` are matched, in order, to
the layers of ``rootfs.diff_ids`` (the rule ``docker history`` and the image spec use). The compressed size
is the layer's manifest descriptor size (what a push or pull moves); the unpacked size is the size the store
recorded when it unpacked the layer (what the layer takes on disk), 0 when unknown.
"""

from __future__ import annotations

from typing import Any

from skiff.records import dataclass, field


@dataclass(frozen=True)
class LayerSize:
    """One layer of a :class:`SizeReport`: compressed and unpacked sizes, and the instruction that made it."""

    index: int  # 0 = the bottom layer
    diff_id: str
    compressed: int | None  # the blob's size, None when the manifest does not say
    unpacked: int | None  # None when the store has no record of the layer
    created_by: str  # the history entry's created_by, "" when the history has none for this layer
    media_type: str = ""

    @property
    def sort_key(self) -> int:
        return self.unpacked if self.unpacked is not None else (self.compressed or 0)


@dataclass(frozen=True)
class SizeReport:
    """An image's size breakdown (``--size-breakdown``): its ID, names and layers, largest first."""

    image_id: str
    names: list[str]
    layers: list[LayerSize] = field(default_factory=list)  # largest first

    @property
    def total_compressed(self) -> int:
        return sum(x.compressed or 0 for x in self.layers)

    @property
    def total_unpacked(self) -> int:
        return sum(x.unpacked or 0 for x in self.layers)

    def to_obj(self) -> dict[str, Any]:
        """Docker-like JSON for ``--format json``."""
        return {"Id": self.image_id, "RepoTags": self.names,
                "TotalCompressed": self.total_compressed, "TotalUnpacked": self.total_unpacked,
                "Layers": [{"Index": x.index, "DiffID": x.diff_id, "Compressed": x.compressed,
                            "Unpacked": x.unpacked, "CreatedBy": x.created_by, "MediaType": x.media_type}
                           for x in self.layers]}


def layer_instructions(history: list[Any], layer_count: int) -> list[str]:
    """The created_by of each layer: non-empty history entries in order; "" for layers past the history."""
    made = [(h.created_by or "") for h in history if not h.empty_layer]
    return (made + [""] * layer_count)[:layer_count]


def size_report(store: Any, text: str) -> SizeReport:
    """The breakdown of image ``text`` (name, ID or ID prefix) in ``store``."""
    rec = store.resolve_image(text)
    cfg = store.image_config(rec)
    diff_ids = list(cfg.rootfs.diff_ids) if cfg.rootfs else list(rec.diff_ids)
    try:
        descs = list(store.image_manifest(rec).layers)
    except Exception:  # a manifest the store cannot read still leaves the unpacked sizes
        descs = []
    made = layer_instructions(list(cfg.history or []), len(diff_ids))
    chain_ids = list(rec.chain_ids)
    layers = []
    for i, diff_id in enumerate(diff_ids):
        lrec = store.layers.get(chain_ids[i]) if i < len(chain_ids) else None
        desc = descs[i] if i < len(descs) else None
        layers.append(LayerSize(index=i, diff_id=diff_id, compressed=desc.size if desc else None,
                                unpacked=lrec.size if lrec else None, created_by=made[i],
                                media_type=desc.media_type if desc else ""))
    layers.sort(key=lambda x: (-x.sort_key, x.index))
    return SizeReport(image_id=rec.id, names=list(rec.names), layers=layers)


def clean_instruction(created_by: str) -> str:
    """A history line shortened to its instruction: Docker's ``/bin/sh -c #(nop) COPY ...`` and
    ``/bin/sh -c cmd``, BuildKit's ``RUN /bin/sh -c cmd # buildkit`` and ``RUN |1 A=b /bin/sh -c cmd``."""
    text = " ".join(created_by.split())
    if text.endswith(" # buildkit"):
        text = text[:-len(" # buildkit")]
    if text.startswith("/bin/sh -c #(nop) "):
        return text[len("/bin/sh -c #(nop) "):].strip()
    run = text.startswith("RUN ")
    body = text[4:] if run else text
    if body.startswith("|"):  # "|N ARG=value ... /bin/sh -c cmd": build args in force
        _, sep, rest = body.partition(" /bin/sh -c ")
        body = "/bin/sh -c " + rest if sep else body
    if body.startswith("/bin/sh -c "):
        return "RUN " + body[len("/bin/sh -c "):]
    return text
