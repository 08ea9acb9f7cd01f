"""Docker's behaviour where an audit of the lifecycle verbs found skiff apart: several containers per command
(each argument printed as typed, the errors after them, exit 1), kill's signals, pause/unpause messages, stop
and restart's -s/-t, start's summary, rename's errors, export -o, diff's order and volume rm."""

from __future__ import annotations

import contextlib
import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

NONE = ("--network", "none")
TRAP = 'trap "echo got" USR1; trap "exit 3" TERM; while :; do sleep 0.1; done'


@contextlib.contextmanager
def containers(sk, *names: str) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """Remove ``names`` (and their anonymous volumes) however the test ends."""
    try:
        yield
    finally:
        sk("rm", "-f", "-v", *names, check=False)


def _id(sk, name: str) -> str:  # type: ignore[no-untyped-def]
    return str(json.loads(sk.out("inspect", name))[0]["Id"])


def _status(sk, name: str) -> str:  # type: ignore[no-untyped-def]
    return sk.out("inspect", "-f", "{{.State.Status}}", name).strip()


def _combined(sk, *args: str) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    """Exit code and stdout+stderr as one stream (as `2>&1` shows them)."""
    p = sk.popen(*args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out, _ = p.communicate(timeout=60)
    return p.returncode, out.decode()


def test_several_containers_print_each_as_typed_then_the_errors(sk, name):  # type: ignore[no-untyped-def]
    run, made = f"{name}_run", f"{name}_made"
    with containers(sk, run, made):
        cid = sk.out("run", "-d", "--name", run, *NONE, "busybox", "sleep", "600").strip()
        sk("create", "--name", made, *NONE, "busybox", "true")
        # stop: a container that is not running is no error; the missing one is reported after the others
        rc, out = _combined(sk, "stop", "-t", "1", "nosuch", cid[:12], made)
        assert rc == 1
        assert out == f"{cid[:12]}\n{made}\nError response from daemon: No such container: nosuch\n"
        sk("start", run)
        rc, out = _combined(sk, "rm", run, "nosuch", "/", made)
        assert rc == 1
        assert out == (f"{made}\n"
                       f'Error response from daemon: cannot remove container "/{run}": container is running: '
                       "stop the container before removing or force remove\n"
                       "Error response from daemon: No such container: nosuch\n"
                       "Error: container name cannot be empty\n")
        cp = sk("container", "remove", "-f", "nosuch", run, check=False)
        assert cp.returncode == 0 and cp.stdout.decode() == f"{run}\n"
        assert cp.stderr.decode() == "Error response from daemon: No such container: nosuch\n"


def test_start_several_names_the_failed_ones(sk, name):  # type: ignore[no-untyped-def]
    ok, bad = f"{name}_ok", f"{name}_bad"
    with containers(sk, ok, bad):
        sk("create", "--name", ok, *NONE, "busybox", "true")
        sk("create", "--name", bad, *NONE, "busybox", "/nonexistent")
        cp = sk("start", bad, ok, "nosuch", check=False)
        assert cp.returncode == 1 and cp.stdout.decode() == f"{ok}\n"
        err = cp.stderr.decode().splitlines()
        assert err[0].startswith('Error response from daemon: exec: "/nonexistent"')
        assert err[1:] == ["Error response from daemon: No such container: nosuch",
                           f"Error: failed to start containers: {bad}, nosuch"]


def test_kill_signals_and_errors(sk, name):  # type: ignore[no-untyped-def]
    with containers(sk, name):
        sk("run", "-d", "--name", name, *NONE, "busybox", "sh", "-c", TRAP)
        for n, sig in enumerate(("usr1", "SIGUSR1", "10"), 1):  # one at a time: pending signals merge
            assert sk.out("kill", "-s", sig, name) == f"{name}\n"
            deadline = time.monotonic() + 10
            while sk.out("logs", name).count("got") < n and time.monotonic() < deadline:
                time.sleep(0.1)
            assert sk.out("logs", name) == "got\n" * n
        for sig, why in (("FOO", "invalid signal: FOO"), ("0", "invalid signal: 0"),
                         ("99", "the linux daemon does not support signal 99")):
            cp = sk("kill", "-s", sig, name, check=False)
            assert cp.returncode == 1
            assert cp.stderr.decode() == f"Error response from daemon: cannot kill container: {name}: {why}\n"
        assert _status(sk, name) == "running"
        cid = _id(sk, name)
        sk("kill", name)
        cp = sk("kill", name, "nosuch", check=False)
        assert cp.returncode == 1 and cp.stdout == b""
        assert cp.stderr.decode() == (
            f"Error response from daemon: cannot kill container: {name}: Container {cid} is not running\n"
            "Error response from daemon: cannot kill container: nosuch: No such container: nosuch\n")


def test_pause_and_unpause_messages(sk, name):  # type: ignore[no-untyped-def]
    made = f"{name}_made"
    with containers(sk, name, made):
        sk("run", "-d", "--name", name, *NONE, "busybox", "sleep", "600")
        sk("create", "--name", made, *NONE, "busybox", "true")
        cid, made_id = _id(sk, name), _id(sk, made)
        cp = sk("pause", name, name, made, check=False)
        assert cp.returncode == 1 and cp.stdout.decode() == f"{name}\n"
        assert cp.stderr.decode() == (f"Error response from daemon: Container {cid} is already paused\n"
                                      f"Error response from daemon: Container {made_id} is not running\n")
        assert _status(sk, name) == "paused"
        cp = sk("container", "unpause", name, name, made, check=False)
        assert cp.returncode == 1 and cp.stdout.decode() == f"{name}\n"
        assert cp.stderr.decode() == (f"Error response from daemon: Container {cid} is not paused\n"
                                      f"Error response from daemon: Container {made_id} is not paused\n")
        assert _status(sk, name) == "running"


def test_stop_signal_and_timeouts(sk, name):  # type: ignore[no-untyped-def]
    with containers(sk, name):
        sk("run", "-d", "--name", name, *NONE, "busybox", "sleep", "600")
        cp = sk("stop", "-s", "FOO", name, check=False)
        assert cp.returncode == 1
        assert cp.stderr.decode() == f"Error response from daemon: cannot stop container: {name}: invalid signal: FOO\n"
        assert _status(sk, name) == "running"
        # -t -1: no forced kill (PID 1 ignores SIGTERM without a handler): stop waits until the container ends
        p = sk.popen("stop", "-t", "-1", name, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            time.sleep(1.5)
            assert p.poll() is None and _status(sk, name) == "running"
            sk("kill", name)
            out, err = p.communicate(timeout=30)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        assert p.returncode == 0 and out.decode() == f"{name}\n", err
        assert _status(sk, name) == "exited"
        assert sk.out("stop", "-s", "FOO", name) == f"{name}\n"  # not running: nothing to signal


def test_restart_signal_and_errors(sk, name):  # type: ignore[no-untyped-def]
    bad = f"{name}_bad"
    with containers(sk, name, bad):
        sk("run", "-d", "--name", name, *NONE, "busybox", "sh", "-c", TRAP)
        t0 = time.monotonic()
        assert sk.out("container", "restart", "-s", "USR1", "-t", "1", name) == f"{name}\n"
        assert time.monotonic() - t0 >= 1  # USR1 did not end it: killed after the timeout
        assert sk.out("logs", name).startswith("got\n")
        assert _status(sk, name) == "running"
        cp = sk("restart", "-s", "FOO", name, check=False)
        assert cp.returncode == 1
        assert cp.stderr.decode() == f"Error response from daemon: Cannot restart container {name}: invalid signal: FOO\n"
        sk("create", "--name", bad, *NONE, "busybox", "/nonexistent")
        cp = sk("restart", bad, "nosuch", check=False)
        assert cp.returncode == 1
        err = cp.stderr.decode().splitlines()
        assert err[0].startswith(f'Error response from daemon: Cannot restart container {bad}: exec: "/nonexistent"')
        assert err[1:] == ["Error response from daemon: No such container: nosuch"]


def test_rename_errors(sk, name):  # type: ignore[no-untyped-def]
    other = f"{name}_other"
    with containers(sk, name, other):
        sk("create", "--name", name, *NONE, "busybox", "true")
        other_id = sk.out("create", "--name", other, *NONE, "busybox", "true").strip()
        cp = sk("rename", name, " ", check=False)
        assert cp.returncode == 1 and cp.stderr.decode() == "Error: Neither old nor new names may be empty\n"
        cp = sk("rename", name, "bad name", check=False)
        assert cp.returncode == 1
        assert cp.stderr.decode() == (
            "Error response from daemon: Error when allocating new name: Invalid container name (/bad name), only "
            "[a-zA-Z0-9][a-zA-Z0-9_.-] are allowed\n"
            f"Error: failed to rename container named {name}\n")
        cp = sk("rename", name, other, check=False)
        assert cp.returncode == 1
        assert cp.stderr.decode() == (
            f'Error response from daemon: Error when allocating new name: Conflict. The container name "/{other}" '
            f'is already in use by container "{other_id}". You have to remove (or rename) that container to be '
            "able to reuse that name.\n"
            f"Error: failed to rename container named {name}\n")
        cp = sk("rename", "nosuch", "x_y", check=False)
        assert cp.returncode == 1
        assert cp.stderr.decode() == ("Error response from daemon: No such container: nosuch\n"
                                      "Error: failed to rename container named nosuch\n")
        sk("container", "rename", f" {name} ", f"{name}_new")
        sk("rename", f"{name}_new", name)


def test_export_output_path(sk, name, tmp_path: Path):  # type: ignore[no-untyped-def]
    with containers(sk, name):
        sk("create", "--name", name, *NONE, "busybox", "true")
        cp = sk("export", "-o", str(tmp_path / "no" / "x.tar"), name, check=False)
        assert cp.returncode == 1
        assert cp.stderr.decode() == (f'Error: failed to export container: invalid output path: directory '
                                      f'"{tmp_path / "no"}" does not exist\n')
        cp = sk("export", "-o", "/dev/null", name, check=False)
        assert cp.returncode == 1
        assert cp.stderr.decode() == ('Error: failed to export container: invalid output path: "/dev/null" must be '
                                      "a directory or a regular file: got a device\n")
        out = tmp_path / "c.tar"
        cp = sk("export", "-o", str(out), "nosuch", check=False)
        assert cp.returncode == 1 and cp.stderr.decode() == "Error: No such container: nosuch\n"
        assert list(tmp_path.iterdir()) == []  # nothing written, no temporary file left
        sk("container", "export", "-o", str(out), name)
        assert [p.name for p in tmp_path.iterdir()] == ["c.tar"]
        names = subprocess.run(["tar", "-tf", str(out)], capture_output=True, check=True).stdout.decode().split()
        assert "bin/busybox" in names


def test_diff_in_dockers_walk_order(sk, name):  # type: ignore[no-untyped-def]
    with containers(sk, name):
        sk("run", "--name", name, *NONE, "busybox", "sh", "-c",
           "mkdir -p /w/a/b /w/a-b; touch /w/a/b/f /w/a-b/g /w/a.c /w/a0; rm /bin/ls")
        lines = [x for x in sk.out("container", "diff", name).splitlines() if x.split()[1].startswith(("/w", "/bin"))]
        assert lines == ["C /bin", "D /bin/ls", "A /w", "A /w/a", "A /w/a/b", "A /w/a/b/f", "A /w/a-b",
                         "A /w/a-b/g", "A /w/a.c", "A /w/a0"]


@pytest.mark.parametrize("verb", ["rm", "remove"])
def test_volume_rm_reports_after_the_removed(sk, name, verb):  # type: ignore[no-untyped-def]
    used, free = f"{name}_used", f"{name}_free"
    with containers(sk, name):
        try:
            assert sk.out("volume", "create", used) == f"{used}\n"
            assert sk.out("volume", "create", free) == f"{free}\n"
            cid = sk.out("create", "--name", name, *NONE, "-v", f"{used}:/data", "busybox", "true").strip()
            rc, out = _combined(sk, "volume", verb, "nosuch", used, free)
            assert rc == 1
            assert out == (f"{free}\n"
                           "Error response from daemon: get nosuch: no such volume\n"
                           f"Error response from daemon: remove {used}: volume is in use - [{cid}]\n")
            assert sk.out("volume", verb, "-f", "nosuch") == "nosuch\n"
        finally:
            sk("rm", "-f", name, check=False)
            sk("volume", "rm", "-f", used, free, check=False)
