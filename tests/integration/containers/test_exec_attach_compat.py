"""Docker's behaviour for exec, attach, start -a/-i and wait: messages word for word (after skiff's "Error: "),
exit codes, the environment, user and working directory of an exec, signal proxying and detach keys."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

NONE = ("--network", "none")
TRAP = 'trap "echo got TERM; exit 3" TERM; while true; do echo tick; sleep 0.1; done'
TICKING_CAT = "while :; do echo tick; sleep 0.2; done & cat; exit 4"


def _term_once_attached(p: subprocess.Popen[bytes]) -> bytes:
    """Once the client shows the container's first tick, SIGTERM to the client; its output (it is reaped
    whatever happens)."""
    try:
        assert p.stdout is not None and p.stdout.readline() == b"tick\n"  # attached
        p.send_signal(signal.SIGTERM)
        out, _ = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    return out


def _cid(sk, name):  # type: ignore[no-untyped-def]
    return sk.out("inspect", "-f", "{{.Id}}", name).strip()


def _status(sk, name):  # type: ignore[no-untyped-def]
    return sk.out("inspect", "-f", "{{.State.Status}}", name).strip()


def _wait_restarting(sk, cid):  # type: ignore[no-untyped-def]
    """Until the container sits in a restart back-off long enough to be looked at (800 ms or more)."""
    path = sk.runroot / "containers" / cid / "state.json"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            st = json.loads(path.read_text())
        except (OSError, ValueError):
            st = {}
        if st.get("Status") == "restarting" and st.get("RestartDelayMs", 0) >= 800:
            return
        time.sleep(0.02)
    raise AssertionError("the container never waited in a long enough back-off")




def test_exec_refused_states(sk, name):  # type: ignore[no-untyped-def]
    """moby's getActiveContainer: paused (named as given), not running (full id), restarting; exit 1."""
    sk("run", "-d", "--name", name, *NONE, "busybox", "sleep", "60")
    sk("pause", name)
    cp = sk("exec", name, "true", check=False)
    assert cp.returncode == 1
    assert cp.stderr.decode() == f"Error: Container {name} is paused, unpause the container before exec\n"
    sk("unpause", name)
    sk("kill", name)
    cid = _cid(sk, name)
    cp = sk("exec", name, "true", check=False)
    assert cp.returncode == 1 and cp.stderr.decode() == f"Error: Container {cid} is not running\n"
    # docker/cli inspects first: a missing container wins over the TTY check
    cp = sk("exec", "-it", f"{name}_missing", "true", input=b"", check=False)
    assert cp.returncode == 1 and cp.stderr.decode() == f"Error: No such container: {name}_missing\n"
    sk("run", "-d", "--name", f"{name}_r", *NONE, "--restart", "always", "busybox", "sh", "-c", "exit 1")
    rcid = _cid(sk, f"{name}_r")
    _wait_restarting(sk, rcid)
    cp = sk("exec", f"{name}_r", "true", check=False)
    assert cp.returncode == 1
    assert cp.stderr.decode() == f"Error: Container {rcid} is restarting, wait until the container is running\n"
    cp = sk("attach", f"{name}_r", check=False)
    assert cp.returncode == 1
    assert cp.stderr.decode() == "Error: You cannot attach to a restarting container, wait until it is running\n"
    sk("rm", "-f", name, f"{name}_r")


def test_exec_environment_user_and_workdir(sk, name):  # type: ignore[no-untyped-def]
    """CreateDaemonEnvironment (PATH, HOSTNAME, TERM with -t), the container's env, -e over it (a bare name the
    host does not set removes the variable), HOME from the user; the container's user and workdir by default."""
    assert "SKIFF_T_UNSET" not in os.environ
    sk("run", "-d", "--name", name, *NONE, "-e", "SKIFF_T_UNSET=1", "-e", "KEEP=2", "-w", "/tmp", "-u", "app",
       "busybox", "sleep", "60")
    host = _cid(sk, name)[:12]
    env = sk.out("exec", name, "env").splitlines()
    assert env == ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", f"HOSTNAME={host}",
                   "SKIFF_T_UNSET=1", "KEEP=2", "HOME=/home/app"]
    env = sk.out("exec", "-e", "SKIFF_T_UNSET", "-e", "FROM_HOST", "-e", "KEEP=3", name, "env",
                 env={"FROM_HOST": "h"}).splitlines()
    assert env[2:] == ["KEEP=3", "FROM_HOST=h", "HOME=/home/app"]
    assert "TERM=xterm" in sk.out("exec", "-t", name, "env").splitlines()[2]
    assert sk.out("exec", name, "sh", "-c", "pwd; id -u") == "/tmp\n1000\n"
    assert sk.out("exec", "-w", "/", "-u", "0", name, "sh", "-c", "pwd; echo $HOME; id -u") == "/\n/root\n0\n"
    # runc's GetExecUser: the user's groups only without an explicit group
    assert sk.out("exec", "-u", "app", name, "id", "-G").split() == ["1000", "2000"]
    assert sk.out("exec", "-u", "app:extra", name, "id").strip() == \
        "uid=1000(app) gid=2000(extra) groups=2000(extra)"
    assert sk.out("exec", "-u", "1000:2000", name, "id", "-G").split() == ["2000"]
    assert sk.out("exec", "-u", "4242", name, "sh", "-c", "id -u; id -g; echo $HOME") == "4242\n0\n/\n"
    sk("rm", "-f", name)


def test_exec_exit_codes(sk, name):  # type: ignore[no-untyped-def]
    """The command's own code; 127 not found; 126 cannot be invoked, and 126 for any other failure to set the
    process up (moby records 126 for a failed exec start)."""
    sk("run", "-d", "--name", name, *NONE, "busybox", "sleep", "60")
    assert sk("exec", name, "sh", "-c", "exit 42", check=False).returncode == 42
    cp = sk("exec", name, "nosuch", check=False)
    assert cp.returncode == 127 and b'exec: "nosuch": executable file not found in $PATH' in cp.stderr
    cp = sk("exec", name, "/etc", check=False)
    assert cp.returncode == 126 and b"permission denied" in cp.stderr
    cp = sk("exec", "-u", "nosuch", name, "true", check=False)
    assert cp.returncode == 126
    assert cp.stderr.decode() == "Error: unable to find user nosuch: no matching entries in passwd file\n"
    cp = sk("exec", "-u", "app:nogroup2", name, "true", check=False)
    assert cp.returncode == 126 and b"unable to find group nogroup2: no matching entries in group file" in cp.stderr
    assert sk("exec", "-w", "/nonexistent", name, "true", check=False).returncode == 126
    cp = sk("exec", "-w", "tmp", name, "true", check=False)
    assert cp.returncode == 126 and b"Cwd must be an absolute path" in cp.stderr
    assert sk.out("exec", name, "echo", "still") == "still\n"
    sk("rm", "-f", name)


def test_attach_checks_and_flags(sk, name):  # type: ignore[no-untyped-def]
    sk("create", "--name", name, *NONE, "busybox", "true")
    cp = sk("attach", name, check=False)
    assert cp.returncode == 1
    assert cp.stderr.decode() == "Error: You cannot attach to a stopped container, start it first\n"
    cp = sk("attach", f"{name}_missing", check=False)
    assert cp.returncode == 1 and cp.stderr.decode() == f"Error: No such container: {name}_missing\n"
    sk("rm", name)
    sk("run", "-d", "--name", name, *NONE, "busybox", "sleep", "60")
    sk("pause", name)
    cp = sk("attach", name, check=False)
    assert cp.returncode == 1
    assert cp.stderr.decode() == "Error: You cannot attach to a paused container, unpause it first\n"
    sk("unpause", name)
    cp = sk("attach", "--detach-keys", "ctrl-1", name, check=False)
    assert cp.returncode == 1 and cp.stderr.decode() == "Error: Invalid detach keys (ctrl-1) provided\n"
    cp = sk("attach", "--sig-proxy=maybe", name, check=False)
    assert cp.returncode == 125 and b'invalid argument "maybe" for "--sig-proxy" flag' in cp.stderr
    sk("rm", "-f", name)
    # a terminal cannot be fed from a pipe (docker/cli's CheckTty), unless --no-stdin
    sk("run", "-d", "-t", "--name", name, *NONE, "busybox", "sh", "-c", "sleep 1; echo out; exit 6")
    cp = sk("attach", name, input=b"", check=False)
    assert cp.returncode == 1 and cp.stderr.decode() == "Error: the input device is not a TTY\n"
    cp = sk("attach", "--no-stdin", name, check=False)
    assert cp.returncode == 6 and b"out" in cp.stdout
    sk("rm", "-f", name)


def test_attach_sig_proxy(sk, name):  # type: ignore[no-untyped-def]
    """--sig-proxy (the default): a signal to the client goes to the container, whose exit code attach returns;
    --sig-proxy=false: the client dies of it and the container runs on."""
    sk("run", "-d", "--name", name, *NONE, "busybox", "sh", "-c", TRAP)
    for proxy, expect in (("--sig-proxy=false", -signal.SIGTERM), ("--sig-proxy", 3)):
        p = sk.popen("attach", proxy, name, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out = _term_once_attached(p)
        assert p.returncode == expect
        if expect == 3:
            assert out.endswith(b"got TERM\n")
        else:
            assert _status(sk, name) == "running"
    assert _status(sk, name) == "exited"
    sk("rm", name)


def test_attach_detach_keys(sk, name):  # type: ignore[no-untyped-def]
    """ctrl-p,ctrl-q (or --detach-keys) lets go of a -it container, which runs on: docker/cli's "read escape
    sequence", exit 1. A partial sequence reaches the container; the container's exit ends attach with its code."""
    from helpers.cli import pty_run, skiff_cmd

    sk("run", "-d", "-it", "--name", name, *NONE, "busybox", "sh", "-c", TICKING_CAT)
    out, code = pty_run(skiff_cmd(sk.root, sk.runroot, "attach", name),
                         [(b"tick", b"x\x10y\r"), (b"x\x10y", b"\x10\x11")])
    assert code == 1 and b"Error: read escape sequence" in out
    assert _status(sk, name) == "running"
    out, code = pty_run(skiff_cmd(sk.root, sk.runroot, "attach", "--detach-keys", "ctrl-x,z", name),
                         [(b"tick", b"\x18z")])
    assert code == 1 and b"Error: read escape sequence" in out
    assert _status(sk, name) == "running"
    out, code = pty_run(skiff_cmd(sk.root, sk.runroot, "attach", name), [(b"tick", b"\x04")])  # EOF: cat ends
    assert code == 4
    sk("rm", name)


def test_start_attach(sk, name):  # type: ignore[no-untyped-def]
    """start -a/-i: one container only; stdin only for a container made with -i; signals forwarded; a bad
    --detach-keys refused before the start."""
    sk("create", "--name", name, *NONE, "busybox", "sh", "-c", "cat; echo done; exit 2")
    sk("create", "--name", f"{name}_b", *NONE, "busybox", "true")
    cp = sk("start", "-a", name, f"{name}_b", check=False)
    assert cp.returncode == 1
    assert cp.stderr.decode() == "Error: you cannot start and attach multiple containers at once\n"
    cp = sk("start", "-a", "--detach-keys", "bad", name, check=False)
    assert cp.returncode == 1 and cp.stderr.decode() == "Error: Invalid detach keys (bad) provided\n"
    assert _status(sk, name) == "created"
    cp = sk("start", "-ai", name, input=b"not for it\n", check=False)  # created without -i: no stdin
    assert cp.returncode == 2 and cp.stdout == b"done\n"
    cp = sk("start", "-a", f"{name}_missing", check=False)
    assert cp.returncode == 1 and cp.stderr.decode() == f"Error: No such container: {name}_missing\n"
    sk("rm", name, f"{name}_b")
    sk("create", "--name", name, *NONE, "busybox", "sh", "-c", TRAP)
    p = sk.popen("start", "-a", name, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = _term_once_attached(p)
    assert p.returncode == 3 and out.endswith(b"got TERM\n")
    sk("rm", name)


def test_wait_several(sk, name):  # type: ignore[no-untyped-def]
    """docker/cli's wait: each exit code on its own line in order; a missing container is an error (exit 1)
    that does not stop the wait for the others."""
    sk("run", "-d", "--name", f"{name}_a", *NONE, "busybox", "sh", "-c", "sleep 1; exit 3")
    sk("run", "-d", "--name", f"{name}_b", *NONE, "busybox", "sh", "-c", "exit 5")
    sk("create", "--name", f"{name}_c", *NONE, "busybox", "true")
    cp = sk("wait", f"{name}_a", f"{name}_missing", f"{name}_b", f"{name}_c", check=False)
    assert cp.returncode == 1 and cp.stdout == b"3\n5\n0\n"
    assert cp.stderr.decode() == f"Error response from daemon: No such container: {name}_missing\n"
    assert sk.out("wait", f"{name}_a", f"{name}_b") == "3\n5\n"
    sk("rm", f"{name}_a", f"{name}_b", f"{name}_c")
