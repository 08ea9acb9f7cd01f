"""skiff network create: a user-defined bridge network; prints its full ID."""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import argparse


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", metavar="NETWORK")
    p.add_argument("-d", "--driver", default="bridge", help="Driver to manage the Network (only bridge)")
    p.add_argument("--subnet", help="Subnet in CIDR format that represents a network segment")
    p.add_argument("--gateway", help="IPv4 Gateway for the master subnet")
    p.add_argument("--internal", action="store_true", help="Restrict external access to the network")
    p.add_argument("--label", action="append", default=[], help="Set metadata on a network (key=value)")


def run(args: argparse.Namespace, opts: object) -> int:
    from skiff.engine.context import EngineContext
    from skiff.engine.network_admin import CreateOptions, NetworkAdmin

    admin = NetworkAdmin(EngineContext.from_options(opts))  # type: ignore[arg-type]
    rep = admin.create(CreateOptions(name=args.name, driver=args.driver, subnet=args.subnet,
                                     gateway=args.gateway, internal=args.internal, labels=args.label))
    print(rep.id)
    return 0
