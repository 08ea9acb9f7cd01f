"""`skiff images`: the one command with a start-up budget (at most half of `podman images`).

It reads only ROOT/images/images.json; plain classes here (no dataclass code generation at import), the
reference parser and the store facade are imported only when a filter needs them.
"""

from __future__ import annotations

from skiff.store.images import familiar

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up budget)
if TYPE_CHECKING:
    from typing import Any

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


def _days_from_civil(y: int, m: int, d: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm)."""
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _parse_rfc3339(t: str) -> float | None:
    """``YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)`` without importing datetime; None for anything else."""
    if len(t) < 20 or t[4] != "-" or t[7] != "-" or t[10] not in "Tt " or t[13] != ":" or t[16] != ":":
        return None
    digits = t[0:4] + t[5:7] + t[8:10] + t[11:13] + t[14:16] + t[17:19]
    if not (digits.isascii() and digits.isdigit()):
        return None
    y, mo, d = int(t[0:4]), int(t[5:7]), int(t[8:10])
    h, mi, sec = int(t[11:13]), int(t[14:16]), int(t[17:19])
    mdays = (31, 29 if y % 4 == 0 and (y % 100 != 0 or y % 400 == 0) else 28, 31, 30, 31, 30, 31, 31, 30, 31,
             30, 31)
    if not (1 <= mo <= 12 and 1 <= d <= mdays[mo - 1] and h < 24 and mi < 60 and sec < 60):
        return None
    rest = t[19:]
    frac = 0.0
    if rest.startswith("."):
        n = 1
        while n < len(rest) and rest[n].isascii() and rest[n].isdigit():
            n += 1
        if n == 1:
            return None
        frac = int(rest[1:min(n, 7)].ljust(6, "0")) / 1e6  # microseconds, truncated as datetime does
        rest = rest[n:]
    if rest in ("Z", "z"):
        offset = 0
    elif len(rest) == 6 and rest[0] in "+-" and rest[3] == ":" and (rest[1:3] + rest[4:6]).isdigit() \
            and (rest[1:3] + rest[4:6]).isascii() and int(rest[1:3]) < 24 and int(rest[4:6]) < 60:
        offset = (int(rest[1:3]) * 3600 + int(rest[4:6]) * 60) * (1 if rest[0] == "+" else -1)
    else:
        return None
    return _days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset + frac


def parse_time(text: str | None) -> float:
    """RFC 3339 (with nanoseconds, as Go writes them) -> seconds since the epoch; 0 when unknown."""
    if not text:
        return 0.0
    t = text.strip()
    fast = _parse_rfc3339(t)
    if fast is not None:
        return fast
    from datetime import datetime

    if t.endswith("Z"):
        t = t[:-1] + "+00:00"
    if "." in t:  # Python wants at most 6 fraction digits
        head, _, rest = t.partition(".")
        n = 0
        while n < len(rest) and rest[n].isdigit():
            n += 1
        t = f"{head}.{rest[:n][:6]}{rest[n:]}"
    try:
        return datetime.fromisoformat(t).timestamp()
    except ValueError:
        return 0.0


def parse_filters(filters: list[str]) -> dict[str, list[str]]:
    from .filterargs import by_key

    return by_key(filters, FILTERS, booleans=("dangling",))


def ref_matches(pattern: str, name: str) -> bool:
    """Docker's reference filter (distribution's FamiliarMatch): Go's path.Match of the pattern on the familiar
    name:tag, then on the familiar name; the full name (docker.io/library/...) is tried too, as podman does."""
    repo, tag = familiar(name)
    full = name.rsplit(":", 1)[0] if tag else name
    rx = _path_pattern(pattern)
    return any(rx.fullmatch(c) is not None for c in (f"{repo}:{tag}" if tag else repo, repo, name, full))


def _path_pattern(pattern: str) -> Any:
    """Go's path.Match as a compiled regular expression: ``*`` and ``?`` stop at "/", ``[^a-z]`` classes,
    ``\\`` escapes; a malformed pattern is Go's ErrBadPattern."""
    import re

    from skiff.errors import InvalidArgumentError

    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "\\":
            i += 1
            if i == n:
                raise InvalidArgumentError("syntax error in pattern")
            out.append(re.escape(pattern[i]))
        elif ch == "[":
            j = i + 1
            negate = j < n and pattern[j] == "^"
            j += negate
            cls: list[str] = []
            while j < n and (pattern[j] != "]" or not cls):
                c = pattern[j]
                if c == "\\" and j + 1 < n:
                    j += 1
                    c = pattern[j]
                elif c == "-" and cls and j + 1 < n and pattern[j + 1] != "]":
                    cls.append("-")
                    j += 1
                    continue
                elif c in "-]":  # Go's getEsc: a bare "-" or "]" where a character should be
                    raise InvalidArgumentError("syntax error in pattern")
                cls.append(re.escape(c))
                j += 1
            if j >= n or not cls:
                raise InvalidArgumentError("syntax error in pattern")
            body = "".join(cls)
            out.append(f"(?![{body}])[^/]" if negate else f"[{body}]")
            i = j
        else:
            out.append(re.escape(ch))
        i += 1
    return re.compile("".join(out), re.S)


def keep(ctx: EngineContext, r: ImageRecord, flt: dict[str, list[str]], records: list[ImageRecord]) -> bool:
    if "dangling" in flt and r.dangling != any(v.lower() in ("true", "1") for v in flt["dangling"]):
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
