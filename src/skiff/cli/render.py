"""Output for every command: Docker's --format (Go templates, the ``table`` directive), sizes and ages.

``render_template`` and ``render_table`` are what commands call with their ``--format``/``-f`` value;
templates follow Go's text/template (see :mod:`skiff.cli.gotemplate`). Imports nothing heavy.
"""

from __future__ import annotations

import datetime as _dt
import time
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from skiff.cli.commands._fmt import human_duration
from skiff.cli.commands._fmt import human_size as format_size
from skiff.cli.gotemplate import Template, TemplateError

__all__ = ["TemplateError", "format_duration_ago", "format_size", "format_status_since", "human_duration",
           "is_table", "render_table", "render_template", "tabwrite"]


def _unescape(fmt: str) -> str:
    # Docker lets shells pass tabs and newlines as the two characters \t and \n
    return fmt.replace("\\t", "\t").replace("\\n", "\n")


@lru_cache(maxsize=64)
def _parsed(source: str) -> Template:
    return Template(source)


def is_table(template: str) -> bool:
    return template.startswith("table")


def render_template(template: str, data: Any, *, unescape: bool = False) -> str:
    """Render one value with a Go template (``{{.Config.Env}}``, ``{{json .}}``...); no newline added.

    ``unescape`` turns the two characters ``\\t``/``\\n`` into a tab/newline first, as Docker's list
    formatters do (``render_table`` always does; ``inspect --format`` does not)."""
    if template == "json":  # Docker 23+: `--format json` is `{{json .}}`
        template = "{{json .}}"
    return _parsed(_unescape(template) if unescape else template).execute(data)


class _HeaderName(str):
    """Stands for a column's header while the header row renders: any field of it is its own header."""

    headers: Mapping[str, str] = {}
    field = ""

    def __getattr__(self, name: str) -> _HeaderName:
        if name.startswith("_"):
            raise AttributeError(name)
        h = _HeaderName(self.headers.get(name, name.upper()))
        h.headers = self.headers
        h.field = name
        return h

    def __call__(self, *args: Any) -> _HeaderName:  # a method with arguments, e.g. ps's {{.Label "a"}}
        if self.field == "Label" and len(args) == 1 and isinstance(args[0], str):
            # docker/cli SubHeaderContext.Label: the last dot-separated part, "-" and "_" as spaces
            h = _HeaderName(args[0].split(".")[-1].replace("-", " ").replace("_", " "))
            h.headers = self.headers
            return h
        return self


def _passthrough(*args: Any) -> Any:
    return args[0] if args else ""


# Docker's HeaderFunctions: while the header renders, formatting functions return their input unchanged
_HEADER_FUNCS = {name: _passthrough for name in ("json", "split", "join", "title", "lower", "upper", "pad",
                                                  "truncate", "printf", "index", "len", "println")}


def render_table(template: str, rows: list[Any], *, headers: dict[str, str] | None = None) -> str:
    """Docker's ``table`` directive: a header row (field names uppercased, or ``headers[field]``), then one
    line per row, aligned like Go's tabwriter (minwidth 10, padding 3). Without the ``table`` prefix the
    rows are rendered one per line with no header."""
    body = _unescape(template)
    if body == "json":  # Docker 23+: one JSON object per line
        body = "{{json .}}"
    table = body.startswith("table")
    if table:
        body = body[len("table"):].strip(" ")
        if not body:
            raise TemplateError("template parsing error: the table directive needs columns, e.g. "
                                "'table {{.ID}}\\t{{.Names}}'")
    tmpl = _parsed(body)
    lines = [tmpl.execute(r) + "\n" for r in rows]
    if not table:
        return "".join(lines)
    root = _HeaderName("")
    root.headers = headers or {}
    header = Template(body, _HEADER_FUNCS).execute(root)
    return tabwrite(header + "\n" + "".join(lines))


def tabwrite(text: str, *, minwidth: int = 10, padding: int = 3) -> str:
    """Go's text/tabwriter with flags 0: tab-terminated cells are padded per column block; the last
    cell of a line is left as it is."""
    lines = [ln.split("\t") for ln in text.split("\n")]
    widths: list[list[int]] = [[0] * (len(c) - 1) for c in lines]
    col = 0
    while True:
        any_col = False
        i = 0
        while i < len(lines):
            if len(lines[i]) - 1 <= col:
                i += 1
                continue
            any_col = True
            j = i
            width = minwidth
            while j < len(lines) and len(lines[j]) - 1 > col:
                width = max(width, len(lines[j][col]) + padding)
                j += 1
            for k in range(i, j):
                widths[k][col] = width
            i = j
        if not any_col:
            break
        col += 1
    out = []
    for cells, ws in zip(lines, widths, strict=True):
        out.append("".join(c.ljust(w) for c, w in zip(cells, ws, strict=False)) + cells[-1])
    return "\n".join(out)


# ---- sizes and times (Docker's go-units) ------------------------------------------------------------

def to_epoch(ts: Any) -> float | None:
    """Seconds since the epoch from a datetime, a number, or an RFC 3339 string (nanoseconds allowed);
    None for Go's zero time or an empty value."""
    if ts is None or ts == "" or ts == 0:
        return None
    if isinstance(ts, (int, float)):
        return float(ts)
    if isinstance(ts, _dt.datetime):
        d = ts if ts.tzinfo else ts.replace(tzinfo=_dt.UTC)
        return d.timestamp()
    text = str(ts).strip()
    if text.startswith("0001-01-01"):
        return None
    frac = 0.0
    if "." in text:
        head, _, rest = text.partition(".")
        digits = ""
        for ch in rest:
            if not ch.isdigit():
                break
            digits += ch
        frac = float("0." + digits) if digits else 0.0
        text = head + rest[len(digits):]
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        d = _dt.datetime.fromisoformat(text)
    except ValueError:
        raise TemplateError(f"invalid timestamp {ts!r}") from None
    if d.tzinfo is None:
        d = d.replace(tzinfo=_dt.UTC)
    return d.timestamp() + frac


def format_duration_ago(ts: Any, *, now: float | None = None) -> str:
    """``2 minutes ago`` (Docker's CreatedSince/RunningFor)."""
    t = to_epoch(ts)
    if t is None:
        return ""
    return human_duration((time.time() if now is None else now) - t) + " ago"


def format_status_since(status: str, *, started_at: Any = None, finished_at: Any = None, exit_code: int = 0,
                        health: str | None = None, now: float | None = None) -> str:
    """Docker's State.String(): ``Up 3 seconds``, ``Up 2 hours (Paused)``, ``Up 5 minutes (healthy)``,
    ``Restarting (1) 5 seconds ago``, ``Exited (0) 2 minutes ago``, ``Created``, ``Dead``..."""
    now_ = time.time() if now is None else now
    started, finished = to_epoch(started_at), to_epoch(finished_at)
    if status in ("running", "paused", "restarting"):
        if status == "restarting":
            return f"Restarting ({exit_code}) {human_duration(now_ - (finished or now_))} ago"
        up = human_duration(now_ - (started or now_))
        if status == "paused":
            return f"Up {up} (Paused)"
        if health:
            return f"Up {up} ({'health: starting' if health == 'starting' else health})"
        return f"Up {up}"
    if status == "removing":
        return "Removal In Progress"
    if status == "dead":
        return "Dead"
    if started is None:
        return "Created"
    if finished is None:
        return ""
    return f"Exited ({exit_code}) {human_duration(now_ - finished)} ago"
