"""skiff manifest annotate [OPTIONS] MANIFEST_LIST MANIFEST: set the platform of an image in a local
manifest list (docker manifest annotate)."""

from __future__ import annotations

from typing import Any

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import argparse


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("manifest_list", metavar="MANIFEST_LIST")
    p.add_argument("manifest", metavar="MANIFEST")
    p.add_argument("--arch", default="", help="Set architecture")
    p.add_argument("--os", default="", help="Set operating system")
    p.add_argument("--os-features", action="append", default=None, help="Set operating system feature")
    p.add_argument("--os-version", default="", help="Set operating system version")
    p.add_argument("--variant", default="", help="Set architecture variant")


def run(args: argparse.Namespace, opts: Any) -> int:
    from skiff.engine.registry_manifests import AnnotateOptions, manifest_annotate

    # pflag's StringSlice: repeated, and each value split at commas
    feats = tuple(f for v in args.os_features or [] for f in v.split(",") if f)
    manifest_annotate(opts.root, args.manifest_list, args.manifest,
                      AnnotateOptions(args.os, args.arch, args.variant, args.os_version, feats))
    return 0
