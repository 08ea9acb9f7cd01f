"""skiff attach: stream a running container's output (and --stdin) until it exits; its exit code."""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import argparse


def configure(p: argparse.ArgumentParser) -> None:
    p.allow_abbrev = False
    p.add_argument("container")
    p.add_argument("--no-stdin", action="store_true", help="Do not attach STDIN")
    p.add_argument("--sig-proxy", default="true", help="Proxy all received signals to the process")
    p.add_argument("--detach-keys", help="Override the key sequence for detaching a container")


def run(args: argparse.Namespace, opts: object) -> int:
    from skiff.cli.commands.container_common import engine
    from skiff.engine.containers_state import Status
    from skiff.errors import ConflictError

    eng = engine(opts)
    cid = eng.cs.resolve(args.container)
    if not eng.cs.state(cid).st.is_live or eng.cs.state(cid).st is Status.PAUSED:
        raise ConflictError("You cannot attach to a stopped container, start it first")
    rec = eng.cs.record(cid)
    return int(eng.attach(cid, stdin=rec.config.open_stdin and not args.no_stdin))
