"""Health checks, as Docker runs them (moby ``daemon/health.go``), with no daemon.

A container's ``Config.Healthcheck`` (its image's HEALTHCHECK, or ``--health-*``) is probed by its monitor: the
monitor (native or Python) runs ``skiff container healthcheck ID`` every interval (the start interval during
the start period while the container is still "starting"), one probe at a time. The probe runs the test in
the container as ``exec`` would, with the check's timeout, and records the result in
``RUNROOT/containers/ID/health.json``: ``Status`` (starting, healthy, unhealthy), ``FailingStreak`` and the last
five results, which ``inspect`` shows as ``State.Health`` and ``ps`` as "(healthy)". Its exit code tells the
monitor whether the container is still starting (3) or not (0).
"""

from __future__ import annotations

import json
import os
import time

from skiff.errors import InvalidArgumentError, SkiffError
from skiff.oci.health import HealthConfig
from skiff.records import replace

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .containers import ContainerEngine
    from .containers_model import ContainerRecord
    from .containers_options import CreateOptions

SECOND = 10**9
DEFAULT_INTERVAL = 30 * SECOND
DEFAULT_TIMEOUT = 30 * SECOND
DEFAULT_START_INTERVAL = 5 * SECOND
DEFAULT_RETRIES = 3
MAX_LOG = 5  # results kept in State.Health.Log
MAX_OUTPUT = 4096  # bytes of a probe's output kept
STILL_STARTING = 3  # the probe's exit code while the container is "starting"


def from_options(opts: CreateOptions, image: HealthConfig | None) -> HealthConfig | None:
    """The container's Healthcheck: docker/cli's --health-* and --no-healthcheck, the daemon's checks, then
    the image's HEALTHCHECK for what the flags leave unset (moby's merge)."""
    from skiff.units import parse_duration

    def duration(value: str | None, flag: str) -> int:
        if not value:
            return 0
        try:
            ns = parse_duration(value)
        except ValueError as e:
            raise InvalidArgumentError(f'invalid argument "{value}" for "{flag}" flag: {e}') from None
        if ns < 0:
            raise InvalidArgumentError(f"{flag} cannot be negative")
        return ns

    given = (opts.health_cmd or opts.health_interval or opts.health_timeout or opts.health_start_period
             or opts.health_start_interval or opts.health_retries)
    if opts.no_healthcheck:
        if given:
            raise InvalidArgumentError("--no-healthcheck conflicts with --health-* options")
        return HealthConfig(test=["NONE"])
    if not given:
        return image
    if opts.health_retries is not None and opts.health_retries < 0:
        raise InvalidArgumentError("--health-retries cannot be negative")
    user = HealthConfig(test=["CMD-SHELL", opts.health_cmd] if opts.health_cmd else [],  # 0: unset (omitted)
                        interval=duration(opts.health_interval, "--health-interval") or None,
                        timeout=duration(opts.health_timeout, "--health-timeout") or None,
                        start_period=duration(opts.health_start_period, "--health-start-period") or None,
                        start_interval=duration(opts.health_start_interval, "--health-start-interval") or None,
                        retries=opts.health_retries or None)
    for name, value in (("Interval", user.interval), ("Timeout", user.timeout), ("StartPeriod", user.start_period),
                        ("StartInterval", user.start_interval)):
        if value and value < 10**6:
            raise InvalidArgumentError(f"{name} in Healthcheck cannot be less than 1ms")
    if image is None:
        return user
    return HealthConfig(test=user.test or image.test, interval=user.interval or image.interval,
                        timeout=user.timeout or image.timeout, start_period=user.start_period or image.start_period,
                        start_interval=user.start_interval or image.start_interval,
                        retries=user.retries or image.retries)


def effective(rec: ContainerRecord) -> HealthConfig | None:
    """The check the container runs: None without one, or with ``NONE``."""
    hc = rec.config.healthcheck
    if hc is None or not hc.test or hc.test[0] == "NONE":
        return None
    return hc


def monitor_args(rec: ContainerRecord) -> dict[str, str]:
    """The monitor's health keys (milliseconds): empty when the container has no check."""
    hc = effective(rec)
    if hc is None:
        return {}
    return {"health_interval": str((hc.interval or DEFAULT_INTERVAL) // 10**6),
            "health_start_period": str((hc.start_period or 0) // 10**6),
            "health_start_interval": str((hc.start_interval or DEFAULT_START_INTERVAL) // 10**6)}


def path(eng: ContainerEngine, cid: str) -> str:
    return str(eng.cs.rdir(cid) / "health.json")


def reset(eng: ContainerEngine, rec: ContainerRecord) -> None:
    """A (re)started container with a check is "starting" again, its failing streak at 0 (moby's initHealth
    keeps the log)."""
    if effective(rec) is None:
        return
    old = read(eng, rec.id) or {}
    _write(eng, rec.id, {"Status": "starting", "FailingStreak": 0, "Log": old.get("Log") or []})


def read(eng: ContainerEngine, cid: str) -> dict[str, Any] | None:
    try:
        with open(path(eng, cid), "rb") as f:
            data = json.loads(f.read())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def status(eng: ContainerEngine, rec: ContainerRecord) -> str:
    """``starting``, ``healthy``, ``unhealthy``, or ``none`` for a container without a check."""
    if effective(rec) is None:
        return "none"
    h = read(eng, rec.id)
    return str(h.get("Status", "starting")) if h else "starting"


def _write(eng: ContainerEngine, cid: str, data: dict[str, Any]) -> None:
    target = path(eng, cid)
    tmp = f"{target}.{os.getpid()}.tmp"
    with open(tmp, "w") as f:
        json.dump(data, f)
    os.rename(tmp, target)  # no fsync: the runroot does not outlive a reboot


def probe(eng: ContainerEngine, text: str) -> int:
    """Run the container's check once and record the result (moby's handleProbeResult); STILL_STARTING when the
    container is still starting afterwards, else 0."""
    from skiff.monitor.logs import rfc3339_nano

    from .containers_state import Status

    cid = eng.cs.resolve(text)
    rec = eng.cs.record(cid)
    hc = effective(rec)
    st = eng.cs.state(cid)
    if hc is None or st.st is not Status.RUNNING:
        return 0
    start = time.time_ns()
    timeout = hc.timeout or DEFAULT_TIMEOUT
    try:
        code, output = _run(eng, cid, hc, timeout)
    except SkiffError as e:
        code, output = -1, e.message
    result = {"Start": rfc3339_nano(start), "End": rfc3339_nano(time.time_ns()), "ExitCode": code,
              "Output": output}
    h = read(eng, cid) or {"Status": "starting", "FailingStreak": 0, "Log": []}
    old = h.get("Status")
    if code == 0:
        h["FailingStreak"] = 0
        h["Status"] = "healthy"
    else:
        from skiff.monitor.logs import parse_rfc3339

        since_start = start - parse_rfc3339(st.started_at)
        if not (h.get("Status") == "starting" and since_start < (hc.start_period or 0)):
            h["FailingStreak"] = int(h.get("FailingStreak", 0)) + 1
            if h["FailingStreak"] >= (hc.retries or DEFAULT_RETRIES):
                h["Status"] = "unhealthy"
    h["Log"] = [*(h.get("Log") or []), result][-MAX_LOG:]
    if eng.cs.state(cid).st is Status.RUNNING:  # not after a stop or a restart meanwhile
        _write(eng, cid, h)
        if h["Status"] != old:  # moby logs each change
            eng.event(rec, f"health_status: {h['Status']}")
    return STILL_STARTING if h["Status"] == "starting" else 0


def _run(eng: ContainerEngine, cid: str, hc: HealthConfig, timeout: int) -> tuple[int, str]:
    """(exit code, output) of the test run in the container; -1 and Docker's words past ``timeout``."""
    import select
    import signal

    from .containers_exec import ExecOptions, prepare
    from .containers_launch import set_subreaper

    kind, *args = hc.test
    argv = ["/bin/sh", "-c", " ".join(args)] if kind == "CMD-SHELL" else list(args)
    if kind not in ("CMD", "CMD-SHELL") or not argv:
        raise SkiffError(f"unknown Healthcheck type {kind!r}")
    _, rec, process, _ = prepare(eng, cid, ExecOptions(command=argv))
    process = replace(process, terminal=False)
    r, w = os.pipe2(os.O_CLOEXEC)
    null = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
    set_subreaper()  # the detached process becomes our child: its exit code is ours to read
    try:
        pid = eng.driver(rec.host_config.runtime).exec(cid, process, detach=True, stdio=(null, w, w))
    finally:
        os.close(w)
        os.close(null)
    out = b""
    deadline = time.monotonic() + timeout / SECOND
    pidfd = os.pidfd_open(pid)
    try:
        p = select.poll()
        p.register(r, select.POLLIN)
        p.register(pidfd, select.POLLIN)
        reading, gone = True, False
        while reading or not gone:
            left = deadline - time.monotonic()
            if left <= 0:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return -1, f"Health check exceeded timeout ({_go_duration(timeout)})"
            for fd, _ in p.poll(max(1, int(left * 1000))):
                if fd == r:
                    chunk = os.read(r, 65536)
                    if chunk:
                        out = (out + chunk)[:MAX_OUTPUT]
                    else:
                        reading = False
                        p.unregister(r)
                else:
                    gone = True
                    p.unregister(pidfd)
                    reading = False  # a child of the check may keep the pipe: what is there is read below
        while chunk := _read_ready(r):
            out = (out + chunk)[:MAX_OUTPUT]
        _, status = os.waitpid(pid, 0)
    finally:
        os.close(pidfd)
        os.close(r)
    code = os.waitstatus_to_exitcode(status)
    return (code if code >= 0 else 128 - code), out.decode("utf-8", "replace")


def _read_ready(fd: int) -> bytes:
    os.set_blocking(fd, False)
    try:
        return os.read(fd, 65536)
    except BlockingIOError:
        return b""


def _go_duration(ns: int) -> str:
    """Go's Duration.String() for whole milliseconds and more: ``30s``, ``1m30s``, ``1.5s``, ``500ms``."""
    if ns < SECOND:
        return f"{ns // 10**6}ms"
    h, rest = divmod(ns, 3600 * SECOND)
    m, rest = divmod(rest, 60 * SECOND)
    secs = f"{rest / SECOND:.9f}".rstrip("0").rstrip(".")
    return (f"{h}h" if h else "") + (f"{m}m" if h or m else "") + f"{secs}s"
