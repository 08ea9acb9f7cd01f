"""ps filters and formats, inspect resolution, logs -f, attach/start -a, top, stats, signal forwarding,
prune, and state after a lost runroot (reboot)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time

NONE = ("--network", "none")


def test_ps_filters_format_and_inspect_resolution(sk, name):  # type: ignore[no-untyped-def]
    sk("create", "--name", f"{name}_a", *NONE, "--label", "tier=web", "busybox", "true")
    sk("run", "--name", f"{name}_b", *NONE, "busybox", "sh", "-c", "exit 4", check=False)
    names = sk.out("ps", "-a", "--filter", "label=tier=web", "--format", "{{.Names}}").split()
    assert names == [f"{name}_a"]
    assert sk.out("ps", "-a", "--filter", "status=exited", "--filter", f"name={name}_b",
                  "--format", "{{.Names}} {{.Status}}").startswith(f"{name}_b Exited (4)")
    assert f"{name}_a" in sk.out("ps", "-a", "--filter", "ancestor=busybox", "--format", "{{.Names}}")
    assert sk.out("ps", "-q", "--filter", f"name={name}") == ""  # none running
    header = sk.out("ps", "-a", "-n", "1").splitlines()[0]
    assert header.split() == ["CONTAINER", "ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"]
    cid = sk.out("inspect", "-f", "{{.Id}}", f"{name}_a").strip()
    assert len(cid) == 64
    assert sk.out("inspect", "-f", "{{.Config.Labels.tier}} {{.State.Status}}", cid[:12]).strip() == "web created"
    # plain inspect falls back to images, `container inspect` does not
    assert sk.out("inspect", "-f", "{{.Id}}", "busybox").startswith("sha256:")
    cp = sk("container", "inspect", "busybox", check=False)
    assert cp.returncode == 1 and b"No such container: busybox" in cp.stderr
    cp = sk("ps", "--filter", "bogus=1", check=False)
    assert cp.returncode == 1 and b"invalid filter" in cp.stderr
    sk("rm", f"{name}_a", f"{name}_b")


def test_logs_follow_attach_and_start_a(sk, name):  # type: ignore[no-untyped-def]
    sk("run", "-d", "--name", name, *NONE, "busybox", "sh", "-c", "for i in 1 2 3; do echo n$i; sleep 0.3; done")
    follow = sk.popen("logs", "-f", name, stdout=subprocess.PIPE)
    out, _ = follow.communicate(timeout=30)
    assert out == b"n1\nn2\nn3\n" and follow.returncode == 0
    cp = sk("start", "-a", name)
    assert cp.stdout == b"n1\nn2\nn3\n"
    sk("rm", name)
    sk("create", "--name", name, *NONE, "-i", "busybox", "sh", "-c", "read x; echo got $x; exit 9")
    cp = sk("start", "-a", "-i", name, input=b"hi\n", check=False)
    assert cp.returncode == 9 and cp.stdout == b"got hi\n"
    sk("rm", name)


def test_top_and_stats(sk, name):  # type: ignore[no-untyped-def]
    sk("run", "-d", "--name", name, *NONE, "--memory", "64m", "busybox", "sh", "-c", "sleep 60 & sleep 60")
    top = sk.out("top", name).splitlines()
    assert "PID" in top[0].split() and sum("sleep 60" in line for line in top) == 2
    stats = sk.out("stats", "--no-stream", name).splitlines()
    assert stats[0].split()[:3] == ["CONTAINER", "ID", "NAME"]
    row = stats[1]
    assert name in row and "/ 64MiB" in row and row.split()[-1] == "2"  # the two sleeps (sh exec'd the last)
    sk("rm", "-f", name)
    cp = sk("top", name, check=False)
    assert cp.returncode == 1


def test_foreground_run_forwards_sigterm(sk, name):  # type: ignore[no-untyped-def]
    p = sk.popen("run", "--name", name, *NONE, "busybox", "sh", "-c",
                 "trap 'echo caught; exit 7' TERM; echo ready; while true; do sleep 0.1; done",
                 stdout=subprocess.PIPE)
    assert p.stdout is not None
    assert p.stdout.readline() == b"ready\n"
    p.send_signal(signal.SIGTERM)
    out, _ = p.communicate(timeout=30)
    assert p.returncode == 7 and out == b"caught\n"
    sk("rm", name)


def test_runroot_lost_reads_exited(sk, name):  # type: ignore[no-untyped-def]
    """A reboot empties RUNROOT: the container must read as exited, and start again."""
    sk("run", "-d", "--name", name, *NONE, "busybox", "sleep", "60")
    info = json.loads(sk.out("inspect", name))[0]
    cid = info["Id"]
    raw = json.loads((sk.runroot / "containers" / cid / "state.json").read_text())
    os.kill(raw["MonitorPid"], signal.SIGKILL)
    os.kill(raw["Pid"], signal.SIGKILL)
    time.sleep(0.2)
    shutil.rmtree(sk.runroot / "containers" / cid)
    st = json.loads(sk.out("inspect", name))[0]["State"]
    assert st["Status"] == "exited" and not st["Running"]
    sk("start", name)
    assert json.loads(sk.out("inspect", name))[0]["State"]["Status"] == "running"
    sk("rm", "-f", name)


def test_volume_and_system_prune(sk, name):  # type: ignore[no-untyped-def]
    sk("volume", "create", "--label", "k=v", f"{name}_named")
    sk("create", "--name", name, *NONE, "-v", "/anon", "busybox", "true")
    anon = json.loads(sk.out("inspect", name))[0]["Mounts"][0]["Name"]
    out = sk.out("volume", "prune", "-f")
    assert anon not in out  # still used
    sk("rm", name)
    out = sk.out("volume", "prune", "-f")
    assert anon in out and f"{name}_named" not in out
    assert f"{name}_named" in sk.out("volume", "ls", "--filter", "label=k=v", "-q")
    sk("volume", "rm", f"{name}_named")
    sk("create", "--name", name, *NONE, "busybox", "true")
    out = sk.out("system", "prune", "-f")
    assert "Deleted Containers" in out
    assert sk("inspect", name, check=False).returncode == 1


def test_run_it_terminal(sk):  # type: ignore[no-untyped-def]
    """-it: a pty inside, raw mode outside, the window size followed, the exit code propagated."""
    from helpers.cli import pty_run, skiff_cmd

    argv = skiff_cmd(sk.root, sk.runroot, "run", "--rm", "-it", *NONE, "busybox", "sh")
    buf, code = pty_run(argv, [(b"# ", b"stty size; tty; echo T=$TERM; exit 3\r")], winsize=(40, 100))
    assert b"40 100\r\n" in buf and b"/dev/pts/0\r\n" in buf and b"T=xterm\r\n" in buf
    assert code == 3
