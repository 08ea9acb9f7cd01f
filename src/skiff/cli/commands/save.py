"""skiff save / image save: images to a docker archive (default), an OCI archive or an OCI layout folder."""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import argparse


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument("-o", "--output", help="Write to a file (or, for oci-dir, a folder), instead of STDOUT")
    p.add_argument("--format", default="docker-archive",
                   help="docker-archive (default), oci-archive or oci-dir")


def run(args: argparse.Namespace, opts: object) -> int:
    from skiff.engine.context import EngineContext
    from skiff.engine.image_io import ImageIO, SaveOptions, stdout_binary

    io = ImageIO(EngineContext.from_options(opts))  # type: ignore[arg-type]
    out = None if args.output else stdout_binary()
    io.save(SaveOptions(names=args.images, output=args.output, format=args.format), stdout=out)
    return 0
