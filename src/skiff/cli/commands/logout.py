"""skiff logout [--all] [SERVER]."""

from __future__ import annotations

from skiff.cli.commands.pull import add_registry_flags, registry_options

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import argparse


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("server", nargs="?", help="Registry host (default docker.io)")
    p.add_argument("--all", "-a", action="store_true", help="Remove the credentials of every registry")
    add_registry_flags(p)


def run(args: argparse.Namespace, opts: object) -> int:
    from skiff.engine.registry import LogoutOptions, logout

    report = logout(LogoutOptions(args.server, args.all, registry_options(args)))
    if args.all:
        print(f"Removed login credentials for all registries ({len(report.removed)})")
    for s in report.removed if not args.all else []:
        print(f"Removed login credentials for {s}")
    for s in report.not_logged_in:
        print(f"Not logged in to {s}")
    return 0
