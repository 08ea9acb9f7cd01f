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
    from skiff.cli.commands._fmt import inspect_each
    from skiff.engine.context import EngineContext
    from skiff.engine.network_admin import NetworkAdmin
    from skiff.errors import NotFoundError

    admin = NetworkAdmin(EngineContext.from_options(opts))  # type: ignore[arg-type]
    return inspect_each(args.networks, lambda name: admin.inspect(name).data, args.format, "network",
                        NotFoundError)
