"""`skiff images`: the one command with a start-up budget (at most half of `podman images`).

It reads only ROOT/images/images.json; plain classes here (no dataclass code generation at import), the
reference parser and the store facade are imported only when a filter needs them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from skiff.errors import InvalidArgumentError
from skiff.store.images import familiar

if TYPE_CHECKING:
    from skiff.engine.context import EngineContext
    from skiff.store.images import ImageRecord

FILTERS = ("dangling", "reference", "label", "before", "since")


class ListOptions:
    """``filters``: "dangling=true|false", "reference=PATTERN", "label=KEY[=VALUE]", "before=IMAGE",
    "since=IMAGE"; ``repository``: `skiff images REPOSITORY[:TAG]`."""

    __slots__ = ("all", "filters", "repository")

    def __init__(self, all: bool = False, filters: list[str] | None = None, repository: str | None = None) -> None:
        self.all = all
        self.filters = list(filters or [])
        self.repository = repository


class ImageSummary:
    """One row of `skiff images`: an image under one of its names (or "<none>")."""

    __slots__ = ("containers", "created", "digest", "id", "names", "repository", "size", "tag")

    def __init__(self, id: str, repository: str, tag: str, digest: str, created: float, size: int,
                 names: list[str] | None = None, containers: int = -1) -> None:
        self.id = id
        self.repository = repository
        self.tag = tag
        self.digest = digest
        self.created = created
        self.size = size
        self.names = names or []
        self.containers = containers

    def __repr__(self) -> str:
        return f"ImageSummary({self.repository}:{self.tag} {self.id[:19]})"


def parse_time(text: str | None) -> float:
    """RFC 3339 (with nanoseconds, as Go writes them) -> seconds since the epoch; 0 when unknown."""
    if not text:
        return 0.0
    from datetime import datetime

    t = text.strip()
    if t.endswith("Z"):
        t = t[:-1] + "+00:00"
    if "." in t:  # Python wants at most 6 fraction digits
        head, _, rest = t.partition(".")
        frac = "".join(c for c in rest if c.isdigit())
        tz = rest[len(frac):]
        t = f"{head}.{frac[:6]}{tz}"
    try:
        return datetime.fromisoformat(t).timestamp()
    except ValueError:
        return 0.0


def parse_filters(filters: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for f in filters:
        key, sep, value = f.partition("=")
        if not sep:
            raise InvalidArgumentError(f"bad format of filter (expected name=value): {f}")
        if key not in FILTERS:
            raise InvalidArgumentError(f"invalid filter '{key}'")
        if key == "dangling" and value.lower() not in ("true", "false", "1", "0"):
            raise InvalidArgumentError(f"invalid filter 'dangling={value}'")
        out.setdefault(key, []).append(value)
    return out


def ref_matches(pattern: str, name: str) -> bool:
    """Docker's reference filter: a glob on the familiar name, or on name:tag when the pattern has a tag."""
    import fnmatch

    repo, tag = familiar(name)
    full = name.rsplit(":", 1)[0] if tag else name
    if ":" not in pattern.rsplit("/", 1)[-1]:
        return any(fnmatch.fnmatchcase(c, pattern) for c in (repo, full))
    return any(fnmatch.fnmatchcase(c, pattern) for c in (f"{repo}:{tag}", name))


def keep(ctx: EngineContext, r: ImageRecord, flt: dict[str, list[str]], records: list[ImageRecord]) -> bool:
    for v in flt.get("dangling", []):
        if r.dangling != (v.lower() in ("true", "1")):
            return False
    if "reference" in flt and not any(ref_matches(p, n) for p in flt["reference"] for n in r.names):
        return False
    for key in ("before", "since"):
        for v in flt.get(key, []):
            from skiff.store.images import find

            other = find(records, v)[0]
            a, b = parse_time(r.created), parse_time(other.created)
            if (key == "before" and not a < b) or (key == "since" and not a > b):
                return False
    if "label" in flt:
        labels = ctx.store.image_config(r).config.labels
        for v in flt["label"]:
            k, sep, val = v.partition("=")
            if k not in labels or (sep and labels[k] != val):
                return False
    return True


def list_images(ctx: EngineContext, opts: ListOptions) -> list[ImageSummary]:
    records = ctx.image_index().load()
    flt = parse_filters(opts.filters)
    if opts.repository:
        flt.setdefault("reference", []).append(opts.repository)
    if flt:
        records = [r for r in records if keep(ctx, r, flt, records)]
    if not opts.all:  # intermediate images (untagged parents of other images) show only with -a
        parents = {r.parent for r in records if r.parent}
        records = [r for r in records if not (r.dangling and r.id in parents)]
    out: list[ImageSummary] = []
    for r in records:
        created = parse_time(r.created)
        digest = r.digests[0].split("@", 1)[1] if r.digests else "<none>"
        names = r.names
        if "reference" in flt:
            names = [n for n in names if any(ref_matches(p, n) for p in flt["reference"])]
        if not names:
            out.append(ImageSummary(r.id, "<none>", "<none>", digest, created, r.size, []))
        for n in names:
            repo, tag = familiar(n)
            out.append(ImageSummary(r.id, repo, tag or "<none>", digest, created, r.size, list(r.names)))
    out.sort(key=lambda s: (-s.created, s.repository, s.tag))
    return out
