"""skiff image inspect: Docker's JSON for one or more images."""

from __future__ import annotations

import argparse
import json
import sys


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument("-f", "--format", help="Format output using a Go template")


def run(args: argparse.Namespace, opts: object) -> int:
    from skiff.engine.context import EngineContext
    from skiff.engine.images import ImageEngine
    from skiff.errors import NotFoundError, SkiffError

    eng = ImageEngine(EngineContext.from_options(opts))  # type: ignore[arg-type]
    found = []
    missing: list[str] = []
    for name in args.images:
        try:
            found.append(eng.inspect(name))
        except NotFoundError:
            missing.append(name)
    if args.format:
        from skiff.cli.commands._fmt import render_one

        for obj in found:
            print(render_one(args.format, obj))
    else:
        print(json.dumps(found, indent=4))
    if missing:
        for name in missing[:-1]:
            print(f"Error: No such image: {name}", file=sys.stderr)
        raise SkiffError(f"No such image: {missing[-1]}")
    return 0
