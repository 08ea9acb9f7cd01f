"""cp, diff, commit, export."""

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
    if v == "cp":
        p.add_argument("src", metavar="SRC")
        p.add_argument("dst", metavar="DEST")
        p.add_argument("-a", "--archive", action="store_true", help="Archive mode (copy all uid/gid information)")
        p.add_argument("-L", "--follow-link", action="store_true", help="Always follow symbol link in SRC_PATH")
        p.add_argument("-q", "--quiet", action="store_true", help="Suppress progress output")
    elif v == "diff":
        p.add_argument("container")
    elif v == "commit":
        p.add_argument("container")
        p.add_argument("reference", nargs="?", metavar="REPOSITORY[:TAG]")
        p.add_argument("-a", "--author", help='Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")')
        p.add_argument("-c", "--change", action="append", default=[], help="Apply Dockerfile instruction")
        p.add_argument("-m", "--message", help="Commit message")
        p.add_argument("-p", "--pause", default="true", help="Pause container during commit")
    elif v == "export":
        p.add_argument("container")
        p.add_argument("-o", "--output", help="Write to a file, instead of STDOUT")


def run(args: argparse.Namespace, opts: object) -> int:
    from skiff.cli.commands.container_common import as_daemon_error, engine
    from skiff.engine import containers_files as files
    from skiff.errors import SkiffError

    eng = engine(opts)
    try:
        if args._verb == "cp":
            files.copy(eng, args.src, args.dst, follow_link=args.follow_link, archive=args.archive,
                       stdin=sys.stdin.buffer if args.src == "-" else None,
                       stdout=sys.stdout.buffer if args.dst == "-" else None)
            return 0
        if args._verb == "diff":
            for ch in files.diff(eng, args.container):
                print(str(ch))
            return 0
        if args._verb == "commit":
            print(files.commit(eng, args.container, args.reference, changes=args.change, message=args.message,
                               author=args.author, pause=args.pause.lower() != "false"))
            return 0
        if args._verb == "export":
            if args.output:
                files.export_file(eng, args.container, args.output)
            else:
                if sys.stdout.isatty():
                    raise SkiffError("cowardly refusing to save to a terminal. Use the -o flag or redirect")
                files.export(eng, args.container, sys.stdout.buffer)
            return 0
    except SkiffError as e:
        raise as_daemon_error(e) from None
    raise AssertionError(args._verb)
