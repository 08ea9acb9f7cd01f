"""skiff logs: the json-file log (-f, --tail, -t, --since, --until)."""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import argparse


def configure(p: argparse.ArgumentParser) -> None:
    p.allow_abbrev = False
    p.add_argument("container")
    p.add_argument("-f", "--follow", action="store_true", help="Follow log output")
    p.add_argument("-n", "--tail", default="all", help='Number of lines to show from the end of the logs')
    p.add_argument("-t", "--timestamps", action="store_true", help="Show timestamps")
    p.add_argument("--since", help="Show logs since timestamp or relative (e.g. 42m)")
    p.add_argument("--until", help="Show logs before a timestamp or relative (e.g. 42m)")
    p.add_argument("--details", action="store_true", help="Show extra details provided to logs")


def run(args: argparse.Namespace, opts: object) -> int:
    from skiff.cli.commands.container_common import engine
    from skiff.engine.containers_query import logs

    eng = engine(opts)
    out, err = sys.stdout.buffer, sys.stderr.buffer
    for stream, ts, text in logs(eng, args.container, follow=args.follow, tail=args.tail, since=args.since,
                                 until=args.until):
        line = (f"{ts} {text}" if args.timestamps else text).encode()
        target = err if stream == "stderr" else out
        target.write(line)
        if args.follow:
            target.flush()
    out.flush()
    err.flush()
    return 0
