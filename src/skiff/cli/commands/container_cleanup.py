"""skiff container cleanup ID: the monitor's exit command (record the exit, release resources, restart)."""

from __future__ import annotations

from skiff.cli.commands.container_common import engine

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import argparse


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("container")


def run(args: argparse.Namespace, opts: object) -> int:
    engine(opts).cleanup(args.container)
    return 0
