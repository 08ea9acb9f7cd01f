"""skiff image prune: remove dangling (or, with -a, all unused) images."""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import argparse


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("-a", "--all", action="store_true", help="Remove all unused images, not just dangling ones")
    p.add_argument("--filter", action="append", default=[], help="Provide filter values (e.g. \"until=<timestamp>\")")
    p.add_argument("-f", "--force", action="store_true", help="Do not prompt for confirmation")


def run(args: argparse.Namespace, opts: object) -> int:
    from skiff.cli.commands._fmt import human_size
    from skiff.engine.context import EngineContext
    from skiff.engine.images import ImageEngine

    if not args.force and sys.stdin.isatty():
        what = "all images without at least one container associated to them" if args.all else \
            "all dangling images"
        ans = input(f"WARNING! This will remove {what}.\nAre you sure you want to continue? [y/N] ")
        if ans.strip().lower() not in ("y", "yes"):
            return 0
    rep = ImageEngine(EngineContext.from_options(opts)).prune(args.all, args.filter)  # type: ignore[arg-type]
    if rep.untagged or rep.deleted:
        print("Deleted Images:")
        for n in rep.untagged:
            print(f"untagged: {n}")
        for i in rep.deleted:
            print(f"deleted: {i}")
        print()
    print(f"Total reclaimed space: {human_size(rep.reclaimed, 4)}")  # go-units HumanSize
    return 0
