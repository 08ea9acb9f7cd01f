"""skiff network rm: remove networks (refused while containers are attached); prints each removed name."""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import argparse


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("networks", nargs="+", metavar="NETWORK")
    p.add_argument("-f", "--force", action="store_true", help="Do not error if the network does not exist")


def run(args: argparse.Namespace, opts: object) -> int:
    from skiff.engine.context import EngineContext
    from skiff.engine.network_admin import NetworkAdmin
    from skiff.errors import SkiffError

    rep = NetworkAdmin(EngineContext.from_options(opts)).remove(args.networks)  # type: ignore[arg-type]
    for name in rep.removed:
        print(name)
    errors = [e for e in rep.errors if not (args.force and e.endswith(" not found"))]
    if errors:
        for msg in errors[:-1]:
            print(f"Error: {msg}", file=sys.stderr)
        raise SkiffError(errors[-1])
    return 0
