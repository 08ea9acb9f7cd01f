"""skiff ps / container ls: Docker's columns, -a, -q, -n, -l, --filter, --format, --no-trunc."""

from __future__ import annotations

import time

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import argparse
    from typing import Any

    from skiff.engine.containers_list import ContainerSummary


def configure(p: argparse.ArgumentParser) -> None:
    p.allow_abbrev = False
    p.add_argument("-a", "--all", action="store_true", help="Show all containers (default shows just running)")
    p.add_argument("-q", "--quiet", action="store_true", help="Only display container IDs")
    p.add_argument("-n", "--last", type=int, default=-1, help="Show n last created containers")
    p.add_argument("-l", "--latest", action="store_true", help="Show the latest created container")
    p.add_argument("-f", "--filter", action="append", default=[], help="Filter output based on conditions")
    p.add_argument("--format", help="Format output using a Go template, or json")
    p.add_argument("--no-trunc", action="store_true", help="Don't truncate output")
    p.add_argument("-s", "--size", action="store_true", help="Display total file sizes")


def run(args: argparse.Namespace, opts: object) -> int:
    from skiff.cli.commands._fmt import custom_format
    from skiff.cli.commands.container_common import as_daemon_error, engine
    from skiff.engine.containers_list import ps
    from skiff.errors import SkiffError

    eng = engine(opts)
    # docker/cli NewContainerFormat: a template of the user's wins over -q; "table" and "raw" are its own
    fmt = custom_format(args.format, args.quiet, "ps" if not args.size else "")
    if args.format == "raw" and args.size:
        from skiff.cli.commands._fmt import RAW

        fmt = RAW["ps"][1] if args.quiet else RAW["ps"][0] + "size: {{.Size}}\n"
    if fmt:
        _check_template(fmt)  # docker/cli runs the template once on an empty container first
    size = args.size or ".Size" in fmt or "json" in fmt
    try:
        found = ps(eng, all=args.all, last=1 if args.latest else args.last, filters=args.filter, size=size)
    except SkiffError as e:
        raise as_daemon_error(e) from None
    trunc = not args.no_trunc
    if args.quiet and not fmt:
        for c in found:
            print(c.id[:12] if trunc else c.id)
        return 0
    rows = [row(c, trunc) for c in found]
    if fmt:
        from skiff.cli.commands._fmt import PS_HEADERS, render

        out = render(fmt, rows, command_headers=PS_HEADERS, go_type=PS_TYPE,
                     errors="failed to execute template: ")
        if out:
            print(out)
        return 0
    from skiff.cli.commands._fmt import table

    headers = ["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"]
    keys = ["ID", "Image", "Command", "RunningFor", "Status", "Ports", "Names"]
    if args.size:
        headers.append("SIZE")
        keys.append("Size")
    print(table(headers, [[r[k] for k in keys] for r in rows]))
    return 0


PS_TYPE = "*formatter.ContainerContext"


def _check_template(fmt: str) -> None:
    """docker/cli buildContainerListOptions: the template is parsed and run on an empty ContainerContext
    before any container is listed, so a bad one fails ("failed to parse/execute template: ...", exit 1)
    even when no container would be shown."""
    from skiff.cli.commands._fmt import template_error
    from skiff.cli.gotemplate import TemplateError
    from skiff.cli.gotemplate_funcs import GoContext, GoMethod
    from skiff.cli.render import render_template

    body = fmt[len("table"):].lstrip(" ") if fmt.startswith("table") else fmt
    empty: dict[str, Any] = {k: "" for k in ("Command", "CreatedAt", "ID", "Image", "Labels", "LocalVolumes",
                                             "Mounts", "Names", "Networks", "Ports", "RunningFor", "Size",
                                             "State", "Status")}
    empty["Label"] = GoMethod("Label", lambda name: "")
    try:
        render_template("{{json .}}" if body == "json" else body, GoContext(empty, PS_TYPE), unescape=True)
    except TemplateError as e:
        raise template_error(e, "failed to execute template: ", "failed to parse template: ") from None


def row(c: ContainerSummary, trunc: bool) -> dict[str, Any]:
    """docker/cli's ContainerContext for one container: the fields a --format template can name."""
    from skiff.cli.commands._fmt import (
        displayable_ports,
        ellipsis,
        go_quote,
        go_time,
        human_duration,
        human_size,
    )

    image = c.image
    if trunc and image.startswith("sha256:"):
        image = image[7:19]
    srw, sroot = c.size_rw or 0, c.size_root_fs or 0
    size = human_size(srw) + (f" (virtual {human_size(sroot)})" if sroot > 0 else "")
    labels = dict(c.labels)

    def label(name: str) -> str:
        return labels.get(name, "")

    return {"Command": go_quote(ellipsis(c.command, 20) if trunc else c.command),
            "CreatedAt": go_time(c.created),
            "ID": c.id[:12] if trunc else c.id,
            "Image": image or "<no image>",
            "Labels": ",".join(sorted(f"{k}={v}" for k, v in labels.items())),
            "Label": label,
            "LocalVolumes": str(sum(1 for m in c.mounts if m.driver == "local")),
            "Mounts": ",".join(ellipsis(m.name or m.source, 15) if trunc else (m.name or m.source)
                               for m in c.mounts),
            "Names": c.names[0] if trunc and c.names else ",".join(c.names),
            "Networks": ",".join(c.networks),
            "Ports": displayable_ports([(p.private_port, p.type, p.ip, p.public_port) for p in c.ports]),
            "RunningFor": human_duration(max(0.0, time.time() - c.created)) + " ago",
            "Size": size,
            "State": c.state,
            "Status": c.status}
