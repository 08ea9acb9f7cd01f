"""skiff builder prune: drop the build cache (records and cache mounts) and the blobs only it kept."""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import argparse


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("-a", "--all", action="store_true", help="Remove all unused build cache")
    p.add_argument("-f", "--force", action="store_true", help="Do not prompt for confirmation")


def run(args: argparse.Namespace, opts: object) -> int:
    from skiff.engine import build as engine_build
    from skiff.engine.context import EngineContext

    records, mounts = engine_build.prune(EngineContext.from_options(opts))  # type: ignore[arg-type]
    print(f"Deleted build cache records: {records}, cache mounts: {mounts}")
    return 0
