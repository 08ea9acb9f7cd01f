"""Output helpers shared by the image and system commands: Docker's sizes and durations, its tab-aligned
tables, and --format dispatch to the shared Go-template renderer (skiff.cli.render).

The size/duration/table helpers repeat skiff.cli.render's on purpose: the default `skiff images` output must not
import the template engine (start-up budget). tests/integration/images/test_format.py checks they agree.
"""

from __future__ import annotations

import time

from skiff.units import go_quote as go_quote  # re-exported for the commands
from skiff.units import human_duration as human_duration

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


def go_time_string(rfc3339: str) -> str:
    """Go's time.Time.String() of an RFC 3339 time from JSON (network ls's CreatedAt):
    "2024-01-02 15:04:05.123456789 +0000 UTC", fraction without trailing zeros; a time with an offset is
    shown in local time."""
    import datetime as dt

    text = (rfc3339 or "0001-01-01T00:00:00Z").strip()
    head, dot, rest = text.partition(".")
    frac = ""
    if dot:
        n = len(rest) - len(rest.lstrip("0123456789"))
        frac, text = rest[:n].rstrip("0"), head + rest[n:]
    utc = text.endswith(("Z", "z"))
    try:
        t = dt.datetime.fromisoformat(text[:-1] + "+00:00" if utc else text)
    except ValueError:
        return rfc3339
    if t.tzinfo is None or utc:
        t = t.replace(tzinfo=dt.UTC)
    else:
        t = t.astimezone()
    zone = "UTC" if utc else (t.tzname() or t.strftime("%z"))
    return t.strftime("%Y-%m-%d %H:%M:%S").rjust(19, "0") + (f".{frac}" if frac else "") + \
        t.strftime(" %z ") + zone


def ellipsis(s: str, width: int) -> str:
    """docker/cli formatter.Ellipsis for text of single-width characters: ``width``-1 of them and "…"."""
    if width <= 0:
        return ""
    return s if len(s) <= width else s[:width - 1] + "…"




def displayable_ports(ports: Sequence[tuple[int, str, str, int]]) -> str:
    """docker/cli DisplayablePorts: ``(private port, type, host IP, public port)`` entries as "0.0.0.0:80->80/tcp,
    9988/tcp". Exposed-only ports, and ports published on the same host port, are grouped into consecutive
    ranges per (IP, type); a port published on another host port is listed on its own, after the groups."""
    ordered = sorted(ports, key=lambda p: (p[0], _ip_key(p[2]), p[3], p[1]))
    groups: dict[str, list[int]] = {}  # key -> [first, last], in the order the keys appear
    result: list[str] = []
    mappings: list[str] = []
    for private, typ, ip, public in ordered:
        key = typ
        if ip:
            if public != private:
                mappings.append(f"{_join_host_port(ip, public)}->{private}/{typ}")
                continue
            key = f"{ip}/{typ}"
        g = groups.get(key)
        if g is None:
            groups[key] = [private, private]
        elif private == g[1] + 1:
            g[1] = private
        else:
            result.append(_form_group(key, g[0], g[1]))
            groups[key] = [private, private]
    result.extend(_form_group(k, g[0], g[1]) for k, g in groups.items())
    return ", ".join(result + mappings)


def _ip_key(ip: str) -> tuple[int, bytes]:
    import ipaddress

    if not ip:
        return (0, b"")
    try:
        a = ipaddress.ip_address(ip)
    except ValueError:
        return (9, ip.encode())
    return (a.version, a.packed)


def _join_host_port(host: str, port: int | str) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _form_group(key: str, first: int, last: int) -> str:
    ip, _, typ = key.rpartition("/")
    group = str(first) if first == last else f"{first}-{last}"
    if ip:
        group = f"{_join_host_port(ip, group)}->{group}"
    return f"{group}/{typ}"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, minwidth: int = 10) -> str:
    """Docker's tabwriter (minwidth 10, padding 3; `top` uses minwidth 20); the last column is not padded."""
    cols = len(headers)
    widths = [max([len(headers[i])] + [len(r[i]) for r in rows if i < len(r)]) for i in range(cols)]
    lines = []
    for r in [list(headers), *[list(x) for x in rows]]:  # an empty last cell leaves its padding, as Go's does
        cells = [c.ljust(max(minwidth, widths[i] + 3)) if i < cols - 1 else c for i, c in enumerate(r)]
        lines.append("".join(cells))
    return "\n".join(lines)


# Docker's column headers for the fields of each list command's rows (docker/cli's *HeaderContext maps)
HEADERS = {"ID": "IMAGE ID", "Repository": "REPOSITORY", "Tag": "TAG", "Digest": "DIGEST",
           "CreatedSince": "CREATED", "CreatedAt": "CREATED AT", "Size": "SIZE", "SharedSize": "SHARED SIZE",
           "UniqueSize": "UNIQUE SIZE", "VirtualSize": "SIZE", "Containers": "CONTAINERS",
           "CreatedBy": "CREATED BY", "Comment": "COMMENT", "TotalCount": "TOTAL", "Active": "ACTIVE",
           "Reclaimable": "RECLAIMABLE", "Type": "TYPE"}


IMAGE_HEADERS = HEADERS
PS_HEADERS = {"ID": "CONTAINER ID", "Names": "NAMES", "Image": "IMAGE", "Command": "COMMAND",
              "CreatedAt": "CREATED AT", "RunningFor": "CREATED", "Ports": "PORTS", "State": "STATE",
              "Status": "STATUS", "Size": "SIZE", "Labels": "LABELS", "Label": "LABEL", "Mounts": "MOUNTS",
              "LocalVolumes": "LOCAL VOLUMES", "Networks": "NETWORKS", "Platform": "PLATFORM",
              "HealthStatus": "HEALTH STATUS", "IPAddresses": "IP ADDRESSES"}
STATS_HEADERS = {"Container": "CONTAINER", "Name": "NAME", "ID": "CONTAINER ID", "CPUPerc": "CPU %",
                 "MemUsage": "MEM USAGE / LIMIT", "MemPerc": "MEM %", "NetIO": "NET I/O", "BlockIO": "BLOCK I/O",
                 "PIDs": "PIDS"}


# docker/cli's "raw" formats (New*Format's RawFormatKey): (the template, the one with -q)
RAW = {
    "ps": ("container_id: {{.ID}}\nimage: {{.Image}}\ncommand: {{.Command}}\ncreated_at: {{.CreatedAt}}\n"
           "state: {{- pad .State 1 0}}\nstatus: {{- pad .Status 1 0}}\nnames: {{.Names}}\n"
           "labels: {{- pad .Labels 1 0}}\nports: {{- pad .Ports 1 0}}\n", "container_id: {{.ID}}"),
    "images": ("repository: {{ .Repository }}\ntag: {{.Tag}}\nimage_id: {{.ID}}\ncreated_at: {{.CreatedAt}}\n"
               "virtual_size: {{.Size}}\n", "image_id: {{.ID}}"),
    "images --digests": ("repository: {{ .Repository }}\ntag: {{.Tag}}\ndigest: {{.Digest}}\nimage_id: {{.ID}}\n"
                         "created_at: {{.CreatedAt}}\nvirtual_size: {{.Size}}\n", "image_id: {{.ID}}"),
    "volume ls": ("name: {{.Name}}\ndriver: {{.Driver}}\n", "name: {{.Name}}"),
    "network ls": ("network_id: {{.ID}}\nname: {{.Name}}\ndriver: {{.Driver}}\nscope: {{.Scope}}\n",
                   "network_id: {{.ID}}"),
    "system df": ("type: {{.Type}}\ntotal: {{.TotalCount}}\nactive: {{.Active}}\nsize: {{.Size}}\n"
                  "reclaimable: {{.Reclaimable}}\n", ""),
}


def custom_format(fmt: str | None, quiet: bool = False, raw: str = "") -> str:
    """The template a list command renders with, as docker/cli's New*Format picks it: "" when its default
    table (or, with -q, its list of IDs) applies (no --format, or just "table"); the command's ``raw``
    template (a RAW key) for "raw"; else the user's template, which wins over -q."""
    if not fmt or fmt == "table":
        return ""
    if fmt == "raw" and raw in RAW:
        full, short = RAW[raw]
        return (short or full) if quiet else full
    return fmt


def render(fmt: str, rows: list[dict[str, Any]], headers: dict[str, str] | None = None, *,
           command_headers: dict[str, str] = IMAGE_HEADERS, go_type: str = "",
           errors: str = "template parsing error: ") -> str:
    """--format: "json" (one JSON object per line, as ``{{json .}}``), "table ..." or a Go template per row.
    Each row is docker/cli's formatter context (``go_type``, e.g. "*formatter.imageContext"): naming a field
    it lacks is an error; a row's ``_json`` dict, if any, is what ``{{json .}}`` shows of it instead of its
    fields. ``command_headers`` is the command's header map (images' by default); ``headers``
    overrides entries. A template that fails to parse or run raises, its message after ``errors`` (ps has
    its own wording, see :func:`ps_template_error`)."""
    from skiff.cli.gotemplate import TemplateError
    from skiff.cli.gotemplate_funcs import GoContext, GoMethod
    from skiff.cli.render import render_table

    if fmt == "json":
        fmt = "{{json .}}"
    ctx = []
    for r in rows:  # a callable field is a method with an argument: {{.Label "key"}}
        items = {k: GoMethod(k, v) if callable(v) and not isinstance(v, GoMethod) else v
                 for k, v in r.items() if k not in ("_go_type", "_json")}
        c = GoContext(items, r.get("_go_type", go_type) or None)
        c.json_view = r.get("_json")  # a context whose MarshalJSON differs from its fields (search's booleans)
        ctx.append(c)
    try:
        out: str = render_table(fmt, ctx, headers={**command_headers, **(headers or {})})
    except TemplateError as e:
        raise template_error(e, errors) from None
    return out[:-1] if out.endswith("\n") else out  # the caller prints it with one newline


def template_error(e: Exception, prefix: str, parse_prefix: str | None = None) -> Exception:
    """docker/cli's wording for a --format that does not parse or run: ``prefix`` and Go's message (exit 1).
    ``parse_prefix``: another prefix for a template that does not parse (ps: "failed to parse template: ")."""
    from skiff.cli.gotemplate import TemplateError

    msg = str(getattr(e, "message", e))
    parsing = msg.startswith("template parsing error: ")
    body = msg.removeprefix("template parsing error: ")
    cut = body.rfind(" (in ")
    if parsing and cut > 0 and body.endswith(("')", '")')):  # skiff's parse errors name the template; Go's not
        body = body[:cut]
    return TemplateError((parse_prefix if parsing and parse_prefix else prefix) + body, exit_code=1)


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
