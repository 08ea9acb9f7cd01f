"""skiff image inspect: Docker's JSON for one or more images."""

from __future__ import annotations

import json

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import argparse


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument("-f", "--format", help="Format output using a Go template")
    p.add_argument("--size-breakdown", action="store_true",
                   help="Show each layer's size and the instruction that made it, largest first")


def run(args: argparse.Namespace, opts: object) -> int:
    from skiff.engine.context import EngineContext
    from skiff.engine.images import ImageEngine
    from skiff.errors import SkiffError

    if args.size_breakdown:
        return _size_breakdown(args.images, args.format, opts)
    from skiff.cli.inspector import Inspector
    from skiff.errors import NotFoundError

    out = Inspector(args.format)  # a template that does not parse exits 64 before any lookup
    eng = ImageEngine(EngineContext.from_options(opts))  # type: ignore[arg-type]
    for name in args.images:
        try:
            out.add(eng.inspect(name))
        except NotFoundError:
            out.missing(f"Error: No such image: {name}")
        except SkiffError as e:
            out.missing(f"Error: {e.message}")
    return out.flush()


def _size_breakdown(images: list[str], fmt: str | None, opts: object) -> int:
    """--size-breakdown: per image, its layers largest first (unpacked and compressed size, share of the
    unpacked total, the instruction that made it) and the totals; -f json prints the report as JSON."""
    from skiff.cli.commands._fmt import human_size, table
    from skiff.engine.context import EngineContext
    from skiff.engine.size_report import clean_instruction, size_report

    store = EngineContext.from_options(opts).store  # type: ignore[arg-type]
    reports = [size_report(store, name) for name in images]
    if fmt:
        from skiff.cli.commands._fmt import render_one

        objs = [r.to_obj() for r in reports]
        print(json.dumps(objs, indent=4) if fmt == "json" else "\n".join(render_one(fmt, o) for o in objs))
        return 0

    def size(n: int | None) -> str:
        return "?" if n is None else human_size(n)

    for i, r in enumerate(reports):
        total = r.total_unpacked
        rows = [[size(x.unpacked), size(x.compressed), f"{100 * (x.unpacked or 0) / total:.1f}%" if total else "-",
                 str(x.index), clean_instruction(x.created_by) or "(no history)"] for x in r.layers]
        rows.append([human_size(total), human_size(r.total_compressed), "100%" if total else "-",
                     str(len(r.layers)), "TOTAL"])
        print(("\n" if i else "") + f"{', '.join(r.names) or r.image_id} ({r.image_id[7:19]})")
        print(table(["SIZE", "COMPRESSED", "SHARE", "LAYER", "CREATED BY"], rows))
    return 0
