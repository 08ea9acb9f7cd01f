"""skiff history / image history: the layers of an image, newest first."""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import argparse


def configure(p: argparse.ArgumentParser) -> None:
    import argparse

    p.add_argument("image", metavar="IMAGE")
    p.add_argument("--format", help="Format output using a Go template, or json")
    p.add_argument("-H", "--human", action=argparse.BooleanOptionalAction, default=True,
                   help="Print sizes and dates in human readable format")
    p.add_argument("--no-trunc", action="store_true", help="Don't truncate output")
    p.add_argument("-q", "--quiet", action="store_true", help="Only show image IDs")


def run(args: argparse.Namespace, opts: object) -> int:
    from skiff.cli.commands._fmt import go_time, human_size, since, table
    from skiff.engine.context import EngineContext
    from skiff.engine.images import ImageEngine

    entries = ImageEngine(EngineContext.from_options(opts)).history(args.image)  # type: ignore[arg-type]

    def ident(i: str) -> str:
        return i if args.no_trunc or i == "<missing>" else i.split(":", 1)[1][:12]

    def created_by(s: str) -> str:
        return s if args.no_trunc or len(s) <= 45 else s[:44] + "…"

    if args.quiet:
        print("\n".join(ident(e.id) for e in entries))
        return 0
    if args.format:
        from skiff.cli.commands._fmt import render

        data = [{"ID": ident(e.id), "CreatedSince": since(e.created), "CreatedAt": go_time(e.created),
                 "CreatedBy": created_by(e.created_by), "Size": human_size(e.size), "Comment": e.comment}
                for e in entries]
        print(render(args.format, data, {"ID": "IMAGE"}))
        return 0
    rows = [[ident(e.id), since(e.created) if args.human else go_time(e.created), created_by(e.created_by),
             human_size(e.size) if args.human else str(e.size), e.comment] for e in entries]
    print(table(["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"], rows))
    return 0
