"""skiff rmi / image rm: remove images (untag names; delete when the last name or the ID is given)."""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import argparse


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument("-f", "--force", action="store_true", help="Force removal of the image")
    p.add_argument("--no-prune", action="store_true", help="Do not delete untagged parents")


def run(args: argparse.Namespace, opts: object) -> int:
    from skiff.engine.context import EngineContext
    from skiff.engine.images import ImageEngine
    from skiff.errors import SkiffError

    rep = ImageEngine(EngineContext.from_options(opts)).remove(args.images, args.force)  # type: ignore[arg-type]
    for n in rep.untagged:
        print(f"Untagged: {n}")
    for i in rep.deleted:
        print(f"Deleted: {i}")
    if rep.errors:
        for e in rep.errors[:-1]:
            print(f"Error: {e}", file=sys.stderr)
        raise SkiffError(rep.errors[-1])
    return 0
