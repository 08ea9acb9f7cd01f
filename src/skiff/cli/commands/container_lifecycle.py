"""start, stop, kill, restart, pause, unpause, wait, rm (and their `container <verb>` forms)."""

from __future__ import annotations

import sys

from skiff.cli.commands.container_common import each, engine, verb

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import argparse
    from typing import Any


def configure(p: argparse.ArgumentParser) -> None:
    import argparse

    v = verb(p)
    p.set_defaults(_verb=v)
    p.allow_abbrev = False
    p.add_argument("containers", nargs="+", metavar="CONTAINER")
    if v == "start":
        p.add_argument("-a", "--attach", action="store_true", help="Attach STDOUT/STDERR and forward signals")
        p.add_argument("-i", "--interactive", action="store_true", help="Attach container's STDIN")
    elif v in ("stop", "restart"):
        p.add_argument("-t", "--time", "--timeout", type=int, dest="time", help="Seconds to wait before killing")
        p.add_argument("-s", "--signal", help="Signal to send to the container")
    elif v == "kill":
        p.add_argument("-s", "--signal", default="KILL", help="Signal to send to the container")
    elif v in ("rm", "remove"):
        p.add_argument("-f", "--force", action="store_true", help="Force the removal of a running container")
        p.add_argument("-v", "--volumes", action="store_true", help="Remove anonymous volumes")
        p.add_argument("-l", "--link", action="store_true", help=argparse.SUPPRESS)


def run(args: argparse.Namespace, opts: object) -> int:
    eng = engine(opts)
    v = args._verb
    names = args.containers
    if v == "start":
        if args.attach or args.interactive:
            if len(names) != 1:
                print("Error: you cannot start and attach multiple containers at once", file=sys.stderr)
                return 1
            eng.start(names[0], attach=True)
            return int(eng.attach(names[0], stdin=args.interactive))
        return each(names, lambda n: (eng.start(n), n)[1])
    if v == "stop":
        return each(names, lambda n: (eng.stop(n, args.time, args.signal), n)[1])
    if v == "restart":
        return each(names, lambda n: (eng.restart(n, args.time), n)[1])
    if v == "kill":
        return each(names, lambda n: (eng.kill(n, args.signal), n)[1])
    if v == "pause":
        return each(names, lambda n: (eng.pause(n), n)[1])
    if v == "unpause":
        return each(names, lambda n: (eng.unpause(n), n)[1])
    if v == "wait":
        return each(names, lambda n: eng.wait(n))
    if v in ("rm", "remove"):
        return each(names, lambda n: _remove(eng, n, args))
    raise AssertionError(v)


def _remove(eng: Any, name: str, args: argparse.Namespace) -> str | None:
    """docker/cli's rm: with -f a container that does not exist is reported on stderr, not an error (exit 0)."""
    from skiff.errors import InvalidArgumentError, NotFoundError

    if not name.strip("/"):
        raise InvalidArgumentError("container name cannot be empty")
    try:
        eng.remove(name, force=args.force, volumes=args.volumes)
    except NotFoundError as e:
        if not args.force:
            raise
        print(f"Error response from daemon: {e.message}", file=sys.stderr)
        return None
    return name
