"""skiff manifest create [-a] MANIFEST_LIST MANIFEST [MANIFEST...]: a local manifest list of images read
from their registry (docker manifest create)."""

from __future__ import annotations

from typing import Any

from skiff.cli.commands.manifest_inspect import add_insecure_flag, manifest_registry_options
from skiff.cli.commands.pull import add_registry_flags

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import argparse


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("manifest_list", metavar="MANIFEST_LIST")
    p.add_argument("manifests", nargs="+", metavar="MANIFEST")
    p.add_argument("--amend", "-a", action="store_true", help="Amend an existing manifest list")
    add_insecure_flag(p)
    add_registry_flags(p)


def run(args: argparse.Namespace, opts: Any) -> int:
    from skiff.engine.registry_manifests import manifest_create

    target = manifest_create(opts.root, args.manifest_list, args.manifests, manifest_registry_options(args),
                             amend=args.amend)
    print(f"Created manifest list {target}")
    return 0
