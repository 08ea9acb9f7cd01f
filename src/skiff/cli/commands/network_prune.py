"""skiff network prune: remove every user network no container uses."""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import argparse


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("-f", "--force", action="store_true", help="Do not prompt for confirmation")
    p.add_argument("--filter", action="append", default=[],
                   help='Provide filter values (e.g. "until=<timestamp>", "label=key[=value]", "label!=key")')


def run(args: argparse.Namespace, opts: object) -> int:
    from skiff.engine.context import EngineContext
    from skiff.engine.network_admin import NetworkAdmin

    admin = NetworkAdmin(EngineContext.from_options(opts))  # type: ignore[arg-type]
    admin.check_prune_filters(args.filter)  # a bad filter fails before the prompt
    if not args.force and sys.stdin.isatty():
        ans = input("WARNING! This will remove all custom networks not used by at least one container.\n"
                    "Are you sure you want to continue? [y/N] ")
        if ans.strip().lower() not in ("y", "yes"):
            return 0
    rep = admin.prune(args.filter)
    if rep.removed:
        print("Deleted Networks:")
        print("\n".join(rep.removed))
    return 0
