"""skiff run / container run / create / container create: Docker's flags and semantics."""

from __future__ import annotations

import argparse
import sys

from skiff.cli.commands.container_common import add_create_flags, create_options, engine, verb


def configure(p: argparse.ArgumentParser) -> None:
    p._optionals.conflict_handler = "resolve"  # -h is --hostname, as in Docker; --help stays
    p.allow_abbrev = False
    add_create_flags(p)
    p.set_defaults(_verb=verb(p))


def run(args: argparse.Namespace, opts: object) -> int:
    eng = engine(opts)
    o = create_options(args)
    if args._verb == "create":
        rep = eng.create(o)
        print(rep.id)
        return 0
    rep = eng.run(o)
    if rep.exit_code is None:
        print(rep.id)
        return 0
    sys.stdout.flush()
    return int(rep.exit_code)
