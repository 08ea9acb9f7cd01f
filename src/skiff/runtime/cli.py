"""skiff-runtime: runc-compatible argv -> skiff.runtime.Runtime, nothing else."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from skiff.errors import SkiffError

DEFAULT_ROOT = "/run/skiff-runtime"


COMMANDS = ("spec", "create", "run", "start", "state", "pause", "resume", "kill", "delete", "exec", "list")
_VALUE_OPTIONS = ("--root", "--log", "--log-format")


def _command_in(argv: list[str]) -> str | None:
    """The command word of ``argv`` (skipping global options), so only its sub-parser gets built."""
    skip = False
    for word in argv:
        if skip:
            skip = False
        elif word in _VALUE_OPTIONS:
            skip = True
        elif not word.startswith("-"):
            return word if word in COMMANDS else None
    return None


def _parser(only: str | None = None) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="skiff-runtime", description="An OCI runtime (runc-compatible CLI)")
    p.add_argument("--root", default=os.environ.get("SKIFF_RUNTIME_ROOT", DEFAULT_ROOT))
    p.add_argument("--log", default=None)
    p.add_argument("--log-format", default="text")
    p.add_argument("--debug", action="store_true")
    p.add_argument("--systemd-cgroup", action="store_true")
    p.add_argument("--version", "-v", action="version", version="skiff-runtime 0.1.0\nspec: 1.2.0")
    sub = p.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        cmd = sub.add_parser(name)
        if only is None or only == name:
            _ARGS[name](cmd)
    return p


def _spec_args(s: argparse.ArgumentParser) -> None:
    s.add_argument("--bundle", "-b", default=".")
    s.add_argument("--rootless", action="store_true")


def _create_args(c: argparse.ArgumentParser, run: bool = False) -> None:
    c.add_argument("--bundle", "-b", default=".")
    c.add_argument("--pid-file", default=None)
    c.add_argument("--console-socket", default=None)
    c.add_argument("--preserve-fds", type=int, default=0)
    c.add_argument("--no-pivot", action="store_true")
    c.add_argument("--no-new-keyring", action="store_true")
    if run:
        c.add_argument("--detach", "-d", action="store_true")
        c.add_argument("--keep", action="store_true")
    c.add_argument("id")


def _id_args(c: argparse.ArgumentParser) -> None:
    c.add_argument("id")


def _kill_args(k: argparse.ArgumentParser) -> None:
    k.add_argument("--all", "-a", action="store_true")
    k.add_argument("id")
    k.add_argument("signal", nargs="?", default="SIGTERM")


def _delete_args(d: argparse.ArgumentParser) -> None:
    d.add_argument("--force", "-f", action="store_true")
    d.add_argument("id")


def _exec_args(e: argparse.ArgumentParser) -> None:
    e.add_argument("--process", "-p", default=None)
    e.add_argument("--tty", "-t", action="store_true")
    e.add_argument("--console-socket", default=None)
    e.add_argument("--cwd", default=None)
    e.add_argument("--env", "-e", action="append", default=[])
    e.add_argument("--user", "-u", default=None)
    e.add_argument("--additional-gids", "-g", action="append", type=int, default=[])
    e.add_argument("--cap", "-c", action="append", default=[])
    e.add_argument("--no-new-privs", action="store_true")
    e.add_argument("--detach", "-d", action="store_true")
    e.add_argument("--pid-file", default=None)
    e.add_argument("--preserve-fds", type=int, default=0)
    e.add_argument("id")
    e.add_argument("args", nargs=argparse.REMAINDER)


def _list_args(li: argparse.ArgumentParser) -> None:
    li.add_argument("--format", "-f", default="table", choices=("table", "json"))
    li.add_argument("--quiet", "-q", action="store_true")


_ARGS: dict[str, Callable[[argparse.ArgumentParser], None]] = {"spec": _spec_args, "create": _create_args, "run": lambda c: _create_args(c, run=True),
         "start": _id_args, "state": _id_args, "pause": _id_args, "resume": _id_args, "kill": _kill_args,
         "delete": _delete_args, "exec": _exec_args, "list": _list_args}


def parse_signal(text: str) -> int:
    """A signal by number or name (KILL, SIGKILL, sigkill)."""
    if text.isdigit():
        return int(text)
    name = text.upper()
    name = name if name.startswith("SIG") else "SIG" + name
    try:
        return int(signal.Signals[name])
    except KeyError:
        raise SkiffError(f"kill: unknown signal {text!r}", exit_code=1) from None


def _print_state(state: object) -> None:
    from skiff.runtime.container import state_json

    print(json.dumps(state_json(state), indent=2))  # type: ignore[arg-type]


def _exec_process(args: argparse.Namespace, spec_process: object) -> object:
    import dataclasses

    from skiff.oci.runtime import LinuxCapabilities, Process, User
    from skiff.runtime.errors import BundleError

    if args.process:
        from skiff.oci.codec import CodecError, loads

        try:
            return loads(Process, Path(args.process).read_bytes(), args.process)
        except (CodecError, OSError) as e:
            raise BundleError(f"{args.process}: {e}") from None
    if not args.args:
        raise SkiffError("exec: give a command or --process", exit_code=1)
    base = spec_process if isinstance(spec_process, Process) else Process()
    env = list(base.env) + list(args.env)
    user = base.user
    if args.user:
        uid, _, gid = args.user.partition(":")
        user = User(uid=int(uid), gid=int(gid or 0), additional_gids=list(args.additional_gids))
    caps = base.capabilities
    if args.cap and caps is not None:
        add = [c if c.startswith("CAP_") else "CAP_" + c for c in args.cap]
        caps = LinuxCapabilities(bounding=caps.bounding + add, effective=caps.effective + add,
                                 permitted=caps.permitted + add)
    return dataclasses.replace(base, args=list(args.args), env=env, cwd=args.cwd or base.cwd, user=user,
                               terminal=args.tty, capabilities=caps, console_size=None,
                               no_new_privileges=True if args.no_new_privs else base.no_new_privileges)


def _forward_signals(pid_box: list[int]) -> None:
    def handler(sig: int, _frame: object) -> None:
        if pid_box:
            try:
                os.kill(pid_box[0], sig)
            except ProcessLookupError:
                pass

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1,
                signal.SIGUSR2, signal.SIGWINCH):
        signal.signal(sig, handler)


def _proxy_terminal(master: int) -> None:
    """Foreground `run` of a terminal container without --console-socket: copy between the pty and our stdio
    (threads start only after the container was cloned)."""
    import threading

    def pump(src: int, dst: int) -> None:
        try:
            while data := os.read(src, 65536):
                os.write(dst, data)
        except OSError:
            pass

    threading.Thread(target=pump, args=(master, 1), daemon=True).start()
    threading.Thread(target=pump, args=(0, master), daemon=True).start()


def dispatch(args: argparse.Namespace) -> int:
    if args.command == "spec":
        from skiff.oci.codec import pretty
        from skiff.runtime.defaults import default_spec

        target = Path(args.bundle) / "config.json"
        if target.exists():
            raise SkiffError(f"{target}: file already exists", exit_code=1)
        target.write_text(pretty(default_spec(["sh"], terminal=True)) + "\n")
        return 0
    from skiff.runtime.container import Runtime

    rt = Runtime(Path(args.root))
    cmd = args.command
    if cmd == "create":
        rt.create(args.id, Path(args.bundle), pid_file=Path(args.pid_file) if args.pid_file else None,
                  console_socket=args.console_socket, preserve_fds=args.preserve_fds)
        return 0
    if cmd == "run":
        pid_file = Path(args.pid_file) if args.pid_file else None
        if args.detach:
            rt.create(args.id, Path(args.bundle), pid_file=pid_file, console_socket=args.console_socket,
                      preserve_fds=args.preserve_fds)
            rt.start(args.id)
            return 0
        box: list[int] = []
        _forward_signals(box)
        proxied: list[int] = []

        def on_terminal(master: int) -> None:
            proxied.append(master)
            _proxy_terminal(master)

        code = rt.run(args.id, Path(args.bundle), pid_file=pid_file, console_socket=args.console_socket,
                      on_terminal=None if args.console_socket else on_terminal,
                      preserve_fds=args.preserve_fds, keep=args.keep, on_started=box.append)
        if proxied:
            import time

            time.sleep(0.05)  # let the pty's last output drain to stdout
        return code
    if cmd == "start":
        rt.start(args.id)
    elif cmd == "state":
        _print_state(rt.state(args.id))
    elif cmd == "kill":
        rt.kill(args.id, parse_signal(args.signal), all_processes=args.all)
    elif cmd == "delete":
        rt.delete(args.id, force=args.force)
    elif cmd == "pause":
        rt.pause(args.id)
    elif cmd == "resume":
        rt.resume(args.id)
    elif cmd == "list":
        states = rt.list()
        if args.quiet:
            print("\n".join(s.id for s in states))
        elif args.format == "json":
            from skiff.runtime.container import state_json

            print(json.dumps([state_json(s) for s in states]))
        else:
            print(f"{'ID':<20} {'PID':<8} {'STATUS':<10} {'BUNDLE':<40} CREATED")
            for s in states:
                print(f"{s.id:<20} {s.pid:<8} {s.status:<10} {s.bundle:<40} {s.extra.get('created', '')}")
    elif cmd == "exec":
        spec_process = rt.spec(args.id).process
        proc = _exec_process(args, spec_process)
        return rt.exec(args.id, proc, detach=args.detach,  # type: ignore[arg-type]
                       pid_file=Path(args.pid_file) if args.pid_file else None,
                       console_socket=args.console_socket, preserve_fds=args.preserve_fds)
    return 0


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    args = _parser(_command_in(argv)).parse_args(argv)
    try:
        code = dispatch(args)
    except SkiffError as e:
        from skiff.runtime.errors import ExecFailed

        print(f"skiff-runtime: {e.message}", file=sys.stderr)
        code = e.exit_code if isinstance(e, ExecFailed) else 1
    except KeyboardInterrupt:
        code = 130
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # nothing to tear down: skip interpreter finalisation (tens of ms)
