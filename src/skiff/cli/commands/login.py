"""skiff login [-u USER] [-p PASS | --password-stdin] [SERVER]."""

from __future__ import annotations

import sys

from skiff.cli.commands.pull import add_registry_flags, registry_options
from skiff.errors import InvalidArgumentError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import argparse


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("server", nargs="?", help="Registry host (default docker.io)")
    p.add_argument("--username", "-u", default="")
    p.add_argument("--password", "-p", default="")
    p.add_argument("--password-stdin", action="store_true", help="Take the password from stdin")
    add_registry_flags(p)


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        if args.password:
            raise InvalidArgumentError("--password and --password-stdin are mutually exclusive")
        pw = sys.stdin.read()
        return pw[:-1] if pw.endswith("\n") else pw
    if args.password:
        print("WARNING! Using --password via the CLI is insecure. Use --password-stdin.", file=sys.stderr)
        return str(args.password)
    if sys.stdin.isatty():
        import getpass

        return getpass.getpass("Password: ")
    raise InvalidArgumentError("login: no password given (use --password-stdin)")


def run(args: argparse.Namespace, opts: object) -> int:
    from skiff.engine.registry import LoginOptions, login

    username = args.username
    if not username and sys.stdin.isatty() and not args.password_stdin:
        username = input("Username: ").strip()
    if args.password_stdin and not username:
        raise InvalidArgumentError("login: --password-stdin needs a username (-u)")
    report = login(getattr(opts, "root", None), LoginOptions(args.server, username, _password(args),
                                                              registry_options(args)))
    _ = report
    print("Login Succeeded!")
    return 0
