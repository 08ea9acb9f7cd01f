"""--detach-keys on run and exec, a client-side flag of docker/cli (attach and start -a are tested in
test_exec_attach_compat): ctrl-p,ctrl-q or the given keys let go of the terminal and the container, or the
exec'd process, runs on. `run -it` ends quietly with 0 (docker/cli's run swallows the EscapeError), exec ends
as attach does ("read escape sequence", 1); a bad sequence is refused with the daemon's words."""

from __future__ import annotations

import time

from helpers.cli import pty_run, skiff_cmd

NONE = ("--network", "none")
TICKING_CAT = "while :; do echo tick; sleep 0.2; done & cat; exit 4"


def _status(sk, name):  # type: ignore[no-untyped-def]
    return sk.out("inspect", "-f", "{{.State.Status}}", name).strip()


def _gone(sk, name, timeout: float = 20) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sk("inspect", name, check=False).returncode == 1:
            return True
        time.sleep(0.1)
    return False


def test_run_it_detach_keys(sk, name):  # type: ignore[no-untyped-def]
    """run -it: a partial sequence reaches the container, the whole one detaches (exit 0, no message); the
    container runs on under its monitor: logs, attach again, its exit code recorded when it ends."""
    try:
        argv = skiff_cmd(sk.root, sk.runroot, "run", "-it", "--name", name, *NONE, "busybox", "sh", "-c",
                         TICKING_CAT)
        out, code = pty_run(argv, [(b"tick", b"x\x10y\r"), (b"x\x10y", b"\x10\x11")])
        assert code == 0, out
        assert b"escape" not in out and b"Error" not in out
        assert _status(sk, name) == "running"
        assert "tick" in sk.out("logs", name)
        out, code = pty_run(skiff_cmd(sk.root, sk.runroot, "attach", name), [(b"tick", b"\x04")])  # cat ends
        assert code == 4
        assert sk.out("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", name) == "exited 4\n"
    finally:
        sk("rm", "-f", name, check=False)


def test_run_it_detach_keys_custom_and_rm(sk, name):  # type: ignore[no-untyped-def]
    """--detach-keys ctrl-x,z; with --rm the container is removed when it finally exits, not at the detach."""
    try:
        argv = skiff_cmd(sk.root, sk.runroot, "run", "--rm", "-it", "--detach-keys", "ctrl-x,z", "--name", name,
                         *NONE, "busybox", "sh", "-c", TICKING_CAT)
        out, code = pty_run(argv, [(b"tick", b"\x10\x11\x18z")])  # the default keys are not the sequence now
        assert code == 0, out
        assert _status(sk, name) == "running"
        assert sk.out("ps", "-q", "--filter", f"name={name}").strip()
        sk("kill", name)
        assert _gone(sk, name)
    finally:
        sk("rm", "-f", name, check=False)


def test_run_it_terminal_size_from_the_start(sk, name):  # type: ignore[no-untyped-def]
    """The container's terminal has the client's size before its process starts (no prompt to wait for)."""
    try:
        argv = skiff_cmd(sk.root, sk.runroot, "run", "--rm", "-it", "--name", name, *NONE, "busybox", "stty",
                         "size")
        out, code = pty_run(argv, [], winsize=(33, 77))
        assert code == 0 and b"33 77\r\n" in out, out
    finally:
        sk("rm", "-f", name, check=False)


def test_run_detach_keys_checks(sk, name):  # type: ignore[no-untyped-def]
    """A bad sequence: the daemon's message and exit 1 (docker/cli's attach error), and nothing is made; with -d
    nothing attaches and the flag is not looked at; create has no such flag; without a terminal the keys are
    plain input."""
    try:
        cp = sk("run", "--detach-keys", "ctrl-1", "--name", name, *NONE, "busybox", "true", check=False)
        assert cp.returncode == 1 and cp.stderr.decode() == "Error: Invalid detach keys (ctrl-1) provided\n"
        assert sk("inspect", name, check=False).returncode == 1
        cp = sk("run", "-it", "--detach-keys", "nope", *NONE, "busybox", "true", check=False)  # the TTY first
        assert cp.returncode == 1 and cp.stderr.decode() == "Error: the input device is not a TTY\n"
        sk("run", "-d", "--detach-keys", "ctrl-1", "--name", name, *NONE, "busybox", "true")
        assert sk.out("wait", name) == "0\n"
        cp = sk("create", "--detach-keys", "ctrl-p", *NONE, "busybox", "true", check=False)
        assert cp.returncode == 125 and b"unknown flag: --detach-keys" in cp.stderr
        cp = sk("run", "--rm", "-i", "--detach-keys", "ctrl-x", *NONE, "busybox", "cat", input=b"a\x10\x11\x18b")
        assert cp.returncode == 0 and cp.stdout == b"a\x10\x11\x18b"
    finally:
        sk("rm", "-f", name, check=False)


def test_exec_detach_keys(sk, name):  # type: ignore[no-untyped-def]
    """exec -it: the keys let go and the process runs on, its terminal kept open (Docker's shim does the same);
    the client ends as attach does. A bad sequence: moby's exec create words it "escape keys", exit 1."""
    sk("run", "-d", "--name", name, *NONE, "busybox", "sleep", "600")
    try:
        argv = skiff_cmd(sk.root, sk.runroot, "exec", "-it", name, "sh", "-c", "echo ready; exec sleep 1234")
        out, code = pty_run(argv, [(b"ready", b"\x10\x11")])
        assert code == 1 and b"Error: read escape sequence" in out, out
        time.sleep(0.5)  # a hang-up would have ended it by now
        assert "sleep 1234" in sk.out("exec", name, "ps")
        argv = skiff_cmd(sk.root, sk.runroot, "exec", "-it", "--detach-keys", "ctrl-x,z", name, "sh", "-c",
                         "echo ready; cat")
        out, code = pty_run(argv, [(b"ready", b"x\x10y\r"), (b"x\x10y", b"\x18z")])
        assert code == 1 and b"Error: read escape sequence" in out, out
        assert _status(sk, name) == "running"
        for flags in ((), ("-d",), ("-it",)):
            cp = sk("exec", *flags, "--detach-keys", "bad", name, "true", check=False, input=b"")
            if "-it" in flags:  # docker/cli's TTY check comes before the exec is created
                assert cp.stderr.decode() == "Error: the input device is not a TTY\n"
                continue
            assert cp.returncode == 1 and cp.stderr.decode() == "Error: Invalid escape keys (bad) provided\n"
        cp = sk("exec", "--detach-keys", "bad", f"{name}_missing", "true", check=False)
        assert cp.returncode == 1 and cp.stderr.decode() == f"Error: No such container: {name}_missing\n"
    finally:
        sk("rm", "-f", name, check=False)
