"""skiff volume create|ls|inspect|rm|prune."""

from __future__ import annotations

import sys

from skiff.cli.commands.container_common import verb

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import argparse
    from typing import Any


def configure(p: argparse.ArgumentParser) -> None:
    v = verb(p)
    p.set_defaults(_verb={"list": "ls", "remove": "rm"}.get(v, v))
    p.allow_abbrev = False
    if v == "create":
        p.add_argument("name", nargs="?")
        p.add_argument("-d", "--driver", default="local", help="Specify volume driver name")
        p.add_argument("-l", "--label", action="append", default=[], help="Set metadata for a volume")
        p.add_argument("-o", "--opt", action="append", default=[], help="Set driver specific options")
    elif v in ("ls", "list"):
        p.add_argument("-q", "--quiet", action="store_true", help="Only display volume names")
        p.add_argument("-f", "--filter", action="append", default=[], help="Provide filter values")
        p.add_argument("--format", help="Format output using a Go template, or json")
    elif v == "inspect":
        p.add_argument("names", nargs="+", metavar="VOLUME")
        p.add_argument("-f", "--format", help="Format output using a Go template")
    elif v in ("rm", "remove"):
        p.add_argument("names", nargs="+", metavar="VOLUME")
        p.add_argument("-f", "--force", action="store_true", help="Force the removal of one or more volumes")
    elif v == "prune":
        p.add_argument("-a", "--all", action="store_true", help="Remove all unused volumes, not just anonymous ones")
        p.add_argument("-f", "--force", action="store_true", help="Do not prompt for confirmation")
        p.add_argument("--filter", action="append", default=[], help="Provide filter values")


def run(args: argparse.Namespace, opts: object) -> int:
    from skiff.cli.commands.container_common import engine
    from skiff.engine.containers_options import parse_labels
    from skiff.errors import InvalidArgumentError, SkiffError

    eng = engine(opts)
    v = args._verb
    if v == "create":
        if args.driver != "local":
            raise InvalidArgumentError(f"volume driver {args.driver!r} is not supported (only local)")
        vol, _ = eng.volumes.create(args.name, parse_labels(args.label),
                                    dict(o.partition("=")[::2] for o in args.opt))
        print(vol.name)
        return 0
    if v == "ls":
        from skiff.engine.volumes import select

        used = {m.name for cid in eng.cs.ids() for m in eng.cs.record(cid).mounts if m.name}
        vols = select(eng.volumes.list(), args.filter, used)
        from skiff.cli.commands._fmt import custom_format

        template = custom_format(args.format, args.quiet, "volume ls")  # a template of the user's wins over -q
        if args.quiet and not template:
            for x in vols:
                print(x.name)
        elif template:
            from skiff.cli.commands._fmt import render

            text = render(template, [_row(x) for x in vols], {"Name": "VOLUME NAME", "Mountpoint": "MOUNTPOINT"},
                          go_type="*formatter.volumeContext")
            if text:
                print(text)
        else:
            from skiff.cli.commands._fmt import table

            print(table(["DRIVER", "VOLUME NAME"], [[x.driver, x.name] for x in vols]))
        return 0
    if v == "inspect":
        from skiff.cli.inspector import Inspector

        out = Inspector(args.format)  # a template that does not parse exits 64 before any lookup
        for n in args.names:
            try:
                out.add(eng.volumes.get(n).inspect())
            except SkiffError as e:
                out.missing(f"Error: {e.message}")
        return out.flush()
    if v == "rm":  # docker/cli: the names removed, then the errors
        from skiff.cli.commands.container_common import each

        return each(args.names, lambda n: (eng.volumes.remove(n, eng.volume_users(n), force=args.force), n)[1])
    if v == "prune":
        if not args.force:
            what = "all local volumes" if args.all else "anonymous local volumes"
            print(f"WARNING! This will remove {what} not used by at least one container.\n"
                  "Are you sure you want to continue? [y/N] ", end="", flush=True)
            if sys.stdin.readline().strip().lower() not in ("y", "yes"):
                return 0
        from skiff.cli.commands._fmt import human_size
        from skiff.engine.prune import prune_volumes

        rep = prune_volumes(eng, all=args.all, filters=args.filter)
        if rep.deleted:
            print("Deleted Volumes:", *rep.deleted, "", sep="\n")
        print(f"Total reclaimed space: {human_size(rep.reclaimed, 4)}")
        return 0
    raise AssertionError(v)


def _row(vol: Any) -> dict[str, Any]:
    """docker/cli's volumeContext: the fields a `volume ls --format` template can name."""
    labels = dict(vol.labels)

    def label(name: str) -> str:
        return str(labels.get(name, ""))

    return {"Name": vol.name, "Driver": vol.driver, "Scope": "local", "Mountpoint": vol.mountpoint,
            "Labels": ",".join(f"{k}={v}" for k, v in sorted(labels.items())), "Links": "N/A", "Size": "N/A",
            "Label": label}
