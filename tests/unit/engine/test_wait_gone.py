"""ContainerEngine._wait_gone: woken by a pidfd the moment the process exits (a zombie counts), False after the
timeout, True at once for a pid that is gone."""

from __future__ import annotations

import subprocess
import threading
import time

from skiff.engine.containers import ContainerEngine


def test_times_out_while_the_process_runs_and_wakes_when_it_exits() -> None:
    p = subprocess.Popen(["sleep", "30"])
    try:
        t0 = time.monotonic()
        assert ContainerEngine._wait_gone(p.pid, 0.2) is False
        assert 0.15 < time.monotonic() - t0 < 2
        threading.Timer(0.1, p.kill).start()
        t0 = time.monotonic()
        assert ContainerEngine._wait_gone(p.pid, 10) is True  # not reaped yet: a zombie counts as gone
        assert time.monotonic() - t0 < 2
    finally:
        p.kill()
        p.wait()
    assert ContainerEngine._wait_gone(p.pid, 10) is True  # reaped: no such process
    assert ContainerEngine._wait_gone(0, 10) is True
