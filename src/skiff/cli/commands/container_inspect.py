"""skiff inspect / container inspect: Docker's JSON shape, -f with the Go-template formatter.

Plain ``inspect`` resolves containers first, then images (and volumes with --type volume), like Docker."""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import argparse


def configure(p: argparse.ArgumentParser) -> None:
    p.allow_abbrev = False
    p.add_argument("names", nargs="+", metavar="NAME")
    p.add_argument("-f", "--format", help="Format output using a Go template")
    p.add_argument("-s", "--size", action="store_true", help="Display total file sizes")
    if p.prog.split()[-1] == "inspect" and len(p.prog.split()) == 2:
        p.add_argument("--type", choices=["container", "image", "volume"], help="Return JSON for specified type")
    p.set_defaults(_container_only=len(p.prog.split()) == 3)


def _one(eng: object, name: str, kind: str | None, container_only: bool, size: bool) -> dict[str, object]:
    from skiff.engine.containers_query import inspect
    from skiff.errors import NotFoundError

    if kind in (None, "container"):
        try:
            return inspect(eng, name, size=size)  # type: ignore[arg-type]
        except NotFoundError:
            if container_only or kind == "container":
                raise NotFoundError(f"No such container: {name}") from None
    if kind in (None, "image"):
        try:
            from skiff.engine.images import ImageEngine

            obj: dict[str, object] = ImageEngine(eng.ctx).inspect(name)  # type: ignore[attr-defined]
            return obj
        except NotFoundError:
            if kind == "image":
                raise NotFoundError(f"No such image: {name}") from None
    if kind in (None, "volume"):
        try:
            vol: dict[str, object] = eng.volumes.get(name).inspect()  # type: ignore[attr-defined]
            return vol
        except NotFoundError:
            pass
    raise NotFoundError(f"No such object: {name}")


def run(args: argparse.Namespace, opts: object) -> int:
    from skiff.cli.commands.container_common import engine
    from skiff.cli.inspector import Inspector
    from skiff.errors import SkiffError

    out = Inspector(args.format)  # a template that does not parse exits 64 before any lookup
    eng = engine(opts)
    for n in args.names:
        try:
            out.add(_one(eng, n, getattr(args, "type", None), args._container_only, args.size))
        except SkiffError as e:
            out.missing(f"Error: {e.message}")
    return out.flush()
