"""skiff manifest inspect [-v] [MANIFEST_LIST] MANIFEST: a local manifest list (or one of its entries) as
docker/cli prints it; otherwise the manifest or manifest list exactly as the registry serves it."""

from __future__ import annotations

import sys
from typing import Any

from skiff.cli.commands.pull import add_registry_flags, registry_options

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import argparse


def add_insecure_flag(p: argparse.ArgumentParser, help: str = "Allow communication with an insecure registry") -> None:
    p.add_argument("--insecure", action="store_true", help=help)


def manifest_registry_options(args: argparse.Namespace) -> Any:
    """The registry options of pull/push; docker's --insecure is --tls-verify=false unless that is given."""
    opts = registry_options(args)
    if getattr(args, "insecure", False) and opts.tls_verify is None:
        from skiff.records import replace

        opts = replace(opts, tls_verify=False)
    return opts


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("reference", metavar="MANIFEST_LIST")
    p.add_argument("manifest", nargs="?", metavar="MANIFEST")
    add_insecure_flag(p)
    p.add_argument("--verbose", "-v", action="store_true", help="Output additional info including layers and platform")
    add_registry_flags(p)


def run(args: argparse.Namespace, opts: Any) -> int:
    from skiff.engine.registry import manifest_inspect
    from skiff.engine.registry_manifests import manifest_inspect_local, manifest_inspect_verbose_remote

    out = sys.stdout.buffer
    root = opts.root
    if args.manifest is not None:
        text = manifest_inspect_local(root, args.reference, args.manifest, verbose=args.verbose)
    else:
        text = manifest_inspect_local(root, None, args.reference, verbose=args.verbose)
    if text is None and args.verbose:
        text = manifest_inspect_verbose_remote(root, args.reference, manifest_registry_options(args))
    if text is None:
        report = manifest_inspect(root, args.reference, manifest_registry_options(args))
        text = report.raw if report.raw.endswith(b"\n") else report.raw + b"\n"
    out.write(text)
    out.flush()
    return 0
