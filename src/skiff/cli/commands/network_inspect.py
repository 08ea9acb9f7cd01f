"""skiff network inspect: Docker's JSON for one or more networks (-f: a Go template per network)."""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import argparse


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("networks", nargs="+", metavar="NETWORK")
    p.add_argument("-f", "--format", help="Format output using a Go template")
    p.add_argument("-v", "--verbose", action="store_true", help="Verbose output for diagnostics (no effect)")


def run(args: argparse.Namespace, opts: object) -> int:
    from skiff.cli.inspector import Inspector
    from skiff.engine.context import EngineContext
    from skiff.engine.network_admin import NetworkAdmin
    from skiff.errors import NotFoundError

    out = Inspector(args.format)  # a template that does not parse exits 64 before any lookup
    admin = NetworkAdmin(EngineContext.from_options(opts))  # type: ignore[arg-type]
    for name in args.networks:
        try:
            out.add(admin.inspect(name).data)
        except NotFoundError:
            out.missing(f"Error: No such network: {name}")
    return out.flush()
