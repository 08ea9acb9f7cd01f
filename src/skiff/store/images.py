"""Image records, names and tags: one small index file, ROOT/images/images.json.

The index is read without a lock (it is only ever replaced atomically) and rewritten under the images lock
(read, change, write, all while holding it). An image's ID is its config digest; ``names`` are normalised
references with a tag (``docker.io/library/busybox:latest``), ``digests`` are repo digests
(``docker.io/library/busybox@sha256:...``). A name belongs to at most one image: tagging moves it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from skiff.errors import ConflictError, NotFoundError
from skiff.oci import reference
from skiff.oci.codec import from_obj, jfield, to_obj
from skiff.store.blobs import atomic_write
from skiff.store.lock import LockFile


@dataclass(frozen=True)
class ImageRecord:
    id: str = jfield("id")
    manifest: str = jfield("manifest")
    manifest_media_type: str = jfield("manifestMediaType")
    config_media_type: str = jfield("configMediaType", default="application/vnd.oci.image.config.v1+json")
    names: list[str] = jfield("names", default_factory=list)
    digests: list[str] = jfield("digests", default_factory=list)
    diff_ids: list[str] = jfield("diffIDs", default_factory=list)
    layer_blobs: list[str] = jfield("layerBlobs", default_factory=list)
    layer_media_types: list[str] = jfield("layerMediaTypes", default_factory=list)
    chain_ids: list[str] = jfield("chainIDs", default_factory=list)
    created: str | None = jfield("created", default=None)
    size: int = jfield("size", default=0, keep_empty=True)
    loaded: float = jfield("loaded", default=0.0, keep_empty=True)
    architecture: str = jfield("architecture", default="amd64")
    os: str = jfield("os", default="linux")
    parent: str | None = jfield("parent", default=None)

    @property
    def hex(self) -> str:
        return self.id.split(":", 1)[1]

    @property
    def short_id(self) -> str:
        return self.hex[:12]

    @property
    def dangling(self) -> bool:
        return not self.names


class ImageIndex:
    def __init__(self, root: Path, lock: LockFile, tmp: Path) -> None:
        self.path = root / "images" / "images.json"
        self.lock = lock
        self.tmp = tmp

    def load(self) -> list[ImageRecord]:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return []
        data = json.loads(raw)
        return [from_obj(ImageRecord, r, f"$.images[{i}]") for i, r in enumerate(data.get("images", []))]

    def _save(self, records: Iterable[ImageRecord]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        body = {"version": 1, "images": [to_obj(r) for r in records]}
        atomic_write(self.path, json.dumps(body, indent=1).encode(), self.tmp)

    def update(self, change: Callable[[list[ImageRecord]], list[ImageRecord]]) -> list[ImageRecord]:
        """Apply ``change`` to the records under the images lock and save what it returns."""
        with self.lock.exclusive():
            records = change(self.load())
            self._save(records)
            return records


def add_record(records: list[ImageRecord], new: ImageRecord) -> list[ImageRecord]:
    """Insert or merge ``new``; its names and digests are taken away from any other image."""
    taken = set(new.names) | set(new.digests)
    out: list[ImageRecord] = []
    merged = new
    for r in records:
        if r.id == new.id:
            merged = replace(new, names=_union(r.names, new.names), digests=_union(r.digests, new.digests),
                             loaded=r.loaded or new.loaded)
            continue
        if taken & (set(r.names) | set(r.digests)):
            r = replace(r, names=[n for n in r.names if n not in taken],
                        digests=[d for d in r.digests if d not in taken])
        out.append(r)
    out.append(merged)
    return out


def _union(a: list[str], b: list[str]) -> list[str]:
    return a + [x for x in b if x not in a]


def _by_id_prefix(records: list[ImageRecord], prefix: str, text: str) -> ImageRecord | None:
    hits = [r for r in records if r.hex.startswith(prefix)]
    if len(hits) > 1:
        raise ConflictError(f"image ID prefix {text!r} is ambiguous: it matches {len(hits)} images")
    return hits[0] if hits else None


def find(records: list[ImageRecord], text: str) -> tuple[ImageRecord, str | None]:
    """Docker's lookup: full reference, familiar name, repo digest, full ID or ID prefix.

    Returns the record and the normalised name matched (None when matched by ID)."""
    if text.startswith("sha256:"):
        hexpart = text[len("sha256:"):]
        if reference.looks_like_id(hexpart):
            r = _by_id_prefix(records, hexpart, text)
            if r is not None:
                return r, None
        raise NotFoundError(f"No such image: {text}")
    if len(text) == 64 and reference.looks_like_id(text):
        r = _by_id_prefix(records, text, text)
        if r is not None:
            return r, None
        raise NotFoundError(f"No such image: {text}")
    try:
        ref = reference.parse(text)
    except reference.ReferenceError:
        if reference.looks_like_id(text):
            r = _by_id_prefix(records, text, text)
            if r is not None:
                return r, None
        raise
    if ref.digest:
        want = f"{ref.name}@{ref.digest}"
        for r in records:
            if want in r.digests or (r.manifest == ref.digest and any(n.startswith(ref.name + ":")
                                                                       for n in r.names)):
                return r, want
    else:
        full = str(ref)
        for r in records:
            if full in r.names:
                return r, full
    if reference.looks_like_id(text):
        r = _by_id_prefix(records, text, text)
        if r is not None:
            return r, None
    raise NotFoundError(f"No such image: {ref.familiar()}")
