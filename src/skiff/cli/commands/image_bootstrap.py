"""skiff image bootstrap REF --suite SUITE [--include PKG,...] [--mirror URL]: a Debian base image, no registry."""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import argparse


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("reference", metavar="REF")
    p.add_argument("--suite", default="bookworm", help="Debian suite (default bookworm)")
    p.add_argument("--include", action="append", default=[], help="Extra packages, comma separated")
    p.add_argument("--mirror", help="Debian mirror URL (default: the host's apt sources)")
    p.add_argument("--variant", default="minbase", help="debootstrap variant (default minbase)")


def run(args: argparse.Namespace, opts: object) -> int:
    from skiff.engine.bootstrap import BootstrapOptions, bootstrap
    from skiff.engine.context import EngineContext

    include = [p.strip() for arg in args.include for p in arg.split(",") if p.strip()]
    image_id = bootstrap(EngineContext.from_options(opts),  # type: ignore[arg-type]
                         BootstrapOptions(reference=args.reference, suite=args.suite, include=include,
                                          mirror=args.mirror, variant=args.variant))
    print(image_id)
    return 0
