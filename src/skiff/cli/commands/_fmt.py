"""Output helpers shared by the image and system commands: Docker's sizes and durations, its tab-aligned
tables, and --format dispatch to the shared Go-template renderer (skiff.cli.render).

The size/duration/table helpers repeat skiff.cli.render's on purpose: the default `skiff images` output must not
import the template engine (start-up budget). tests/integration/images/test_format.py checks they agree.
"""

from __future__ import annotations

import time

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up budget)
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any


def human_size(n: float, precision: int = 3) -> str:
    """go-units HumanSizeWithPrecision: decimal units, ``precision`` significant digits ("4.26MB", "0B").
    The one implementation: skiff.cli.render re-uses it (this module stays light to import)."""
    units = ("B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB")
    size = float(n)
    i = 0
    while size >= 1000.0 and i < len(units) - 1:
        size /= 1000.0
        i += 1
    return f"{size:.{precision}g}{units[i]}"


def human_duration(seconds: float) -> str:
    """go-units HumanDuration."""
    s = int(seconds)
    if seconds < 1:
        return "Less than a second"
    if s == 1:
        return "1 second"
    if s < 60:
        return f"{s} seconds"
    minutes = int(seconds / 60)
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = int(seconds / 3600 + 0.5)
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{int(seconds / 3600 / 24 / 365)} years"


def since(ts: float) -> str:
    if not ts:
        return "N/A"
    return human_duration(max(0.0, time.time() - ts)) + " ago"


def go_time(ts: float) -> str:
    """Docker's CreatedAt: "2024-01-02 15:04:05 +0000 UTC" style, in local time."""
    if not ts:
        return ""
    lt = time.localtime(ts)
    return time.strftime("%Y-%m-%d %H:%M:%S %z ", lt) + (time.strftime("%Z", lt) or "UTC")


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Docker's tabwriter (minwidth 10, padding 3); the last column is not padded."""
    cols = len(headers)
    widths = [max([len(headers[i])] + [len(r[i]) for r in rows]) for i in range(cols)]
    lines = []
    for r in [list(headers), *[list(x) for x in rows]]:
        cells = [c.ljust(max(10, widths[i] + 3)) if i < cols - 1 else c for i, c in enumerate(r)]
        lines.append("".join(cells).rstrip())
    return "\n".join(lines)


# Docker's column headers for the fields of the list commands' rows
HEADERS = {"ID": "IMAGE ID", "Repository": "REPOSITORY", "Tag": "TAG", "Digest": "DIGEST",
           "CreatedSince": "CREATED", "CreatedAt": "CREATED AT", "Size": "SIZE", "SharedSize": "SHARED SIZE",
           "UniqueSize": "UNIQUE SIZE", "VirtualSize": "VIRTUAL SIZE", "Containers": "CONTAINERS",
           "CreatedBy": "CREATED BY", "Comment": "COMMENT", "TotalCount": "TOTAL", "Active": "ACTIVE",
           "Reclaimable": "RECLAIMABLE", "Type": "TYPE"}


def render(fmt: str, rows: list[dict[str, Any]], headers: dict[str, str] | None = None) -> str:
    """--format: "json" (one JSON object per line), "table ..." or a plain Go template per row."""
    import json

    if fmt == "json":
        return "\n".join(json.dumps(r, separators=(",", ":")) for r in rows)
    from skiff.cli.render import render_table

    out: str = render_table(fmt, rows, headers={**HEADERS, **(headers or {})})
    return out.rstrip("\n")


def render_one(fmt: str, data: Any) -> str:
    import json

    if fmt == "json":
        return json.dumps(data)
    from skiff.cli.render import render_template

    out: str = render_template(fmt, data)
    return out.rstrip("\n")


def inspect_each(names: list[str], get: Any, fmt: str | None, kind: str, error: type[Exception]) -> int:
    """The shape every `inspect` shares: ``get(name)`` for each name, then one JSON array (or ``fmt`` per
    object); the missing ones are named on stderr, the last as the error Docker ends with."""
    import json
    import sys

    from skiff.errors import NotFoundError

    found = []
    missing: list[str] = []
    for name in names:
        try:
            found.append(get(name))
        except NotFoundError:
            missing.append(name)
    if fmt:
        for obj in found:
            print(render_one(fmt, obj))
    else:
        print(json.dumps(found, indent=4))
    if missing:
        for name in missing[:-1]:
            print(f"Error: No such {kind}: {name}", file=sys.stderr)
        raise error(f"No such {kind}: {missing[-1]}")
    return 0
