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
    p.add_argument("--ip-range", help="Allocate container ip from a sub-range")
    p.add_argument("--aux-address", action="append", default=[],
                   help="Auxiliary IPv4 addresses used by Network driver (name=IP), never handed out")
    p.add_argument("-o", "--opt", action="append", default=[], help="Set driver specific options (key=value)")
    p.add_argument("--internal", action="store_true", help="Restrict external access to the network")
    p.add_argument("--label", action="append", default=[], help="Set metadata on a network (key=value)")
    p.add_argument("--ipam-driver", default="default", help="IP Address Management Driver (only default)")
    p.add_argument("--ipam-opt", action="append", default=[], help="Set IPAM driver specific options")
    p.add_argument("--ipv4", action="store_true", default=True,  # a pflag boolean: --ipv4=false
                   help="Enable or disable IPv4 address assignment (default true)")
    p.add_argument("--ipv6", action="store_true", help="Enable or disable IPv6 address assignment (not supported)")
    p.add_argument("--attachable", action="store_true", help="Enable manual container attachment")
    p.add_argument("--ingress", action="store_true", help="Create swarm routing-mesh network (swarm only)")
    p.add_argument("--scope", default="", help="Control the network's scope (only local)")
    p.add_argument("--config-only", action="store_true", help="Create a configuration only network")
    p.add_argument("--config-from", default="", help="The network from which to copy the configuration")


def run(args: argparse.Namespace, opts: object) -> int:
    from skiff.engine.context import EngineContext
    from skiff.engine.network_admin import CreateOptions, NetworkAdmin

    admin = NetworkAdmin(EngineContext.from_options(opts))  # type: ignore[arg-type]
    rep = admin.create(CreateOptions(
        name=args.name, driver=args.driver, subnet=args.subnet, gateway=args.gateway, internal=args.internal,
        labels=args.label, ip_range=args.ip_range, aux_addresses=args.aux_address, options=args.opt,
        ipam_driver=args.ipam_driver, ipam_options=args.ipam_opt, ipv4=args.ipv4, ipv6=args.ipv6,
        attachable=args.attachable, ingress=args.ingress, scope=args.scope, config_only=args.config_only,
        config_from=args.config_from))
    print(rep.id)
    return 0
