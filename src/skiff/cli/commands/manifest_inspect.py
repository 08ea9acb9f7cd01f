"""skiff manifest inspect REF: the manifest or manifest list exactly as the registry serves it."""

from __future__ import annotations

import sys

from skiff.cli.commands.pull import add_registry_flags, registry_options

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import argparse


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("reference")
    add_registry_flags(p)


def run(args: argparse.Namespace, opts: object) -> int:
    from skiff.engine.registry import manifest_inspect

    report = manifest_inspect(getattr(opts, "root", None), args.reference, registry_options(args))
    out = sys.stdout.buffer
    out.write(report.raw if report.raw.endswith(b"\n") else report.raw + b"\n")
    out.flush()
    return 0
