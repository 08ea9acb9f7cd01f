"""Run-time port checks of ``skiff run -p``: warnings on stderr, never a failure.

After a container with published ports has started: a published container port the image does not EXPOSE,
a published TCP port nothing in the container listens on (naming the port the app does listen on, as in the
seed tutorial's ``-p 8000:80`` for an app on 8000), or an app bound to 127.0.0.1 only. The listeners come
from ``/proc/<pid>/net/tcp{,6}`` of the container's process (no tool inside the container), polled for at
most ``wait`` seconds (2 s by default, ``SKIFF_RUN_CHECK_WAIT`` to change it); polling stops as soon as every
published TCP port has a listener, so a correct ``run`` is not slowed. When nothing at all listens by then,
the app is taken to be still starting and no listener warning is given (only a wrong EXPOSE is reported).

``--skip-check ID`` (repeatable, comma-separated) or ``SKIFF_SKIP_CHECKS=ID,ID`` silences checks by id;
``all`` silences every check. Ids: ``published-not-exposed``, ``published-not-listening``, ``loopback-only``.

Entry points: ``run_findings(pid, published, exposed)`` (pure use of skiff.pyapp.ports),
``container_findings(eng, cid)`` (reads the record, state and image), ``warn_detached(eng, cid, skip)``
and ``watch_foreground(eng, skip)`` (the ``skiff run`` hooks).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from skiff.pyapp.findings import Finding
from skiff.pyapp.ports import PublishedPort, parse_exposed, port_findings, read_listeners

if TYPE_CHECKING:
    from .containers import ContainerEngine

SKIP_ENV = "SKIFF_SKIP_CHECKS"
WAIT_ENV = "SKIFF_RUN_CHECK_WAIT"
DEFAULT_WAIT = 2.0
POLL = 0.05
LISTENER_CHECKS = ("published-not-listening", "loopback-only")


def skip_ids(flags: Iterable[str] = (), env: Mapping[str, str] | None = None) -> set[str]:
    """The check ids to silence: ``--skip-check`` values and ``SKIFF_SKIP_CHECKS``, comma-separated."""
    env = os.environ if env is None else env
    words = [*flags, env.get(SKIP_ENV, "")]
    return {w.strip().lower() for item in words for w in item.split(",") if w.strip()}


def wait_seconds(env: Mapping[str, str] | None = None) -> float:
    env = os.environ if env is None else env
    try:
        return max(0.0, float(env.get(WAIT_ENV, "") or DEFAULT_WAIT))
    except ValueError:
        return DEFAULT_WAIT


def published_ports(port_bindings: Mapping[str, list[dict[str, str]]], *, publish_all: bool = False,
                    exposed: Iterable[str] = ()) -> list[PublishedPort]:
    """HostConfig.PortBindings (``{"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}]}``), plus every
    exposed port under ``-P``, as PublishedPort values (one per container port and host binding)."""
    out: list[PublishedPort] = []
    keys = dict(port_bindings)
    if publish_all:
        for key in exposed:
            keys.setdefault(key, [{}])
    for key, bindings in keys.items():
        spec, _, proto = key.partition("/")
        if not spec.isdigit():
            continue
        for b in bindings or [{}]:
            hp = (b.get("HostPort") or "").strip()
            host_port: int | str | None = int(hp) if hp.isdigit() else (hp or None)
            out.append(PublishedPort(int(spec), (proto or "tcp").lower(), host_port, b.get("HostIp") or ""))
    return out


def run_findings(pid: int, published: Iterable[PublishedPort], exposed: Iterable[str | tuple[int, str]], *,
                 wait: float = DEFAULT_WAIT, skip: Iterable[str] = (), proc: Path = Path("/proc"),
                 alive: Any = None) -> list[Finding]:
    """Findings for the container whose process is ``pid``. ``exposed`` is the image's ExposedPorts keys
    ("8000/tcp") or (port, proto) pairs. Waits up to ``wait`` s for listeners on the published TCP ports,
    returning as soon as all have one; a process that exits meanwhile ends the wait (no listener findings)."""
    published = list(published)
    if not published:
        return []
    skip = {s.lower() for s in skip}
    if "all" in skip:
        return []
    exposed = list(exposed)
    pairs = {e for e in exposed if isinstance(e, tuple)} | parse_exposed(e for e in exposed if isinstance(e, str))
    listeners = None
    tcp = {p.container_port for p in published if p.proto == "tcp"}
    if tcp and not set(LISTENER_CHECKS) <= skip:
        listeners = _wait(pid, tcp, wait, proc, alive)
        if not listeners:  # nothing listens yet (still starting) or gone: no claim about listeners
            listeners = None
    return port_findings(published, pairs, listeners, skip=skip)


def _wait(pid: int, ports: set[int], wait: float, proc: Path, alive: Any) -> list[Any]:
    deadline = time.monotonic() + wait
    while True:
        try:
            found = read_listeners(pid, proc)
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            return []
        if ports <= {lst.port for lst in found} or time.monotonic() >= deadline:
            return found
        if alive is not None and not alive():
            return []
        time.sleep(POLL)


def container_findings(eng: ContainerEngine, cid: str, *, skip: Iterable[str] = (),
                       wait: float | None = None) -> list[Finding]:
    """Findings for a running container: its published ports, its process and its image's ExposedPorts."""
    rec = eng.cs.record(cid)
    hc = rec.host_config
    published = published_ports(hc.port_bindings, publish_all=hc.publish_all_ports,
                                exposed=rec.config.exposed_ports)
    if not published:
        return []
    st = eng.cs.state(cid)
    if not st.st.is_live or st.pid <= 0:
        return []
    exposed = _image_exposed(eng, rec.image)
    return run_findings(st.pid, published, exposed, wait=wait_seconds() if wait is None else wait, skip=skip,
                        alive=lambda: _is_live(eng, cid))


def _image_exposed(eng: ContainerEngine, image_id: str) -> list[str]:
    """The image's own ExposedPorts (the container's Config.ExposedPorts also holds every -p port)."""
    from skiff.errors import SkiffError

    try:
        cfg = eng.store.image_config(eng.store.get_image(image_id))
    except SkiffError:
        return []
    return list((cfg.config.exposed_ports or {}) if cfg.config else {})


def _is_live(eng: ContainerEngine, cid: str) -> bool:
    try:
        return bool(eng.cs.state(cid).st.is_live)
    except Exception:
        return False


def render(f: Finding) -> str:
    """``WARNING: <message>: <fix> (--skip-check <id> to silence)``."""
    fix = f": {f.fix}" if f.fix else ""
    return f"WARNING: {f.message}{fix} (--skip-check {f.id} to silence)"


def _emit(findings: Iterable[Finding]) -> None:
    eol = "\r\n" if os.isatty(2) else "\n"  # a foreground -t run has the terminal in raw mode
    text = "".join(render(f) + eol for f in findings)
    if text:
        try:
            os.write(2, text.encode())
        except OSError:
            pass


def warn_detached(eng: ContainerEngine, cid: str, skip: Iterable[str] = ()) -> None:
    """``skiff run -d``: print the findings of the started container on stderr (never raises)."""
    skip = skip_ids(skip)
    if "all" in skip:
        return
    try:
        found = container_findings(eng, cid, skip=skip)
    except Exception as e:  # a check must never fail a run
        found = [Finding("run-check", f"the port checks could not run: {e}")]
    _emit(found)


def watch_foreground(eng: ContainerEngine, skip: Iterable[str] = ()) -> int | None:
    """Foreground ``skiff run -p``: fork a watcher (before the run, while this process has one thread) that
    waits for the container this process starts and monitors, prints its findings on stderr, and exits. It
    finds the container as the new one whose state names this process as its monitor, and gives up when this
    process exits. Returns the watcher's pid (reaped by the run's monitor or by init), or None."""
    skip = skip_ids(skip)
    if "all" in skip:
        return None
    parent = os.getpid()
    before = set(eng.cs.ids())
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid:
        return pid
    try:  # the child: never returns
        import signal

        os.setsid()  # the terminal's ^C and ^Z are for the container, not the watcher
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0)
        os.dup2(null, 1)
        cid = _await_container(eng, parent, before)
        if cid is not None:
            _emit(container_findings(eng, cid, skip=skip))
    except BaseException:
        pass
    os._exit(0)


def _parent_of(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return int(f.read().rpartition(b")")[2].split()[1])
    except (OSError, ValueError, IndexError):
        return 0


def _await_container(eng: ContainerEngine, parent: int, before: set[str]) -> str | None:
    """The container that ``parent`` starts and monitors (or, for ``run -it``, whose monitor is its child),
    once it runs; None when ``parent`` exits first."""
    while os.getppid() == parent:
        for cid in set(eng.cs.ids()) - before:
            st = eng.cs.raw_state(cid)
            if st.status == "running" and parent in (st.monitor_pid, _parent_of(st.monitor_pid)):
                return cid
        time.sleep(POLL)
    return None
