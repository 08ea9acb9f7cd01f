"""skiff history / image history: the layers of an image, newest first."""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import argparse


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("image", metavar="IMAGE")
    p.add_argument("--format", help="Format output using a Go template, or json")
    p.add_argument("-H", "--human", action="store_true", default=True,
                   help="Print sizes and dates in human readable format (-H=false for raw values)")
    p.add_argument("--no-trunc", action="store_true", help="Don't truncate output")
    p.add_argument("-q", "--quiet", action="store_true", help="Only show image IDs")


def rfc3339(ts: float) -> str:
    """Go's ``time.Unix(ts, 0).Format(time.RFC3339)``: local time, ``Z`` when the zone is UTC."""
    import datetime as dt

    if not ts:
        return "0001-01-01T00:00:00Z"
    t = dt.datetime.fromtimestamp(int(ts)).astimezone()
    text = t.isoformat(timespec="seconds")
    return text[:-6] + "Z" if t.utcoffset() == dt.timedelta(0) else text


def run(args: argparse.Namespace, opts: object) -> int:
    from skiff.cli.commands._fmt import human_size, since, table
    from skiff.engine.context import EngineContext
    from skiff.engine.images import ImageEngine

    entries = ImageEngine(EngineContext.from_options(opts)).history(args.image)  # type: ignore[arg-type]

    def ident(i: str) -> str:
        return i if args.no_trunc or i == "<missing>" else i.split(":", 1)[1][:12]

    def created_by(s: str) -> str:
        s = s.replace("\t", " ")
        return s if args.no_trunc or len(s) <= 45 else s[:44] + "…"

    # docker/cli formatter_history.go: CreatedSince and Size are raw with -H=false; CreatedAt is RFC 3339
    def created_since(ts: float) -> str:
        return since(ts) if args.human else rfc3339(ts)

    def size(n: int) -> str:
        return human_size(n) if args.human else str(n)

    from skiff.cli.commands._fmt import custom_format

    fmt = custom_format(args.format, args.quiet)  # a template of the user's wins over -q
    if args.quiet and not fmt:
        print("\n".join(ident(e.id) for e in entries))
        return 0
    if fmt:
        from skiff.cli.commands._fmt import render

        data = [{"ID": ident(e.id), "CreatedSince": created_since(e.created), "CreatedAt": rfc3339(e.created),
                 "CreatedBy": created_by(e.created_by), "Size": size(e.size), "Comment": e.comment}
                for e in entries]
        out = render(fmt, data, {"ID": "IMAGE"}, go_type="*image.historyContext")
        if out:
            print(out)
        return 0
    # docker/cli NewHistoryFormat: -H=false shows CreatedAt in the second column
    rows = [[ident(e.id), created_since(e.created), created_by(e.created_by), size(e.size), e.comment]
            for e in entries]
    print(table(["IMAGE", "CREATED" if args.human else "CREATED AT", "CREATED BY", "SIZE", "COMMENT"], rows))
    return 0
