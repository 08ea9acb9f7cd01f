"""skiff stats --no-stream: CPU %, memory usage/limit and pids from each container's cgroup."""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import argparse


def configure(p: argparse.ArgumentParser) -> None:
    p.allow_abbrev = False
    p.add_argument("containers", nargs="*", metavar="CONTAINER")
    p.add_argument("-a", "--all", action="store_true", help="Show all containers (default shows just running)")
    p.add_argument("--no-stream", action="store_true", help="Disable streaming stats and only pull the first result")
    p.add_argument("--no-trunc", action="store_true", help="Do not truncate output")
    p.add_argument("--format", help="Format output using a Go template, or json")


def _size(n: float) -> str:
    units = ["B", "KiB", "MiB", "GiB", "TiB"]
    i = 0
    while n >= 1024 and i < len(units) - 1:
        n /= 1024.0
        i += 1
    return f"{n:.4g}{units[i]}" if i else f"{int(n)}B"


def run(args: argparse.Namespace, opts: object) -> int:
    """docker/cli's stats: a frame a second until interrupted (one with --no-stream). Without names the
    running containers (all with -a) are listed again at each frame, as docker/cli follows start and die
    events; a container that stops while watched shows "--" (its stats stream has ended), one that never ran
    here zeros. On a terminal each frame replaces the last (docker/cli clears the screen)."""
    import sys
    import time

    from skiff.cli.commands._fmt import human_size, table
    from skiff.cli.commands.container_common import as_daemon_error, engine
    from skiff.engine.containers_list import ps
    from skiff.engine.containers_query import stats_many
    from skiff.errors import SkiffError

    eng = engine(opts)
    was_running: set[str] = set()
    redraw = not args.no_stream and sys.stdout.isatty()
    while True:
        names = args.containers or [c.id[:12] for c in ps(eng, all=args.all)]
        try:
            reps = stats_many(eng, names)
        except SkiffError as e:
            raise as_daemon_error(e) from None
        rows = []
        for r in reps:
            gone = not r.running and r.id in was_running and not args.no_stream
            if r.running:
                was_running.add(r.id)
            rows.append({"Container": r.container, "Name": r.name or "--",
                         "ID": r.id[:12] if not args.no_trunc else r.id,
                         "CPUPerc": "--" if gone else f"{r.cpu_percent:.2f}%",
                         "MemUsage": "-- / --" if gone else f"{_size(r.memory_usage)} / {_size(r.memory_limit)}",
                         "MemPerc": "--" if gone else
                         f"{(100.0 * r.memory_usage / r.memory_limit) if r.memory_limit else 0:.2f}%",
                         "NetIO": "--" if gone else f"{human_size(r.net_rx)} / {human_size(r.net_tx)}",
                         "BlockIO": "--" if gone else f"{human_size(r.block_read)} / {human_size(r.block_write)}",
                         "PIDs": "--" if gone else str(r.pids)})
        if redraw:
            sys.stdout.write("\033[2J\033[H")
        if args.format and args.format != "table":
            from skiff.cli.commands._fmt import STATS_HEADERS, render

            print(render(args.format, rows, command_headers=STATS_HEADERS, go_type="*container.statsContext"))
        else:
            print(table(["CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "BLOCK I/O",
                         "PIDS"], [[r["ID"], r["Name"], r["CPUPerc"], r["MemUsage"], r["MemPerc"], r["NetIO"],
                                    r["BlockIO"], r["PIDs"]] for r in rows]))
        sys.stdout.flush()
        if args.no_stream:
            return 0
        time.sleep(0.8)  # with the 0.2 s sample: a frame a second, as docker/cli's
