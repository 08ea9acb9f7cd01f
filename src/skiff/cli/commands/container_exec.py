"""skiff exec: run a command in a running container (-d, -i, -t, -e, -u, -w, --privileged)."""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import argparse


def configure(p: argparse.ArgumentParser) -> None:
    import argparse

    p.allow_abbrev = False
    p.min_args = 2  # type: ignore[attr-defined]  # CONTAINER COMMAND (cli.main.missing_arguments)
    p.add_argument("container")
    p.add_argument("command", nargs=argparse.REMAINDER)
    p.add_argument("-d", "--detach", action="store_true", help="Detached mode: run command in the background")
    p.add_argument("--detach-keys", help="Override the key sequence for detaching a container")
    p.add_argument("-i", "--interactive", action="store_true", help="Keep STDIN open even if not attached")
    p.add_argument("-t", "--tty", action="store_true", help="Allocate a pseudo-TTY")
    p.add_argument("-e", "--env", action="append", default=[], help="Set environment variables")
    p.add_argument("--env-file", action="append", default=[], help="Read in a file of environment variables")
    p.add_argument("-u", "--user", help="Username or UID (format: <name|uid>[:<group|gid>])")
    p.add_argument("-w", "--workdir", help="Working directory inside the container")
    p.add_argument("--privileged", action="store_true", help="Give extended privileges to the command")


def run(args: argparse.Namespace, opts: object) -> int:
    from skiff.cli.commands.container_common import check_tty, engine
    from skiff.engine.containers_exec import ExecOptions, exec_in
    from skiff.errors import SkiffError

    if not args.command:
        from skiff.cli.main import requires_arguments

        raise requires_arguments("skiff exec", 2)
    eng = engine(opts)
    eng.cs.resolve(args.container)  # as docker/cli, which inspects first: "No such container" wins over the TTY
    if not args.detach:
        check_tty(args.interactive, args.tty)
    try:
        return exec_in(eng, args.container, ExecOptions(
            command=list(args.command), detach=args.detach, interactive=args.interactive, tty=args.tty,
            env=args.env, env_files=args.env_file, user=args.user, workdir=args.workdir,
            privileged=args.privileged, detach_keys=args.detach_keys))
    except SkiffError as e:
        if e.exit_code == 125:
            e.exit_code = 1
        raise
