"""skiff network inspect: Docker's JSON for one or more networks (-f: a Go template per network)."""

from __future__ import annotations

import argparse
import json
import sys


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("networks", nargs="+", metavar="NETWORK")
    p.add_argument("-f", "--format", help="Format output using a Go template")
    p.add_argument("-v", "--verbose", action="store_true", help="Verbose output for diagnostics (no effect)")


def run(args: argparse.Namespace, opts: object) -> int:
    from skiff.engine.context import EngineContext
    from skiff.engine.network_admin import NetworkAdmin
    from skiff.errors import NotFoundError

    admin = NetworkAdmin(EngineContext.from_options(opts))  # type: ignore[arg-type]
    found = []
    missing: list[str] = []
    for name in args.networks:
        try:
            found.append(admin.inspect(name).data)
        except NotFoundError:
            missing.append(name)
    if args.format:
        from skiff.cli.commands._fmt import render_one

        for obj in found:
            print(render_one(args.format, obj))
    else:
        print(json.dumps(found, indent=4))
    if missing:
        for name in missing[:-1]:
            print(f"Error: No such network: {name}", file=sys.stderr)
        raise NotFoundError(f"No such network: {missing[-1]}")
    return 0
