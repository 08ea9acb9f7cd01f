"""skiff images / image ls: list images (Docker's columns, -q, -a, --digests, --no-trunc, --filter, --format)."""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import argparse


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("repository", nargs="?", help="Show only images of this repository")
    p.add_argument("-a", "--all", action="store_true", help="Show all images (default hides intermediate images)")
    p.add_argument("--digests", action="store_true", help="Show digests")
    p.add_argument("-f", "--filter", action="append", default=[], help="Filter output based on conditions")
    p.add_argument("--format", help="Format output using a Go template, or json")
    p.add_argument("--no-trunc", action="store_true", help="Don't truncate output")
    p.add_argument("-q", "--quiet", action="store_true", help="Only show image IDs")


def run(args: argparse.Namespace, opts: object) -> int:
    from skiff.cli.commands._fmt import custom_format, go_time, human_size, since, table
    from skiff.engine.context import EngineContext
    from skiff.engine.image_list import ListOptions, list_images

    ctx = EngineContext.from_options(opts)  # type: ignore[arg-type]
    rows = list_images(ctx, ListOptions(all=args.all, filters=args.filter,
                                                    repository=args.repository))

    def image_id(full: str) -> str:
        return full if args.no_trunc else full.split(":", 1)[1][:12]

    raw = "images --digests" if args.digests else "images"
    fmt = custom_format(args.format, args.quiet, raw)  # a template of the user's wins over -q
    if args.quiet and not fmt:
        seen: list[str] = []
        for r in rows:
            if image_id(r.id) not in seen:
                seen.append(image_id(r.id))
        if seen:
            print("\n".join(seen))
        return 0
    if fmt:
        from skiff.cli.commands._fmt import render

        # docker/cli imageContext: Size has 3 significant digits, VirtualSize go-units' HumanSize (4)
        data = [{"Containers": "N/A", "CreatedAt": go_time(r.created), "CreatedSince": since(r.created),
                 "Digest": r.digest, "ID": image_id(r.id), "Repository": r.repository, "SharedSize": "N/A",
                 "Size": human_size(r.size), "Tag": r.tag, "UniqueSize": "N/A",
                 "VirtualSize": human_size(r.size, 4)} for r in rows]
        out = render(fmt, data, go_type="*formatter.imageContext")
        if out:
            print(out)
        return 0
    headers = ["REPOSITORY", "TAG", *(["DIGEST"] if args.digests else []), "IMAGE ID", "CREATED", "SIZE"]
    body = [[r.repository, r.tag, *([r.digest] if args.digests else []), image_id(r.id), since(r.created),
             human_size(r.size)] for r in rows]
    print(table(headers, body))
    return 0
