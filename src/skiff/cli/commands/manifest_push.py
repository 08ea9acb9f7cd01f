"""skiff manifest push [-p] MANIFEST_LIST: push a local manifest list (docker manifest push)."""

from __future__ import annotations

from typing import Any

from skiff.cli.commands.manifest_inspect import add_insecure_flag, manifest_registry_options
from skiff.cli.commands.pull import add_registry_flags

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import argparse


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("manifest_list", metavar="MANIFEST_LIST")
    add_insecure_flag(p, "Allow push to an insecure registry")
    p.add_argument("--purge", "-p", action="store_true", help="Remove the local manifest list after push")
    add_registry_flags(p)


def run(args: argparse.Namespace, opts: Any) -> int:
    from skiff.engine.registry_manifests import manifest_push

    def copied(ref: str, digest: str) -> None:
        print(f"Pushed ref {ref} with digest: {digest}", flush=True)

    report = manifest_push(opts.root, args.manifest_list, manifest_registry_options(args), purge=args.purge,
                           copied=copied)
    print(report.digest)
    return 0
