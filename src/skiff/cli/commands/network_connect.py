"""skiff network connect: attach a running container to one more network."""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import argparse


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("network", metavar="NETWORK")
    p.add_argument("container", metavar="CONTAINER")
    p.add_argument("--alias", action="append", default=[], help="Add network-scoped alias for the container")
    p.add_argument("--ip", help="IPv4 address (e.g., 172.30.100.104)")
    p.add_argument("--ip6", help="IPv6 address (not supported: networks are IPv4 only)")
    p.add_argument("--link", action="append", default=[], help="Add link to another container (NAME[:ALIAS])")
    p.add_argument("--link-local-ip", action="append", default=[],
                   help="Add a link-local address for the container (IPv4, 169.254.0.0/16)")
    p.add_argument("--driver-opt", action="append", default=[], help="driver options for the network")


def run(args: argparse.Namespace, opts: object) -> int:
    from skiff.engine.context import EngineContext
    from skiff.engine.network_admin import ConnectOptions, NetworkAdmin

    NetworkAdmin(EngineContext.from_options(opts)).connect(  # type: ignore[arg-type]
        ConnectOptions(network=args.network, container=args.container, aliases=args.alias, ip=args.ip,
                       ip6=args.ip6, links=args.link, link_local_ips=args.link_local_ip,
                       driver_opts=args.driver_opt))
    return 0
