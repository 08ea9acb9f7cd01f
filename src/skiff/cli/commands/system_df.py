"""skiff system df: disk usage of images, containers, volumes and build cache."""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import argparse


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", help="Format output using a Go template, or json")
    p.add_argument("-v", "--verbose", action="store_true", help="Show detailed information on space usage")


def run(args: argparse.Namespace, opts: object) -> int:
    from skiff.cli.commands._fmt import human_size, since, table
    from skiff.engine.context import EngineContext
    from skiff.engine.image_list import parse_time
    from skiff.engine.system import df
    from skiff.oci import reference

    rep = df(EngineContext.from_options(opts))  # type: ignore[arg-type]

    def reclaim(r: object) -> str:
        size, rec = r.size, r.reclaimable  # type: ignore[attr-defined]
        pct = f" ({int(100 * rec / size)}%)" if size and r.type != "Build Cache" else ""  # type: ignore[attr-defined]
        return human_size(rec) + pct

    if args.format:
        from skiff.cli.commands._fmt import render

        data = [{"Type": r.type, "TotalCount": str(r.total), "Active": str(r.active), "Size": human_size(r.size),
                 "Reclaimable": reclaim(r)} for r in rep.rows]
        print(render(args.format, data))
        return 0
    print(table(["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"],
                [[r.type, str(r.total), str(r.active), human_size(r.size), reclaim(r)] for r in rep.rows]))
    if args.verbose:
        print("\nImages space usage:\n")
        rows = []
        for i in rep.images:
            names: list[reference.Reference | None] = [reference.parse(n) for n in i.names] or [None]
            for ref in names:
                rows.append([ref.familiar_name() if ref else "<none>", (ref.tag or "<none>") if ref else "<none>",
                             i.id.split(":", 1)[1][:12], since(parse_time(i.created)), human_size(i.size),
                             human_size(i.shared_size), human_size(i.unique_size), str(i.containers)])
        print(table(["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE", "SHARED SIZE", "UNIQUE SIZE",
                     "CONTAINERS"], rows))
    return 0
