"""skiff manifest rm MANIFEST_LIST [MANIFEST_LIST...]: delete local manifest lists (docker manifest rm)."""

from __future__ import annotations

from typing import Any

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import argparse


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("manifest_lists", nargs="+", metavar="MANIFEST_LIST")


def run(args: argparse.Namespace, opts: Any) -> int:
    from skiff.engine.registry_manifests import manifest_rm

    manifest_rm(opts.root, args.manifest_lists)
    return 0
