"""skiff top CONTAINER [ps OPTIONS]: the container's processes (from its cgroup)."""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import argparse


def configure(p: argparse.ArgumentParser) -> None:
    import argparse

    p.add_argument("container")
    p.add_argument("ps_args", nargs=argparse.REMAINDER)


def run(args: argparse.Namespace, opts: object) -> int:
    from skiff.cli.commands._fmt import table
    from skiff.cli.commands.container_common import as_daemon_error, engine
    from skiff.engine.containers_query import top
    from skiff.errors import SkiffError

    try:
        header, rows = top(engine(opts), args.container, list(args.ps_args))
    except SkiffError as e:
        raise as_daemon_error(e) from None
    print(table(header, rows))
    return 0
