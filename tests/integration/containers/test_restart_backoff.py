"""The restart policy's back-off (Docker's restartmanager): 100 ms before the first restart, doubled before each
next one, in the state ``restarting``; stop, kill and rm -f during the wait are prompt and cancel it."""

from __future__ import annotations

import json
import os
import time

from helpers.containers import leftovers

NONE = ("--network", "none")


def _inspect(sk, name):  # type: ignore[no-untyped-def]
    return json.loads(sk.out("inspect", name))[0]


def _state_file(sk, cid):  # type: ignore[no-untyped-def]
    return json.loads((sk.runroot / "containers" / cid / "state.json").read_text())


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return True
    return data[data.rindex(b")") + 2:data.rindex(b")") + 3] in (b"Z", b"X")


def _wait_restarting(sk, cid, *, min_delay_ms):  # type: ignore[no-untyped-def]
    """Poll until the container waits in a back-off of at least ``min_delay_ms``; that state."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            st = _state_file(sk, cid)
        except (OSError, ValueError):
            st = {}
        if st.get("Status") == "restarting" and st.get("RestartDelayMs", 0) >= min_delay_ms:
            return st
        time.sleep(0.02)
    raise AssertionError(f"never restarting with a back-off of {min_delay_ms} ms: {st}")


def test_restart_always_backs_off(sk, name):  # type: ignore[no-untyped-def]
    sk("run", "-d", "--name", name, *NONE, "--restart", "always", "busybox", "true")
    time.sleep(3)
    count = _inspect(sk, name)["RestartCount"]
    # 100 + 200 + 400 + 800 ms of back-off (plus the starts) fit in 3 s; 1.6 s more does not
    assert 3 <= count <= 6, count
    sk("rm", "-f", name)


def test_stop_during_backoff_is_prompt_and_final(sk, name):  # type: ignore[no-untyped-def]
    cid = sk.out("run", "-d", "--name", name, *NONE, "--restart", "always", "busybox", "true").strip()
    st = _wait_restarting(sk, cid, min_delay_ms=800)
    waiter = st["MonitorPid"]
    info = _inspect(sk, name)
    assert info["State"]["Status"] in ("restarting", "running")
    if info["State"]["Status"] == "restarting":  # Docker's State while it waits: running, restarting, no pid
        assert (info["State"]["Running"], info["State"]["Restarting"], info["State"]["Pid"]) == (True, True, 0)
    count = info["RestartCount"]
    t0 = time.monotonic()
    sk("stop", name)
    assert time.monotonic() - t0 < 2
    info = _inspect(sk, name)
    assert info["State"]["Status"] == "exited" and info["State"]["ExitCode"] == 0
    assert info["RestartCount"] >= count
    # the waiter gives up (it polls the state), and nothing restarts the container afterwards
    deadline = time.monotonic() + 2
    while not _gone(waiter) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _gone(waiter)
    time.sleep(st["RestartDelayMs"] / 1000 + 0.3)
    assert _inspect(sk, name)["State"]["Status"] == "exited"
    # a manual start after the stop works, and a restarting container counts as started
    sk("start", name)
    _wait_restarting(sk, cid, min_delay_ms=100)
    sk("start", name)
    # kill: cancels a back-off (Docker's kill of a restarting container), or races with the next exit
    sk("kill", name, check=False)
    sk("stop", name)
    assert _inspect(sk, name)["State"]["Status"] == "exited"
    sk("rm", name)


def test_rm_f_during_backoff_leaves_nothing(sk, name):  # type: ignore[no-untyped-def]
    cid = sk.out("run", "-d", "--name", name, *NONE, "--restart", "always", "busybox", "true").strip()
    st = _wait_restarting(sk, cid, min_delay_ms=400)
    t0 = time.monotonic()
    sk("rm", "-f", name)
    assert time.monotonic() - t0 < 2
    deadline = time.monotonic() + 2
    while not _gone(st["MonitorPid"]) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _gone(st["MonitorPid"])
    assert not os.path.exists(sk.root / "containers" / cid)
    assert not os.path.exists(sk.runroot / "containers" / cid)
    assert not [x for x in leftovers(sk.root) if cid in x]
    assert sk("inspect", name, check=False).returncode == 1
