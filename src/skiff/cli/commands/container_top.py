"""skiff top CONTAINER [ps OPTIONS]: the container's processes (from its cgroup)."""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import argparse


def configure(p: argparse.ArgumentParser) -> None:
    import argparse

    p.add_argument("container")
    rest = p.add_argument("ps_args", nargs=argparse.REMAINDER, metavar="ps OPTIONS")
    rest.required = False  # argparse counts a REMAINDER positional as required; `top CONTAINER` is enough


def run(args: argparse.Namespace, opts: object) -> int:
    from skiff.cli.commands._fmt import table
    from skiff.cli.commands.container_common import engine
    from skiff.engine.containers_query import top

    header, rows = top(engine(opts), args.container, list(args.ps_args))
    print(table(header, rows, minwidth=20))  # docker/cli top: tabwriter.NewWriter(out, 20, 1, 3, ' ', 0)
    return 0
