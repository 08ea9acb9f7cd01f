"""skiff network disconnect: detach a container from a network."""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import argparse


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("network", metavar="NETWORK")
    p.add_argument("container", metavar="CONTAINER")
    p.add_argument("-f", "--force", action="store_true", help="Force the container to disconnect from a network")


def run(args: argparse.Namespace, opts: object) -> int:
    from skiff.engine.context import EngineContext
    from skiff.engine.network_admin import DisconnectOptions, NetworkAdmin

    NetworkAdmin(EngineContext.from_options(opts)).disconnect(  # type: ignore[arg-type]
        DisconnectOptions(network=args.network, container=args.container, force=args.force))
    return 0
