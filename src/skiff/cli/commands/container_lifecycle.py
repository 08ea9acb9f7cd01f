"""start, stop, kill, restart, pause, unpause, wait, rm (and their `container <verb>` forms)."""

from __future__ import annotations

import sys

from skiff.cli.commands.container_common import each, engine, verb

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import argparse
    from typing import Any


def configure(p: argparse.ArgumentParser) -> None:

    v = verb(p)
    p.set_defaults(_verb=v)
    p.allow_abbrev = False
    p.add_argument("containers", nargs="+", metavar="CONTAINER")
    if v == "start":
        p.add_argument("-a", "--attach", action="store_true", help="Attach STDOUT/STDERR and forward signals")
        p.add_argument("-i", "--interactive", action="store_true", help="Attach container's STDIN")
        p.add_argument("--detach-keys", help="Override the key sequence for detaching a container")
    elif v in ("stop", "restart"):
        p.add_argument("-t", "--time", "--timeout", type=int, dest="time", help="Seconds to wait before killing")
        p.add_argument("-s", "--signal", help="Signal to send to the container")
    elif v == "kill":
        p.add_argument("-s", "--signal", default="KILL", help="Signal to send to the container")
    elif v in ("rm", "remove"):
        p.add_argument("-f", "--force", action="store_true", help="Force the removal of a running container")
        p.add_argument("-v", "--volumes", action="store_true", help="Remove anonymous volumes")
        p.add_argument("-l", "--link", action="store_true", help="Remove the specified link")


def run(args: argparse.Namespace, opts: object) -> int:
    eng = engine(opts)
    v = args._verb
    names = args.containers
    if v == "start":
        if args.attach or args.interactive:
            if len(names) != 1:
                print("Error: you cannot start and attach multiple containers at once", file=sys.stderr)
                return 1
            return _start_attached(eng, names[0], args)
        return _start_each(eng, names)
    if v == "stop":
        return each(names, lambda n: (eng.stop(n, args.time, args.signal), n)[1])
    if v == "restart":
        return each(names, lambda n: (eng.restart(n, args.time, args.signal), n)[1])
    if v == "kill":
        return each(names, lambda n: (eng.kill(n, args.signal), n)[1])
    if v == "pause":
        return each(names, lambda n: (eng.pause(n), n)[1])
    if v == "unpause":
        return each(names, lambda n: (eng.unpause(n), n)[1])
    if v == "wait":
        return each(names, lambda n: eng.wait(n))
    if v in ("rm", "remove"):
        if args.force and len(names) > 1 and not args.link:
            eng.kill_for_removal(names)
        return each(names, lambda n: _remove(eng, n, args))
    raise AssertionError(v)


def _start_attached(eng: Any, name: str, args: argparse.Namespace) -> int:
    """docker/cli's start -a/-i: stdin only for a container created with -i, signals forwarded unless it has a
    terminal, and the container's exit code (0 after the detach keys)."""
    from skiff.engine.containers_attach import Detached, detach_sequence

    cid = eng.cs.resolve(name)
    rec = eng.cs.record(cid)
    keys = detach_sequence(args.detach_keys)
    eng.start(cid, attach=True)
    try:
        return int(eng.attach(cid, stdin=args.interactive and rec.config.open_stdin,
                              sig_proxy=not rec.config.tty, detach_keys=keys))
    except Detached:
        return 0


def _start_each(eng: Any, names: list[str]) -> int:
    """docker/cli's start of several containers: each error at once, then one naming the failed ones."""
    from skiff.cli.commands.container_common import error_line
    from skiff.errors import SkiffError

    failed = []
    for n in names:
        try:
            eng.start(n)
        except SkiffError as e:
            sys.stdout.flush()
            print(error_line(e), file=sys.stderr)
            failed.append(n)
            continue
        print(n)
    if failed:
        raise SkiffError(f"failed to start containers: {', '.join(failed)}", exit_code=1)
    return 0


def _remove(eng: Any, name: str, args: argparse.Namespace) -> str | None:
    """docker/cli's rm: with -f a container that does not exist is reported on stderr, not an error (exit 0)."""
    from skiff.cli.commands.container_common import ClientError
    from skiff.errors import NotFoundError

    if not name.strip("/"):
        raise ClientError("container name cannot be empty")
    if args.link:
        eng.remove_link(name)
        return name
    try:
        eng.remove(name, force=args.force, volumes=args.volumes)
    except NotFoundError as e:
        if not args.force:
            raise
        sys.stdout.flush()
        print(f"Error response from daemon: {e.message}", file=sys.stderr)
        return None
    return name
