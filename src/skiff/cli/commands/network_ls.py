"""skiff network ls: Docker's columns (NETWORK ID, NAME, DRIVER, SCOPE), -q, --format, --filter."""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import argparse
    from typing import Any


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

    from skiff.cli.commands._fmt import custom_format

    fmt = custom_format(args.format, args.quiet, "network ls")  # a template of the user's wins over -q
    if args.quiet and not fmt:
        if rows:
            print("\n".join(nid(r.id) for r in rows))
        return 0
    if fmt:
        from skiff.cli.commands._fmt import go_time_string, render

        def row(r: Any) -> dict[str, Any]:  # docker/cli's networkContext
            labels = dict(r.labels)
            return {"ID": nid(r.id), "Name": r.name, "Driver": r.driver, "Scope": r.scope, "IPv6": "false",
                    "Internal": str(r.internal).lower(), "CreatedAt": go_time_string(r.created),
                    "Labels": ",".join(f"{k}={v}" for k, v in sorted(labels.items())),
                    "Label": lambda name: labels.get(name, "")}

        out = render(fmt, [row(r) for r in rows], {"ID": "NETWORK ID", "IPv6": "IPV6"},
                     go_type="*network.networkContext")
        if out:
            print(out)
        return 0
    print(table(["NETWORK ID", "NAME", "DRIVER", "SCOPE"], [[nid(r.id), r.name, r.driver, r.scope] for r in rows]))
    return 0
