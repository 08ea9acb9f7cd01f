"""skiff load / image load: images from a docker archive, an OCI archive or an OCI layout (file, folder or STDIN)."""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import argparse


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("-i", "--input", help="Read from tar archive file (or OCI layout folder), instead of STDIN")
    p.add_argument("-q", "--quiet", action="store_true", help="Suppress the load output")


def run(args: argparse.Namespace, opts: object) -> int:
    from skiff.engine.context import EngineContext
    from skiff.engine.image_io import ImageIO, LoadOptions

    io = ImageIO(EngineContext.from_options(opts))  # type: ignore[arg-type]
    rep = io.load(LoadOptions(input=args.input), stdin=sys.stdin.buffer)
    if not args.quiet:
        for n in rep.loaded:
            print(f"Loaded image: {n}")
        for i in rep.ids:
            print(f"Loaded image ID: {i}")
    return 0
