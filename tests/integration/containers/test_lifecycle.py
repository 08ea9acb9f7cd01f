"""Detached containers and their monitor: logs, wait, stop/kill, pause, restart policy, exec, rm -f,
concurrency, and a monitor that dies."""

from __future__ import annotations

import json
import os
import signal
import time

from helpers.containers import leftovers

NONE = ("--network", "none")


def _inspect(sk, name):  # type: ignore[no-untyped-def]
    return json.loads(sk.out("inspect", name))[0]


def test_detached_outlives_cli_logs_and_exit_code(sk, name):  # type: ignore[no-untyped-def]
    cid = sk.out("run", "-d", "--name", name, *NONE, "busybox", "sh", "-c",
                 "echo one; echo two >&2; sleep 3; echo three; exit 7").strip()
    assert len(cid) == 64
    # the CLI that started it is gone; the monitor keeps logging
    st = _inspect(sk, name)["State"]
    assert st["Status"] == "running" and st["Pid"] > 0
    assert sk.out("ps", "-q", "--filter", f"name={name}").strip() == cid[:12]
    assert sk.out("wait", name).strip() == "7"
    logs = sk(*("logs", name))
    assert logs.stdout == b"one\nthree\n" and logs.stderr == b"two\n"
    assert sk.out("logs", "--tail", "1", name) == "three\n"
    stamped = sk.out("logs", "-t", name).splitlines()
    assert stamped[0].endswith(" one") and stamped[0][:4].isdigit() and "T" in stamped[0]
    st = _inspect(sk, name)["State"]
    assert st["Status"] == "exited" and st["ExitCode"] == 7 and st["Running"] is False
    assert st["FinishedAt"] > st["StartedAt"]
    assert "Exited (7)" in sk.out("ps", "-a", "--filter", f"name={name}")
    # a stopped container restarts with start, and logs append
    sk("start", name)
    assert sk.out("wait", name).strip() == "7"
    assert sk.out("logs", name).count("one") == 2
    sk("rm", name)


def test_stop_kill_pause_restart(sk, name):  # type: ignore[no-untyped-def]
    sk("run", "-d", "--name", name, *NONE, "busybox", "sleep", "60")
    t0 = time.monotonic()
    sk("stop", "-t", "1", name)  # sleep ignores nothing, but PID 1 ignores SIGTERM without a handler
    assert time.monotonic() - t0 < 8
    st = _inspect(sk, name)["State"]
    assert st["Status"] == "exited" and st["ExitCode"] == 137
    sk("start", name)
    sk("pause", name)
    assert _inspect(sk, name)["State"]["Status"] == "paused"
    cp = sk("exec", name, "true", check=False)
    assert cp.returncode != 0 and b"paused" in cp.stderr
    sk("unpause", name)
    assert _inspect(sk, name)["State"]["Status"] == "running"
    sk("kill", "-s", "USR1", name)  # PID 1 has no handler: the kernel drops it
    assert _inspect(sk, name)["State"]["Status"] == "running"
    sk("kill", name)
    assert sk.out("wait", name).strip() == "137"
    sk("rm", name)


def test_exec(sk, name):  # type: ignore[no-untyped-def]
    sk("run", "-d", "--name", name, *NONE, "-e", "BASE=1", "busybox", "sleep", "60")
    out = sk.out("exec", "-e", "X=2", "-w", "/tmp", "-u", "app", name, "sh", "-c", "echo $BASE $X; pwd; id -u")
    assert out == "1 2\n/tmp\n1000\n"
    assert sk("exec", name, "sh", "-c", "exit 42", check=False).returncode == 42
    cp = sk("exec", name, "nosuch", check=False)
    assert cp.returncode == 127 and b"executable file not found" in cp.stderr
    # exec joins the container's namespaces: same pid namespace (PID 1 is sleep), same hostname
    assert sk.out("exec", name, "cat", "/proc/1/comm").strip() == "sleep"
    assert sk.out("exec", name, "hostname").strip() == _inspect(sk, name)["Config"]["Hostname"]
    # a detached exec outlives the CLI (no parent-death signal once started) and runs in the container's cgroup
    sk("exec", "-d", name, "sh", "-c", "echo detached > /tmp/d; sleep 0.5; echo later >> /tmp/d; sleep 30")
    deadline = time.monotonic() + 10
    while sk.out("exec", name, "cat", "/tmp/d") != "detached\nlater\n" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert sk.out("exec", name, "cat", "/tmp/d") == "detached\nlater\n"
    assert "sleep 30" in sk.out("top", name)  # top lists the cgroup's processes
    assert sk.out("exec", "-i", name, "cat", input=b"piped\n") == "piped\n"
    sk("kill", name)
    sk("wait", name)
    cp = sk("exec", name, "true", check=False)
    assert cp.returncode == 1 and b"is not running" in cp.stderr
    sk("rm", name)


def test_restart_on_failure(sk, name):  # type: ignore[no-untyped-def]
    sk("run", "-d", "--name", name, *NONE, "--restart", "on-failure:2", "busybox", "sh", "-c",
       "echo run; exit 3")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        info = _inspect(sk, name)
        if info["RestartCount"] == 2 and info["State"]["Status"] == "exited":
            break
        time.sleep(0.1)
    assert info["RestartCount"] == 2 and info["State"]["ExitCode"] == 3
    time.sleep(0.3)
    assert sk.out("logs", name).count("run") == 3
    sk("rm", name)


def test_rm_refuses_running_and_rm_f_leaves_nothing(sk, name):  # type: ignore[no-untyped-def]
    cid = sk.out("run", "-d", "--name", name, *NONE, "busybox", "sh", "-c", "sleep 60 & sleep 60").strip()
    pid = _inspect(sk, name)["State"]["Pid"]
    cp = sk("rm", name, check=False)
    assert cp.returncode == 1
    assert b"container is running: stop the container before removing or force remove" in cp.stderr
    assert _inspect(sk, name)["State"]["Status"] == "running"
    sk("rm", "-f", name)
    assert not os.path.exists(f"/proc/{pid}") or _zombie_or_gone(pid)
    assert not [x for x in leftovers(sk.root) if cid in x]
    assert not os.path.exists(sk.root / "containers" / cid)
    assert sk("inspect", name, check=False).returncode == 1


def _zombie_or_gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[1].split()[0] == "Z"
    except OSError:
        return True


def test_concurrent_runs(sk, name):  # type: ignore[no-untyped-def]
    procs = [sk.popen("run", "-d", "--name", f"{name}{i}", *NONE, "busybox", "sh", "-c", f"echo {i}")
             for i in range(10)]
    for p in procs:
        assert p.wait(timeout=60) == 0
    names = [f"{name}{i}" for i in range(10)]
    for i, n in enumerate(names):
        assert sk.out("wait", n).strip() == "0"
        assert sk.out("logs", n) == f"{i}\n"
    assert len(set(sk.out("ps", "-aq", "--no-trunc").split())) >= 10
    sk("rm", *names)


def test_monitor_killed_reports_exited(sk, name):  # type: ignore[no-untyped-def]
    sk("run", "-d", "--name", name, *NONE, "busybox", "sleep", "60")
    raw = json.loads((sk.runroot / "containers" / _inspect(sk, name)["Id"] / "state.json").read_text())
    os.kill(raw["MonitorPid"], signal.SIGKILL)  # a monitor we started through skiff
    time.sleep(0.2)
    st = _inspect(sk, name)["State"]
    assert st["Status"] == "exited" and st["Running"] is False
    sk("rm", "-f", name)


def test_rename_and_prune(sk, name):  # type: ignore[no-untyped-def]
    sk("create", "--name", name, *NONE, "busybox", "true")
    sk("rename", name, f"{name}_new")
    assert sk("inspect", name, check=False).returncode == 1
    assert _inspect(sk, f"{name}_new")["Name"] == f"/{name}_new"
    out = sk.out("container", "prune", "-f")
    assert "Deleted Containers" in out
    assert sk("inspect", f"{name}_new", check=False).returncode == 1


def test_bridge_network_and_published_port(sk, name):  # type: ignore[no-untyped-def]
    import urllib.request

    sk("run", "-d", "--name", name, "-p", "127.0.0.1::80", "busybox", "sh", "-c",
       "echo hello-web > /tmp/index.html; exec httpd -f -p 80 -h /tmp")
    line = sk.out("port", name, "80").strip()
    assert line.startswith("127.0.0.1:")  # Docker's `port CTR 80`: host:port only
    port = int(line.rsplit(":", 1)[1])
    info = _inspect(sk, name)
    assert info["NetworkSettings"]["IPAddress"] and info["HostConfig"]["NetworkMode"] == "bridge"
    body = b""
    for _ in range(50):
        try:
            body = urllib.request.urlopen(f"http://127.0.0.1:{port}/index.html", timeout=2).read()
            break
        except OSError:
            time.sleep(0.1)
    assert body == b"hello-web\n"
    sk("rm", "-f", name)
    assert sk("port", name, check=False).returncode == 1


def test_python_and_native_monitors(sk, name):  # type: ignore[no-untyped-def]
    """Both monitors keep the same contract (logs, exit file, attach); the native one is small."""
    for kind in ("python", "native"):
        env = {"SKIFF_MONITOR": kind}
        sk("create", "-i", "--name", f"{name}_{kind}", *NONE, "busybox", "sh", "-c",
           "echo out; echo err >&2; read x; echo got:$x; exit 6", env=env)
        cp = sk("start", "-a", "-i", f"{name}_{kind}", input=b"line\n", env=env, check=False)
        assert cp.returncode == 6 and cp.stdout == b"out\ngot:line\n" and cp.stderr == b"err\n", kind
        assert sk.out("logs", f"{name}_{kind}") == "out\ngot:line\n"
        sk("run", "-d", "--name", f"{name}_{kind}_bg", *NONE, "busybox", "sleep", "30", env=env)
        cid = _inspect(sk, f"{name}_{kind}_bg")["Id"]
        mpid = json.loads((sk.runroot / "containers" / cid / "state.json").read_text())["MonitorPid"]
        exe = os.readlink(f"/proc/{mpid}/exe")
        with open(f"/proc/{mpid}/smaps_rollup") as f:
            pss = next(int(line.split()[1]) for line in f if line.startswith("Pss:"))
        if kind == "native":
            assert "skiff-monitor-" in exe and pss < 1024, (exe, pss)
        else:
            assert "python" in exe
        sk("rm", "-f", f"{name}_{kind}", f"{name}_{kind}_bg")


def test_external_runtimes_share_the_bundle(sk, name):  # type: ignore[no-untyped-def]
    """The same bundle runs under crun and runc (global --runtime); later commands use the recorded one."""
    import shutil

    for rt in ("crun", "runc"):
        if shutil.which(rt) is None:
            continue
        cp = sk("--runtime", rt, "run", "--rm", *NONE, "busybox", "sh", "-c", "echo hi; exit 3", check=False)
        assert (cp.returncode, cp.stdout) == (3, b"hi\n"), rt
        sk("--runtime", rt, "run", "-d", "--name", f"{name}_{rt}", *NONE, "busybox", "sleep", "30")
        assert _inspect(sk, f"{name}_{rt}")["HostConfig"]["Runtime"] == rt
        assert sk.out("exec", f"{name}_{rt}", "echo", "in") == "in\n"
        sk("rm", "-f", f"{name}_{rt}")
