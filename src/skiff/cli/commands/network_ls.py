"""skiff network ls: Docker's columns (NETWORK ID, NAME, DRIVER, SCOPE), -q, --format, --filter."""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import argparse


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("-f", "--filter", action="append", default=[], help="Provide filter values (e.g. 'name=foo')")
    p.add_argument("--format", help="Format output using a Go template, or json")
    p.add_argument("--no-trunc", action="store_true", help="Do not truncate the output")
    p.add_argument("-q", "--quiet", action="store_true", help="Only display network IDs")


def run(args: argparse.Namespace, opts: object) -> int:
    from skiff.cli.commands._fmt import table
    from skiff.engine.context import EngineContext
    from skiff.engine.network_admin import ListOptions, NetworkAdmin

    rows = NetworkAdmin(EngineContext.from_options(opts)).list_networks(ListOptions(filters=args.filter))  # type: ignore[arg-type]

    def nid(full: str) -> str:
        return full if args.no_trunc else full[:12]

    if args.quiet:
        if rows:
            print("\n".join(nid(r.id) for r in rows))
        return 0
    if args.format:
        from skiff.cli.commands._fmt import render

        data = [{"ID": nid(r.id), "Name": r.name, "Driver": r.driver, "Scope": r.scope, "IPv6": "false",
                 "Internal": str(r.internal).lower(), "CreatedAt": r.created,
                 "Labels": ",".join(f"{k}={v}" for k, v in sorted(r.labels.items()))} for r in rows]
        out = render(args.format, data)
        if out:
            print(out)
        return 0
    print(table(["NETWORK ID", "NAME", "DRIVER", "SCOPE"], [[nid(r.id), r.name, r.driver, r.scope] for r in rows]))
    return 0
