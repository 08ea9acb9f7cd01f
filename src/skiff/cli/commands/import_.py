"""skiff import / image import: a rootfs tarball (file or - for STDIN) as a one-layer image."""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import argparse


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("source", metavar="file|-")
    p.add_argument("reference", nargs="?", metavar="REPOSITORY[:TAG]")
    p.add_argument("-c", "--change", action="append", default=[], help="Apply Dockerfile instruction to the image")
    p.add_argument("-m", "--message", help="Set commit message for imported image")
    p.add_argument("--platform", help="Set platform if server is multi-platform capable")


def run(args: argparse.Namespace, opts: object) -> int:
    from skiff.engine.context import EngineContext
    from skiff.engine.image_io import ImageIO, ImportOptions

    io = ImageIO(EngineContext.from_options(opts))  # type: ignore[arg-type]
    image_id = io.import_(ImportOptions(source=args.source, reference=args.reference, changes=args.change,
                                        message=args.message, platform=args.platform), stdin=sys.stdin.buffer)
    print(image_id)
    return 0
