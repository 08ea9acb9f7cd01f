"""skiff run / container run / create / container create: Docker's flags and semantics."""

from __future__ import annotations

import sys

from skiff.cli.commands.container_common import add_create_flags, create_options, engine, verb

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import argparse


def configure(p: argparse.ArgumentParser) -> None:
    p._optionals.conflict_handler = "resolve"  # -h is --hostname, as in Docker; --help stays
    p.allow_abbrev = False
    add_create_flags(p)
    if verb(p) == "run":  # client-side flags of docker run (and attach, start, exec); docker create has none
        p.add_argument("--detach-keys", help="Override the key sequence for detaching a container")
        p.add_argument("--sig-proxy", action="store_true", default=True,  # a pflag boolean: --sig-proxy=false
                       help="Proxy received signals to the process (default true)")
    p.add_argument("--skip-check", action="append", default=[], metavar="ID",
                   help="Silence a port check of run -p by id, or all (env SKIFF_SKIP_CHECKS)")
    p.set_defaults(_verb=verb(p))


def _warn(text: str) -> None:
    """docker/cli prints each of the daemon's create warnings so."""
    print(f"WARNING: {text}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace, opts: object) -> int:
    if args._verb == "run" and not args.detach:
        from skiff.cli.commands.container_common import check_tty

        check_tty(args.interactive, args.tty)
        if args.detach_keys:  # the daemon refuses it at the attach; here before anything is made
            from skiff.engine.containers_attach import detach_sequence

            detach_sequence(args.detach_keys)
    plumber = None
    if args._verb == "run":  # the network helper starts first: it imports while the engine does
        from skiff.engine.networks import spawn_plumber

        plumber = spawn_plumber(opts.root, opts.runroot, args.network)  # type: ignore[attr-defined]
    eng = engine(opts)
    eng.plumber = plumber
    eng.on_warning = _warn
    o = create_options(args)
    if args._verb == "create":
        rep = eng.create(o)
        print(rep.id)
        return 0
    checks = bool(args.publish or args.publish_all)  # warnings on stderr, never a failure (issue 8.3)
    if checks and not args.detach:
        from skiff.engine.run_checks import watch_foreground

        watch_foreground(eng, args.skip_check)
    if args.interactive and args.tty and not args.detach:
        from skiff.engine.containers_attach import Detached

        try:
            rep = eng.run(o, detach_keys=args.detach_keys)
        except Detached:
            return 0  # docker/cli: the detach keys end `run -it` quietly, the container runs on
    else:
        rep = eng.run(o, sig_proxy=getattr(args, "sig_proxy", True))
    if rep.exit_code is None:
        print(rep.id, flush=True)
        if checks:
            from skiff.engine.run_checks import warn_detached

            warn_detached(eng, rep.id, args.skip_check)
        return 0
    sys.stdout.flush()
    return int(rep.exit_code)
