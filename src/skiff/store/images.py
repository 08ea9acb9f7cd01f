"""Image records, names and tags: one small index file, ROOT/images/images.json.

The index is read without a lock (it is only ever replaced atomically) and rewritten under the images lock
(read, change, write, all while holding it). An image's ID is its config digest; ``names`` are normalised
references with a tag (``docker.io/library/busybox:latest``), ``digests`` are repo digests
(``docker.io/library/busybox@sha256:...``). A name belongs to at most one image: tagging moves it.

Beside the index lies ``images.json.marshal``, its parsed content in marshal form stamped with the length
and CRC-32 of the JSON it came from: `skiff images` (start-up budget: half of `podman images`) then needs
neither ``json`` nor ``re``. The JSON stays the record; a sidecar that does not match it is ignored and
rewritten by the next reader. The sidecar also keeps each record's JSON text, so that rewriting the index
(every build, tag, rm) encodes only the records that changed: a store with hundreds of dangling images paid
~25 us per record per write.
"""

from __future__ import annotations

import os

from skiff.errors import ConflictError, NotFoundError, SkiffError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up budget)
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from pathlib import Path
    from typing import Any

    from skiff.store.lock import LockFile

_HEX = frozenset("0123456789abcdef")
SIDECAR_FORMAT = 3  # 2: written only from records that passed from_json's checks; 3: with each record's JSON


def _is_image_id(s: str) -> bool:
    return len(s) == 71 and s.startswith("sha256:") and _HEX.issuperset(s[7:])


# JSON member <-> field; written by hand (no codec) because `skiff images` reads this on every call.
_FIELDS = (("id", "id", None), ("manifest", "manifest", None), ("manifest_media_type", "manifestMediaType", None),
           ("config_media_type", "configMediaType", "application/vnd.oci.image.config.v1+json"),
           ("names", "names", list), ("digests", "digests", list), ("diff_ids", "diffIDs", list),
           ("layer_blobs", "layerBlobs", list), ("layer_media_types", "layerMediaTypes", list),
           ("chain_ids", "chainIDs", list), ("created", "created", None), ("size", "size", 0),
           ("loaded", "loaded", 0.0), ("architecture", "architecture", "amd64"), ("os", "os", "linux"),
           ("parent", "parent", None))


class ImageRecord:
    """One image: ID (config digest), manifest, names, layers, size. Immutable by convention: change it with
    :meth:`replace`. A plain class rather than a dataclass: `skiff images` builds it on every call and the
    dataclass machinery costs more start-up time than the listing itself."""

    # _raw: this record's JSON text, once known; _src: its to_json() dict, when it came from the sidecar
    __slots__ = (*(f for f, _, _ in _FIELDS), "_raw", "_src")

    id: str
    manifest: str
    manifest_media_type: str
    config_media_type: str
    names: list[str]
    digests: list[str]
    diff_ids: list[str]
    layer_blobs: list[str]
    layer_media_types: list[str]
    chain_ids: list[str]
    created: str | None
    size: int
    loaded: float
    architecture: str
    os: str
    parent: str | None
    _raw: bytes | None
    _src: dict[str, Any] | None

    def __init__(self, **kw: Any) -> None:
        for f, _, default in _FIELDS:
            if f in kw:
                v = kw.pop(f)
            elif f in ("id", "manifest", "manifest_media_type"):
                raise TypeError(f"ImageRecord: {f} is required")
            else:
                v = [] if default is list else default
            object.__setattr__(self, f, v)
        object.__setattr__(self, "_raw", None)
        object.__setattr__(self, "_src", None)
        if kw:
            raise TypeError(f"ImageRecord: unknown fields {sorted(kw)}")

    def replace(self, **changes: Any) -> ImageRecord:
        return ImageRecord(**{**{f: getattr(self, f) for f in _NAMES}, **changes})

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ImageRecord) and all(getattr(self, f) == getattr(other, f) for f in _NAMES)

    def __hash__(self) -> int:
        return hash(self.id)

    def __repr__(self) -> str:
        return f"ImageRecord(id={self.id!r}, names={self.names!r})"

    @property
    def hex(self) -> str:
        return self.id.split(":", 1)[1]

    @property
    def short_id(self) -> str:
        return self.hex[:12]

    @property
    def dangling(self) -> bool:
        return not self.names

    def to_json(self) -> dict[str, Any]:
        if self._src is not None:
            return dict(self._src)
        return {j: getattr(self, f) for f, j, _ in _FIELDS if getattr(self, f) is not None}

    def json_text(self) -> bytes:
        """``to_json()`` as the index writes it (compact), encoded once per record."""
        raw = self._raw
        if raw is None:
            import json

            raw = json.dumps(self.to_json(), separators=(",", ":")).encode()
            object.__setattr__(self, "_raw", raw)
        return raw

    @classmethod
    def from_json(cls, data: Any, where: str) -> ImageRecord:
        if not isinstance(data, dict):
            raise SkiffError(f"{where}: expected an object")
        kw: dict[str, Any] = {}
        for f, j, default in _FIELDS:
            v = data.get(j)
            if v is None:
                if default is None and f in ("id", "manifest", "manifest_media_type"):
                    raise SkiffError(f"{where}.{j}: required field is missing")
                continue
            if default is list and not (isinstance(v, list) and all(isinstance(x, str) for x in v)):
                raise SkiffError(f"{where}.{j}: expected a list of strings")
            kw[f] = v
        rec = cls(**kw)
        if not _is_image_id(rec.id):
            raise SkiffError(f"{where}.id: invalid image ID {rec.id!r}")
        return rec

    @classmethod
    def _checked(cls, data: dict[str, Any], raw: bytes | None = None) -> ImageRecord:
        """A record from a sidecar entry, which was written from checked records: no second check. Spelled
        out field by field (the defaults of _FIELDS): a store with hundreds of images loads them all on
        every lookup, and a loop over _FIELDS took ~16 us per record."""
        rec = object.__new__(cls)
        g = data.get
        rec.id = data["id"]  # required: present in every checked record
        rec.manifest = data["manifest"]
        rec.manifest_media_type = data["manifestMediaType"]
        v = g("configMediaType")
        rec.config_media_type = "application/vnd.oci.image.config.v1+json" if v is None else v
        v = g("names")
        rec.names = [] if v is None else v
        v = g("digests")
        rec.digests = [] if v is None else v
        v = g("diffIDs")
        rec.diff_ids = [] if v is None else v
        v = g("layerBlobs")
        rec.layer_blobs = [] if v is None else v
        v = g("layerMediaTypes")
        rec.layer_media_types = [] if v is None else v
        v = g("chainIDs")
        rec.chain_ids = [] if v is None else v
        rec.created = g("created")
        v = g("size")
        rec.size = 0 if v is None else v
        v = g("loaded")
        rec.loaded = 0.0 if v is None else v
        v = g("architecture")
        rec.architecture = "amd64" if v is None else v
        v = g("os")
        rec.os = "linux" if v is None else v
        rec.parent = g("parent")
        rec._raw = raw
        rec._src = data
        return rec


_NAMES = tuple(f for f, _, _ in _FIELDS)


class ImageIndex:
    """``root`` may be a str: `skiff images` reads the index without importing pathlib or the lock module."""

    def __init__(self, root: str | Path, lock: LockFile | None = None, tmp: Path | None = None) -> None:
        self.root = root
        self.path = os.path.join(root, "images", "images.json")
        self._lock = lock
        self.tmp = tmp
        self._memo: tuple[tuple[int, int, int], list[ImageRecord]] | None = None

    @property
    def lock(self) -> LockFile:
        if self._lock is None:
            from pathlib import Path

            from skiff.store.lock import LockFile

            self._lock = LockFile(Path(self.root) / "locks" / "images.lock")
        return self._lock

    def load(self) -> list[ImageRecord]:
        """The records; parsed once per version of the file (the index is replaced by rename, never edited in
        place, so inode, size and mtime name a version), as a command looks images up several times."""
        try:
            with open(self.path, "rb") as f:
                st = os.fstat(f.fileno())
                key = (st.st_ino, st.st_size, st.st_mtime_ns)
                if self._memo is not None and self._memo[0] == key:
                    return list(self._memo[1])
                raw = f.read()
        except FileNotFoundError:
            return []
        side = self._read_sidecar(raw)
        if side is not None:
            images, texts = side
            records = [ImageRecord._checked(r, t) for r, t in zip(images, texts, strict=True)]
        else:
            import json

            try:
                data = json.loads(raw)
            except ValueError as e:
                raise SkiffError(f"{self.path}: invalid JSON: {e}") from None
            if not isinstance(data, dict):
                raise SkiffError(f"{self.path}: expected an object")
            images = data.get("images", [])
            if not isinstance(images, list):
                raise SkiffError(f"{self.path}: $.images: expected a list")
            records = [ImageRecord.from_json(r, f"{self.path}: $.images[{i}]") for i, r in enumerate(images)]
            self._write_sidecar(raw, images, [r.json_text() for r in records])  # only now: checked records
        self._memo = (key, records)
        return list(records)

    @staticmethod
    def _stamp(raw: bytes) -> tuple[int, int]:
        import zlib

        return len(raw), zlib.crc32(raw)

    def _read_sidecar(self, raw: bytes) -> tuple[list[dict[str, Any]], list[bytes]] | None:
        """The parsed ``images`` list and each one's JSON text, if the sidecar was made from exactly ``raw``."""
        import marshal

        try:
            with open(self.path + ".marshal", "rb") as f:
                data = marshal.loads(f.read())  # marshal.load(f) reads object by object: ~7x slower here
        except (OSError, EOFError, ValueError, TypeError):
            return None
        if not isinstance(data, tuple) or len(data) != 4 or data[0] != SIDECAR_FORMAT \
                or not isinstance(data[2], list) or not all(isinstance(r, dict) for r in data[2]) \
                or not isinstance(data[3], list) or len(data[3]) != len(data[2]) \
                or not all(type(t) is bytes for t in data[3]):
            return None
        return (data[2], data[3]) if data[1] == self._stamp(raw) else None

    def _write_sidecar(self, raw: bytes, images: Any, texts: list[bytes]) -> None:
        """Best effort (a reader may lack write access); a cache file (skiff.lightfs), never half-read."""
        import marshal

        from skiff.lightfs import replace_cache

        try:
            replace_cache(self.path + ".marshal", marshal.dumps((SIDECAR_FORMAT, self._stamp(raw), images, texts)))
        except (OSError, ValueError):
            pass

    def _save(self, records: Iterable[ImageRecord]) -> None:
        """The index as json.dumps({"version": 1, "images": [...]}, compact) writes it, from each record's text
        (encoded only for records new since the last load)."""
        from pathlib import Path

        from skiff.store.blobs import atomic_write

        path = Path(self.path)
        path.parent.mkdir(parents=True, exist_ok=True)
        records = list(records)
        texts = [r.json_text() for r in records]
        raw = b'{"version":1,"images":[' + b",".join(texts) + b"]}"
        atomic_write(path, raw, self.tmp)
        self._write_sidecar(raw, [r._src if r._src is not None else r.to_json() for r in records], texts)

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
            merged = new.replace(names=_union(r.names, new.names), digests=_union(r.digests, new.digests),
                             loaded=r.loaded or new.loaded)
            continue
        if taken & (set(r.names) | set(r.digests)):
            r = r.replace(names=[n for n in r.names if n not in taken],
                        digests=[d for d in r.digests if d not in taken])
        out.append(r)
    out.append(merged)
    return out


def _union(a: list[str], b: list[str]) -> list[str]:
    return a + [x for x in b if x not in a]


def familiar(name: str) -> tuple[str, str]:
    """A stored name (``docker.io/library/busybox:latest``) -> (``busybox``, ``latest``) without the parser."""
    repo, _, tag = name.rpartition(":")
    if "/" in tag or not repo:
        repo, tag = name, ""
    if repo.startswith("docker.io/"):
        repo = repo[len("docker.io/"):]
        if repo.startswith("library/") and repo.count("/") == 1:
            repo = repo[len("library/"):]
    return repo, tag


def _by_id_prefix(records: list[ImageRecord], prefix: str, text: str) -> ImageRecord | None:
    hits = [r for r in records if r.hex.startswith(prefix)]
    if len(hits) > 1:
        raise ConflictError(f"image ID prefix {text!r} is ambiguous: it matches {len(hits)} images")
    return hits[0] if hits else None


def find(records: list[ImageRecord], text: str) -> tuple[ImageRecord, str | None]:
    """Docker's lookup: full reference, familiar name, repo digest, full ID or ID prefix.

    Returns the record and the normalised name matched (None when matched by ID)."""
    from skiff.oci import reference

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
