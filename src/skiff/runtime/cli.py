"""skiff-runtime: runc-compatible argv -> skiff.runtime.Runtime, nothing else."""

from __future__ import annotations

import json
import os
import signal
import sys

from skiff.errors import SkiffError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import SimpleNamespace as Args


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


def _exec_process(args: Args, spec_process: object) -> object:
    import dataclasses

    from skiff.oci.runtime import LinuxCapabilities, Process, User
    from skiff.runtime.errors import BundleError
    from skiff.runtime.paths import read_bytes

    if args.process:
        from skiff.oci.codec import CodecError, loads

        try:
            return loads(Process, read_bytes(args.process), args.process)
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


def dispatch(args: Args) -> int:
    if args.command == "spec":
        from skiff.oci.codec import pretty
        from skiff.runtime.defaults import default_spec
        from skiff.runtime.paths import clean

        target = clean(os.path.join(args.bundle, "config.json"))
        if os.path.exists(target):
            raise SkiffError(f"{target}: file already exists", exit_code=1)
        with open(target, "w") as f:
            f.write(pretty(default_spec(["sh"], terminal=True)) + "\n")
        return 0
    from skiff.runtime.container import Runtime

    rt = Runtime(args.root)
    cmd = args.command
    if cmd == "create":
        rt.create(args.id, args.bundle, pid_file=args.pid_file or None, console_socket=args.console_socket,
                  preserve_fds=args.preserve_fds)
        return 0
    if cmd == "run":
        pid_file = args.pid_file or None
        if args.detach:
            rt.create(args.id, args.bundle, pid_file=pid_file, console_socket=args.console_socket,
                      preserve_fds=args.preserve_fds)
            rt.start(args.id)
            return 0
        box: list[int] = []
        _forward_signals(box)
        proxied: list[int] = []

        def on_terminal(master: int) -> None:
            proxied.append(master)
            _proxy_terminal(master)

        code = rt.run(args.id, args.bundle, pid_file=pid_file, console_socket=args.console_socket,
                      on_terminal=None if args.console_socket else on_terminal,
                      preserve_fds=args.preserve_fds, keep=args.keep, on_started=box.append)
        if proxied:
            import time

            time.sleep(0.05)  # let the pty's last output drain to stdout
        return code
    if cmd == "start":
        rt.start(args.id)
    elif cmd == "state":
        print(json.dumps(rt.state_obj(args.id), indent=2))
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
                       pid_file=args.pid_file or None,
                       console_socket=args.console_socket, preserve_fds=args.preserve_fds)
    return 0


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    from skiff.runtime.argv import parse

    args = parse(argv)
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
