"""Start and stop the per-network DNS responder (:mod:`skiff.network.dns`); pid files under RUNROOT."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import sys
from pathlib import Path

from skiff.network.model import NetworkError, NetworkRecord


def _pidfile(runroot: Path, network: str) -> Path:
    return runroot / "networks" / "dns" / f"{network}.pid"


def running_pid(runroot: Path, network: str) -> int | None:
    """The responder's pid if its pid file names a live ``skiff.network.dns`` process of this network."""
    try:
        pid = int(_pidfile(runroot, network).read_text())
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError):
        return None
    if b"skiff.network.dns" in cmd and network.encode() in cmd:
        return pid
    return None


def ensure(root: Path, runroot: Path, rec: NetworkRecord, upstreams: list[str]) -> int:
    """Start the responder on the network's gateway unless it runs; wait until it listens."""
    pid = running_pid(runroot, rec.name)
    if pid is not None:
        return pid
    pf = _pidfile(runroot, rec.name)
    pf.parent.mkdir(parents=True, exist_ok=True)
    log = open(pf.with_suffix(".log"), "ab")  # handed to the child
    import subprocess  # only to start the responder (once per network)

    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "skiff.network.dns", str(root), rec.name, rec.gateway, *upstreams],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log, start_new_session=True,
            close_fds=True)
    finally:
        log.close()
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], 10)
    line = proc.stdout.readline() if ready else b""
    proc.stdout.close()
    if line.strip() != b"ready":
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        proc.wait()
        raise NetworkError(f"the DNS responder of network {rec.name} did not start (see {pf.with_suffix('.log')})")
    pf.write_text(str(proc.pid))
    return proc.pid


def stop(runroot: Path, network: str) -> None:
    pid = running_pid(runroot, network)
    if pid is not None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    with contextlib.suppress(FileNotFoundError):
        _pidfile(runroot, network).unlink()
