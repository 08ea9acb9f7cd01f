"""rename, port, container prune, system prune."""

from __future__ import annotations

import sys

from skiff.cli.commands.container_common import verb

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import argparse


def configure(p: argparse.ArgumentParser) -> None:
    v = verb(p)
    p.set_defaults(_verb=v)
    p.allow_abbrev = False
    if v == "rename":
        p.add_argument("container")
        p.add_argument("new_name")
    elif v == "port":
        p.add_argument("container")
        p.add_argument("private_port", nargs="?")
    elif v == "prune":
        p.add_argument("-f", "--force", action="store_true", help="Do not prompt for confirmation")
        p.add_argument("--filter", action="append", default=[], help="Provide filter values")
        if p.prog.split()[-2] == "system":
            p.add_argument("-a", "--all", action="store_true", help="Remove all unused images not just dangling")
            p.add_argument("--volumes", action="store_true", help="Prune anonymous volumes")
            p.set_defaults(_verb="system-prune")


def _confirm(text: str) -> bool:
    print(f"WARNING! {text}\nAre you sure you want to continue? [y/N] ", end="", flush=True)
    answer = sys.stdin.readline().strip().lower()
    return answer in ("y", "yes")


def run(args: argparse.Namespace, opts: object) -> int:
    from skiff.cli.commands.container_common import as_daemon_error, engine
    from skiff.errors import SkiffError

    eng = engine(opts)
    try:
        if args._verb == "rename":
            eng.rename(args.container, args.new_name)
            return 0
        if args._verb == "port":
            from skiff.engine.containers_query import published_ports

            for key, hip, hport in sorted(published_ports(eng, args.container)):
                if args.private_port and key not in (args.private_port, f"{args.private_port}/tcp"):
                    continue
                print(f"{key} -> {hip}:{hport}")
            return 0
        if args._verb == "prune":
            if not args.force and not _confirm("This will remove all stopped containers."):
                return 0
            gone = eng.prune(args.filter)
            print("Deleted Containers:" if gone else "", *gone, sep="\n") if gone else None
            print("Total reclaimed space: 0B")
            return 0
        # system prune
        if not args.force and not _confirm("This will remove:\n  - all stopped containers\n"
                                           "  - all dangling images"):
            return 0
        gone = eng.prune(args.filter)
        if gone:
            print("Deleted Containers:", *gone, sep="\n")
        if args.volumes:
            from skiff.engine.containers_volumes import prune_volumes

            vols = prune_volumes(eng, all=False)
            if vols:
                print("Deleted Volumes:", *vols, sep="\n")
        try:
            from skiff.engine.images import ImageEngine

            rep = ImageEngine(eng.ctx).prune(all=args.all)
            deleted = getattr(rep, "deleted", []) or []
            if deleted:
                print("Deleted Images:", *deleted, sep="\n")
        except ImportError:
            pass
        print("Total reclaimed space: 0B")
        return 0
    except SkiffError as e:
        raise as_daemon_error(e) from None
