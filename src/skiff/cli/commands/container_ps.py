"""skiff ps / container ls: Docker's columns, -a, -q, -n, -l, --filter, --format, --no-trunc."""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import argparse


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
    from skiff.cli.commands.container_common import as_daemon_error, engine
    from skiff.engine.containers_query import ps
    from skiff.errors import SkiffError

    eng = engine(opts)
    try:
        rows = ps(eng, all=args.all, last=1 if args.latest else args.last, filters=args.filter,
                  no_trunc=args.no_trunc)
    except SkiffError as e:
        raise as_daemon_error(e) from None
    if args.quiet:
        for r in rows:
            print(r.id)
        return 0
    if args.format and args.format != "table":
        from skiff.cli.commands._fmt import render

        data = [{"ID": r.id, "Names": ",".join(r.names), "Image": r.image, "Command": r.command,
                 "CreatedAt": r.created, "RunningFor": r.created, "State": r.state, "Status": r.status,
                 "Ports": r.ports, "Labels": ",".join(f"{k}={v}" for k, v in sorted(r.labels.items())),
                 "Mounts": ",".join(r.mounts), "Size": r.size, "Networks": ""} for r in rows]
        out = render(args.format, data)
        if out:
            print(out)
        return 0
    from skiff.cli.commands._fmt import table

    headers = ["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"]
    print(table(headers, [[r.id, r.image, r.command, r.created, r.status, r.ports, ",".join(r.names)]
                          for r in rows]))
    return 0
