"""skiff tag / image tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]."""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import argparse


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("source", metavar="SOURCE_IMAGE[:TAG]")
    p.add_argument("target", metavar="TARGET_IMAGE[:TAG]")


def run(args: argparse.Namespace, opts: object) -> int:
    from skiff.engine.context import EngineContext
    from skiff.engine.images import ImageEngine

    ImageEngine(EngineContext.from_options(opts)).tag(args.source, args.target)  # type: ignore[arg-type]
    return 0
