"""skiff volume create|ls|inspect|rm|prune."""

from __future__ import annotations

import json
import sys

from skiff.cli.commands.container_common import verb

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import argparse


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
    from skiff.cli.commands.container_common import as_daemon_error, engine
    from skiff.engine.containers_options import parse_labels
    from skiff.errors import InvalidArgumentError, SkiffError

    eng = engine(opts)
    v = args._verb
    try:
        if v == "create":
            if args.driver != "local":
                raise InvalidArgumentError(f"volume driver {args.driver!r} is not supported (only local)")
            vol, _ = eng.volumes.create(args.name, parse_labels(args.label),
                                        dict(o.partition("=")[::2] for o in args.opt))
            print(vol.name)
            return 0
        if v == "ls":
            vols = eng.volumes.list()
            for f in args.filter:
                k, _, val = f.partition("=")
                if k == "dangling":
                    used = {m.name for cid in eng.cs.ids() for m in eng.cs.record(cid).mounts}
                    vols = [x for x in vols if (x.name not in used) == (val.lower() in ("1", "true"))]
                elif k == "name":
                    vols = [x for x in vols if val in x.name]
                elif k == "label":
                    lk, _, lv = val.partition("=")
                    vols = [x for x in vols if lk in x.labels and (not lv or x.labels[lk] == lv)]
                else:
                    raise InvalidArgumentError(f"invalid filter '{k}'")
            if args.quiet:
                for x in vols:
                    print(x.name)
            elif args.format:
                from skiff.cli.commands._fmt import render

                print(render(args.format, [{"Name": x.name, "Driver": x.driver, "Mountpoint": x.mountpoint,
                                            "Scope": "local", "Labels": ",".join(x.labels)} for x in vols]))
            else:
                from skiff.cli.commands._fmt import table

                print(table(["DRIVER", "VOLUME NAME"], [[x.driver, x.name] for x in vols]))
            return 0
        if v == "inspect":
            objs = []
            rc = 0
            for n in args.names:
                try:
                    objs.append(eng.volumes.get(n).inspect())
                except SkiffError as e:
                    print(f"Error: {e.message}", file=sys.stderr)
                    rc = 1
            if args.format:
                from skiff.cli.commands._fmt import render_one

                for o in objs:
                    print(render_one(args.format, o))
            else:
                print(json.dumps(objs, indent=4))
            return rc
        if v == "rm":
            rc = 0
            for n in args.names:
                try:
                    eng.volumes.remove(n, eng.volume_users(n), force=args.force)
                    print(n)
                except SkiffError as e:
                    print(f"Error response from daemon: {e.message}", file=sys.stderr)
                    rc = 1
            return rc
        if v == "prune":
            if not args.force:
                print("WARNING! This will remove anonymous local volumes not used by at least one container.\n"
                      "Are you sure you want to continue? [y/N] ", end="", flush=True)
                if sys.stdin.readline().strip().lower() not in ("y", "yes"):
                    return 0
            from skiff.engine.containers_volumes import prune_volumes

            gone = prune_volumes(eng, all=args.all)
            if gone:
                print("Deleted Volumes:", *gone, sep="\n")
            print("Total reclaimed space: 0B")
            return 0
    except SkiffError as e:
        raise as_daemon_error(e) from None
    raise AssertionError(v)
