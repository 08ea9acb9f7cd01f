"""skiff attach: stream a running container's output (and --stdin) until it exits; its exit code."""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import argparse


def configure(p: argparse.ArgumentParser) -> None:
    p.allow_abbrev = False
    p.add_argument("container")
    p.add_argument("--no-stdin", action="store_true", help="Do not attach STDIN")
    p.add_argument("--sig-proxy", action="store_true", default=True,  # a pflag boolean: --sig-proxy=false
                   help="Proxy all received signals to the process (default true)")
    p.add_argument("--detach-keys", help="Override the key sequence for detaching a container")


def run(args: argparse.Namespace, opts: object) -> int:
    from skiff.cli.commands.container_common import check_tty, engine
    from skiff.engine.containers_attach import detach_sequence
    from skiff.engine.containers_state import Status
    from skiff.errors import ConflictError

    eng = engine(opts)
    cid = eng.cs.resolve(args.container)
    st = eng.cs.state(cid).st
    if not st.is_live:  # docker/cli's checks, in its order
        raise ConflictError("You cannot attach to a stopped container, start it first")
    if st is Status.PAUSED:
        raise ConflictError("You cannot attach to a paused container, unpause it first")
    if st is Status.RESTARTING:
        raise ConflictError("You cannot attach to a restarting container, wait until it is running")
    rec = eng.cs.record(cid)
    check_tty(not args.no_stdin, rec.config.tty)
    keys = detach_sequence(args.detach_keys)
    return int(eng.attach(cid, stdin=rec.config.open_stdin and not args.no_stdin,
                          sig_proxy=args.sig_proxy and not rec.config.tty, detach_keys=keys))
