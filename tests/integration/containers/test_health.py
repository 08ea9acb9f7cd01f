"""Health checks with no daemon: the monitor (native for detached containers, the CLI's own for a foreground
run) probes the container every interval; `ps` shows "(healthy)", `inspect` State.Health, `ps --filter health=`;
the image's HEALTHCHECK applies unless --no-healthcheck, --health-* override it; timeouts and the start
period as Docker counts them."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

NONE = ("--network", "none")


def _health(sk, name):  # type: ignore[no-untyped-def]
    return json.loads(sk.out("inspect", name))[0]["State"].get("Health")


def _until(sk, name, status: str, timeout: float = 15):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        h = _health(sk, name)
        if h and h["Status"] == status:
            return h
        time.sleep(0.1)
    raise AssertionError(f"{name}: health never {status}: {_health(sk, name)}")


@pytest.mark.parametrize("monitor", ["native", "python"])
def test_healthy_then_unhealthy(sk, name, monitor):  # type: ignore[no-untyped-def]
    env = {"SKIFF_MONITOR": "python"} if monitor == "python" else None
    sk("run", "-d", "--name", name, *NONE, "--health-cmd", "test -f /tmp/ok", "--health-interval", "200ms",
       "--health-retries", "2", "busybox", "sh", "-c", "touch /tmp/ok; sleep 600", env=env)
    try:
        assert sk.out("ps", "--format", "{{.Status}}", "-f", f"name={name}").strip().endswith(
            "(health: starting)")
        _until(sk, name, "healthy")
        assert sk.out("ps", "--format", "{{.Status}}", "-f", f"name={name}").strip().endswith("(healthy)")
        assert sk.out("ps", "-q", "-f", "health=healthy").split() == [_id(sk, name)]
        assert sk.out("ps", "-q", "-f", "health=none") == ""
        sk("exec", name, "rm", "/tmp/ok")
        h = _until(sk, name, "unhealthy")
        assert h["FailingStreak"] >= 2 and h["Log"][-1]["ExitCode"] == 1 and len(h["Log"]) <= 5
        assert sk.out("ps", "--format", "{{.Status}}", "-f", f"name={name}").strip().endswith("(unhealthy)")
        assert sk.out("inspect", "-f", "{{.State.Health.Status}}", name).strip() == "unhealthy"
    finally:
        sk("rm", "-f", name)


def _id(sk, name: str) -> str:  # type: ignore[no-untyped-def]
    return sk.out("inspect", "-f", "{{.Id}}", name).strip()[:12]


def test_foreground_run_probes_too(sk, name):  # type: ignore[no-untyped-def]
    out = sk.out("run", "--name", name, *NONE, "--health-cmd", "echo probed", "--health-interval", "100ms",
                 "busybox", "sh", "-c", "sleep 3; echo done")
    assert out == "done\n"
    h = _health(sk, name)
    assert h["Status"] == "healthy" and h["Log"][-1]["Output"] == "probed\n"
    sk("rm", name)


def test_timeout_and_start_period(sk, name):  # type: ignore[no-untyped-def]
    sk("run", "-d", "--name", name, *NONE, "--health-cmd", "sleep 5", "--health-timeout", "200ms",
       "--health-interval", "100ms", "--health-retries", "1", "--health-start-period", "1s", "busybox",
       "sleep", "600")
    try:
        time.sleep(0.6)  # failures within the start period are logged, not counted
        h = _health(sk, name)
        assert h["Status"] == "starting" and h["FailingStreak"] == 0
        assert h["Log"][0]["ExitCode"] == -1 and h["Log"][0]["Output"] == "Health check exceeded timeout (200ms)"
        _until(sk, name, "unhealthy")
    finally:
        sk("rm", "-f", name)


def test_image_healthcheck_and_overrides(sk, name, tmp_path: Path, busybox_tar: Path):  # type: ignore[no-untyped-def]
    sk("import", "--change", 'CMD ["sleep", "600"]', "--change",
       "HEALTHCHECK --interval=150ms --retries=1 CMD test -e /etc/passwd", str(busybox_tar), "hcimage")
    try:
        sk("run", "-d", "--name", name, *NONE, "hcimage")
        cfg = json.loads(sk.out("inspect", name))[0]["Config"]["Healthcheck"]
        assert cfg["Test"] == ["CMD-SHELL", "test -e /etc/passwd"] and cfg["Interval"] == 150_000_000
        _until(sk, name, "healthy")
        sk("rm", "-f", name)
        sk("run", "-d", "--name", name, *NONE, "--health-cmd", "false", "hcimage")  # keeps the image's interval
        cfg = json.loads(sk.out("inspect", name))[0]["Config"]["Healthcheck"]
        assert cfg == {"Test": ["CMD-SHELL", "false"], "Interval": 150_000_000, "Retries": 1}
        _until(sk, name, "unhealthy")
        sk("rm", "-f", name)
        sk("run", "-d", "--name", name, *NONE, "--no-healthcheck", "hcimage")
        assert json.loads(sk.out("inspect", name))[0]["Config"]["Healthcheck"] == {"Test": ["NONE"]}
        assert _health(sk, name) is None
        assert sk.out("inspect", "-f", "{{.State.Health}}", name).strip() == "<nil>"
        assert sk.out("ps", "--format", "{{.Status}}", "-f", f"name={name}").strip().startswith("Up ")
    finally:
        sk("rm", "-f", name, check=False)
        sk("rmi", "hcimage", check=False)


def test_healthcheck_command(sk, name):  # type: ignore[no-untyped-def]
    sk("run", "-d", "--name", name, *NONE, "--health-cmd", "exit 0", "--health-interval", "1h", "busybox",
       "sleep", "600")
    try:
        assert sk("container", "healthcheck", name).returncode == 0
        assert _health(sk, name)["Status"] == "healthy"
    finally:
        sk("rm", "-f", name)
    sk("create", "--name", name, *NONE, "busybox", "true")
    cp = sk("container", "healthcheck", name, check=False)
    assert cp.returncode == 1 and cp.stderr.decode().strip() == f"Error: container {name} has no defined healthcheck"
    sk("rm", name)


def test_commit_keeps_the_healthcheck(sk, name):  # type: ignore[no-untyped-def]
    sk("create", "--name", name, *NONE, "--health-cmd", "true", "--health-interval", "5s", "busybox", "true")
    try:
        sk("commit", name, "hc-committed")
        cfg = json.loads(sk.out("image", "inspect", "hc-committed"))[0]["Config"]["Healthcheck"]
        assert cfg == {"Test": ["CMD-SHELL", "true"], "Interval": 5_000_000_000}
    finally:
        sk("rm", name)
        sk("rmi", "hc-committed", check=False)
