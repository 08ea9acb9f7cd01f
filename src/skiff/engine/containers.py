"""Container use cases: create, start, run, stop, kill, restart, pause, rm, wait, cleanup, rename, prune.

``ContainerEngine(ctx)`` is the API the CLI (and later the API server and compose) call. Queries (ps,
inspect, logs, top, stats, port) are in :mod:`.containers_query`, file operations (cp, diff, export, commit)
in :mod:`.containers_files`, exec in :mod:`.containers_exec`.

LOCK ORDER (see containers_state): names.lock, then one container's lock. ``start`` holds the container's
lock until the state says running, so the monitor's cleanup of a container that exits at once waits for it.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from skiff.errors import ConflictError, InvalidArgumentError, NotFoundError, SkiffError
from skiff.monitor.logs import parse_rfc3339, rfc3339_nano
from skiff.records import dataclass, replace

from .containers_model import ContainerRecord, MountPoint
from .containers_options import CreateOptions, parse_signal
from .containers_state import ContainerStore, State, Status, boot_id, proc_start_time
from .volumes import Volumes

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from .runtimes import RuntimeDriver


@dataclass(frozen=True)
class CreateReport:
    """What ``create`` returns: the new container's ID and any warnings."""

    id: str
    warnings: list[str]


@dataclass(frozen=True)
class RunReport:
    """What ``run`` returns: the container's ID and its exit code (``None`` when detached)."""

    id: str
    exit_code: int | None  # None when detached


def now() -> str:
    return rfc3339_nano(time.time_ns())


class ContainerEngine:
    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx
        self.root = Path(ctx.root)
        self.runroot = Path(ctx.runroot)
        self.cs = ContainerStore(self.root, self.runroot)
        self.volumes = Volumes(self.root, self.runroot)
        self.plumber: Any = None  # a network helper started by run() (engine/networks.py: start_plumber)
        self.early_attached: set[str] = set()  # containers whose attach request the helper has (early_attach)
        self._torn_down: set[str] = set()  # containers this process tore down since it last started them
        self._drivers: dict[str, RuntimeDriver] = {}
        # told each of create's warnings as soon as the container exists (the CLI prints "WARNING: ...")
        self.on_warning: Callable[[str], None] | None = None

    @property
    def store(self) -> Any:
        return self.ctx.store

    def driver(self, name: str | None = None) -> RuntimeDriver:
        name = name or self.ctx.runtime or "skiff"
        if name not in self._drivers:
            from .runtimes import driver_for

            self._drivers[name] = driver_for(name, self.runroot)
        return self._drivers[name]

    def lookup(self, text: str) -> ContainerRecord:
        return self.cs.record(self.cs.resolve(text))

    def event(self, rec: ContainerRecord, action: str, extra: dict[str, str] | None = None) -> None:
        """Log a container event (``skiff events``), as the daemon does (engine/events.py)."""
        from skiff.events import container_event

        container_event(self.runroot, rec, action, extra)

    def volume_events(self, rec: ContainerRecord, action: str) -> None:
        """moby's "mount" (at start) and "unmount" (at the exit) events of each volume a container uses."""
        from skiff.events import emit

        for m in rec.mounts:
            if m.type == "volume" and m.name:
                attrs = {"container": rec.id, "driver": m.driver or "local"}
                if action == "mount":
                    attrs |= {"destination": m.destination, "propagation": m.propagation,
                              "read/write": "true" if m.rw else "false"}
                emit(self.runroot, "volume", action, m.name, attrs)

    # -- create ---------------------------------------------------------------------------------------
    def create(self, opts: CreateOptions) -> CreateReport:
        path = opts.cidfile or ""
        cidfile = _cidfile(path) if path else None
        try:
            rep = self._create(opts)
        except BaseException:
            if cidfile is not None:
                os.close(cidfile)
                os.unlink(path)
            raise
        if cidfile is not None:
            os.write(cidfile, rep.id.encode())
            os.close(cidfile)
        if self.on_warning is not None:
            for w in rep.warnings:
                self.on_warning(w)
        return rep

    def _create(self, opts: CreateOptions) -> CreateReport:
        from .containers_create import build_record, prepare_storage

        img, image_config = self._image(opts)
        rec = build_record(self, opts, img, image_config)
        warnings: list[str] = []
        hc = rec.host_config
        if hc.oom_kill_disable or hc.blkio_weight or hc.blkio_weight_device or hc.cpu_percent or hc.kernel_memory:
            from .containers_create import host_warnings

            rec, warnings = host_warnings(rec)
        with self.cs.names_lock():
            if not opts.name:  # a generated name that another container holds: draw again, as Docker does
                taken = self.cs.taken_names()
                if rec.bare_name in taken:
                    from .containers_create import random_name

                    old, new = rec.bare_name, random_name(taken)
                    links = [lk.replace(f":/{old}/", f":/{new}/", 1) for lk in rec.host_config.links or []]
                    rec = replace(rec, name="/" + new,
                                  host_config=replace(rec.host_config, links=links or rec.host_config.links))
            self.cs.add(rec)
        try:
            rec = prepare_storage(self, rec, img, image_config)
        except BaseException:
            self._remove_everything(rec, volumes=True)
            raise
        self.event(rec, "create")
        return CreateReport(id=rec.id, warnings=warnings)

    def _image(self, opts: CreateOptions) -> tuple[Any, Any]:
        if opts.pull not in ("missing", "always", "never"):
            raise InvalidArgumentError(f'invalid pull option: "{opts.pull}": must be one of "missing", "always" '
                                       'or "never"')
        try:
            img = self.store.resolve_image(opts.image)
        except NotFoundError:
            if opts.pull == "never":
                raise NotFoundError(f"No such image: {opts.image}") from None
            img = None
        if img is None or opts.pull == "always":
            img = self._pull(opts.image, opts.platform) if opts.pull != "never" else img
        cfg = self.store.image_config(img)
        if opts.platform:
            want = opts.platform.split("/")
            have = [cfg.os, cfg.architecture] + ([cfg.variant] if cfg.variant and len(want) > 2 else [])
            if want != have[:len(want)]:
                raise InvalidArgumentError(f"image with reference {opts.image} was found but does not match the "
                                           f"specified platform: wanted {opts.platform}, actual: "
                                           f"{'/'.join(have)}")
        return img, cfg

    def _pull(self, ref: str, platform: str | None) -> Any:
        """--pull missing (image absent) or always: pull through the registry use case, as Docker does."""
        from skiff.oci.reference import parse

        from .registry import PullOptions, pull

        name = str(parse(ref))
        if not self._has(ref):
            print(f"Unable to find image '{name}' locally", file=sys.stderr)
        rep = pull(self.ctx, PullOptions(reference=ref, platform=platform))
        return self.store.get_image(rep.image_id)

    def _has(self, ref: str) -> bool:
        try:
            self.store.resolve_image(ref)
        except NotFoundError:
            return False
        return True

    # -- start ----------------------------------------------------------------------------------------
    def start(self, text: str, *, attach: bool = False) -> ContainerRecord:
        """Start a created or exited container detached (under its own monitor). With ``attach`` the monitor
        holds the output until the first attach client (``start -a``) connects."""
        cid = self.cs.resolve(text)
        with self.cs.lock(cid):
            st = self.cs.state(cid)
            if st.st in (Status.RUNNING, Status.PAUSED, Status.RESTARTING):  # restarting: its waiter starts it
                return self.cs.record(cid)
            self._finish_if_needed(cid)
            return self._start_locked(cid, restart_count=self.cs.raw_state(cid).restart_count, attach=attach)

    def _start_locked(self, cid: str, restart_count: int, attach: bool = False,
                      restart_delay_ms: int = 0) -> ContainerRecord:
        from .containers_create import prepare_bundle
        from .containers_launch import launch_detached

        self._torn_down.discard(cid)
        self.cs.removing_path(cid).unlink(missing_ok=True)  # left by an `rm -f` that failed
        rec = self.cs.record(cid)
        drv = self.driver(rec.host_config.runtime)
        lc = rec.host_config.log_config
        try:
            if rec.host_config.links:
                from .networks import with_links

                rec = with_links(self, rec)
            bundle = prepare_bundle(self, rec)
            health = self.health_for_start(rec)
            launched = launch_detached(
                drv, cid, bundle, tty=rec.config.tty, interactive=rec.config.open_stdin,
                log=self.log_file(rec), log_limits=(lc.max_size, lc.max_file), exit_file=self.cs.exit_path(cid),
                attach=self.cs.attach_path(cid),
                exit_cmd=self.exit_command(cid), monitor_log=self.cs.rdir(cid) / "monitor.log",
                wait_attach=attach, native_dir=self.root / "bin", unless=self.cs.removing_path(cid),
                health=health, cgroup=rec.cgroup)
            from .networks import connect

            self.volume_events(rec, "mount")
            try:
                connect(self, rec, launched.pid)
            except BaseException:
                self._try(lambda: drv.kill(cid, 9, all_processes=True))
                raise
            drv.start(cid)
        except BaseException as e:
            self.start_failed(rec, e)
            raise
        self.cs.save_state(cid, State(status="running", pid=launched.pid, monitor_pid=launched.monitor_pid,
                                      monitor_start=proc_start_time(launched.monitor_pid), started_at=now(),
                                      restart_count=restart_count, restart_delay_ms=restart_delay_ms,
                                      boot_id=boot_id()))
        self.event(rec, "start")
        return rec

    def log_file(self, rec: ContainerRecord) -> Path | None:
        """Where the monitor writes the container's json-file log (None: ``--log-driver none``)."""
        return None if rec.host_config.log_config.type == "none" else self.cs.log_path(rec.id)

    def start_failed(self, rec: ContainerRecord, e: BaseException) -> None:
        """A start that failed before the process ran (lock held): release what it set up and record the exit
        code and State.Error. A container that never ran stays "created" (moby's StateString: StartedAt is
        zero); one that ran before is "exited" again."""
        self.event(rec, "die", {"exitCode": str(_code(e))})  # moby's containerStart logs it so too
        self._teardown(rec)
        raw = self.cs.raw_state(rec.id)
        never_ran = raw.started_at == State().started_at
        self.cs.save_state(rec.id, replace(raw, status="created" if never_ran else "exited", pid=0, monitor_pid=0,
                                           exit_code=_code(e), error=str(e),
                                           finished_at=raw.finished_at if never_ran else now()))
        self._forget_exit(rec.id)

    def exit_command(self, cid: str, verb: str = "cleanup") -> list[str]:
        exe = os.path.join(os.path.dirname(sys.executable), "skiff")
        argv = [exe] if os.path.exists(exe) else [sys.executable, "-m", "skiff.cli.main"]
        return [*argv, "--root", str(self.root), "--runroot", str(self.runroot), "container", verb, cid]

    def health_for_start(self, rec: ContainerRecord) -> tuple[list[str], dict[str, str]] | None:
        """For a container with a health check about to start: its state "starting" again, and (the probe
        command, the monitor's schedule keys); None without a check."""
        if rec.config.healthcheck is None:
            return None
        from . import containers_health

        keys = containers_health.monitor_args(rec)
        if not keys:
            return None
        containers_health.reset(self, rec)
        return self.exit_command(rec.id, "healthcheck"), keys

    def run_foreground(self, cid: str, *, interactive: bool, tty: bool) -> int:
        """Start a created container with this process as its monitor; returns its exit code."""
        from .containers_foreground import run_here

        self._torn_down.discard(cid)
        return run_here(self, cid, interactive=interactive, tty=tty)

    def run(self, opts: CreateOptions, *, detach_keys: str | None = None, sig_proxy: bool = True) -> RunReport:
        if opts.auto_remove and opts.restart not in ("no", ""):
            raise InvalidArgumentError("Conflicting options: --restart and --rm")
        from .networks import start_plumber, stop_plumber

        start_plumber(self, opts.network)
        try:
            return self._run(opts, detach_keys, sig_proxy)
        finally:
            stop_plumber(self)

    def _run(self, opts: CreateOptions, detach_keys: str | None = None, sig_proxy: bool = True) -> RunReport:
        rep = self.create(opts)
        if opts.detach:
            try:
                self.start(rep.id)
            except BaseException:
                if opts.auto_remove:
                    self.remove(rep.id, force=True, volumes=True)
                raise
            return RunReport(id=rep.id, exit_code=None)
        if (opts.interactive and opts.tty) or not sig_proxy:
            # detachable (ctrl-p,ctrl-q), or left running when this process is stopped (--sig-proxy=false):
            # under a monitor of its own, and this process attaches
            from .containers_foreground import run_attached

            return RunReport(id=rep.id, exit_code=run_attached(self, rep.id, opts, detach_keys, sig_proxy))
        if opts.restart in ("no", ""):
            return RunReport(id=rep.id, exit_code=self.run_foreground(rep.id, interactive=opts.interactive,
                                                                      tty=opts.tty))
        self.start(rep.id, attach=True)
        return RunReport(id=rep.id, exit_code=self.attach(rep.id, stdin=opts.interactive))

    def attach(self, text: str, *, stdin: bool = False, sig_proxy: bool = False, detach_keys: bytes = b"") -> int:
        """Stream the container until it exits; its exit code. ``sig_proxy``: the signals we receive are sent to
        it; ``detach_keys`` (with a terminal and stdin) raise ``containers_attach.Detached``."""
        from .containers_attach import attach

        cid = self.cs.resolve(text)
        rec = self.cs.record(cid)
        self.event(rec, "attach")
        proxy = (lambda n: self._try(lambda: self.kill(cid, str(n)))) if sig_proxy else None
        while True:
            code = attach(str(self.cs.attach_path(cid)), stdin=stdin, tty=rec.config.tty,
                          retry_while=lambda: self.cs.state(cid).st.is_live, detach_keys=detach_keys,
                          on_signal=proxy)
            if code is not None:
                st = self.wait_state(cid, timeout=5)
                if st.st is Status.RESTARTING or (st.st is Status.RUNNING and st.restart_count):
                    continue
                return code
            st = self.wait_state(cid)
            if st.st is Status.RUNNING:
                continue
            return st.exit_code

    # -- exit, cleanup, restart -------------------------------------------------------------------------
    def cleanup(self, text: str, *, durable: bool = True) -> None:
        """Record the exit of a container whose process is gone, release its resources, and apply its
        restart policy or --rm (the monitor's exit command; safe to run any number of times).

        A restart waits first (Docker's back-off, :func:`restart_backoff_ms`) in the state ``restarting``, with
        this process recorded as the container's monitor, and without the container's lock: ``stop``, ``kill``
        and ``rm -f`` cancel the wait by writing another state (:meth:`_cancel_restart`)."""
        try:
            cid = self.cs.resolve(text)
        except NotFoundError:
            return
        restart = False
        waiting: State | None = None
        with self.cs.lock(cid):
            raw = self.cs.raw_state(cid)
            if not raw.st.is_live:
                return
            st = self.cs.state(cid)
            if st.st.is_live:
                return  # still running (a stray cleanup)
            rec = self.cs.record(cid)
            self._died(rec, st)  # before the network's disconnect, as in Docker
            self._teardown(rec)
            final = replace(st, status="exited", pid=0, monitor_pid=0)
            pol = rec.host_config.restart_policy
            if not st.stopped_by_user and pol.name != "no":
                if pol.name in ("always", "unless-stopped"):
                    restart = True
                elif pol.name == "on-failure" and st.exit_code != 0:
                    restart = pol.maximum_retry_count == 0 or st.restart_count < pol.maximum_retry_count
            if restart:
                waiting = replace(final, status="restarting", restart_count=st.restart_count + 1,
                                  restart_delay_ms=restart_backoff_ms(st), monitor_pid=os.getpid(),
                                  monitor_start=proc_start_time(os.getpid()))
                self.cs.save_state(cid, waiting)
            else:  # no fsync for a state about to go: removed right after (--rm, or rm -f waiting for it)
                self.cs.save_state(cid, final, durable=durable and not rec.host_config.auto_remove)
            self._forget_exit(cid)
        if waiting is not None:
            restart = self._restart_after_backoff(cid, waiting)
        if not restart and rec.host_config.auto_remove:
            self.remove(cid, force=True, volumes=True)

    def _restart_after_backoff(self, cid: str, waiting: State) -> bool:
        """Wait out ``waiting.restart_delay_ms`` (lock not held), then start the container again unless the
        wait was cancelled; whether it was restarted."""

        def still_waiting() -> bool:
            cur = self.cs.raw_state(cid)
            return cur.st is Status.RESTARTING and cur.monitor_pid == waiting.monitor_pid

        deadline = time.monotonic() + waiting.restart_delay_ms / 1000
        while (left := deadline - time.monotonic()) > 0:
            time.sleep(min(left, 0.05))
            if not still_waiting():
                return False
        try:
            with self.cs.lock(cid):
                if not still_waiting():
                    return False
                self._start_locked(cid, restart_count=waiting.restart_count,
                                   restart_delay_ms=waiting.restart_delay_ms)
        except NotFoundError:
            return False  # removed meanwhile
        except SkiffError:
            return False  # _start_locked recorded the failure
        return True

    def _cancel_restart(self, cid: str) -> bool:
        """With the lock held: end the back-off wait of a ``restarting`` container (Docker's stop, kill and
        rm -f of a restarting container); whether there was one. The container keeps its last exit."""
        st = self.cs.state(cid)
        if st.st is not Status.RESTARTING:
            return False
        self.cs.save_state(cid, replace(self.cs.raw_state(cid), status="exited", pid=0, monitor_pid=0,
                                        monitor_start=0, stopped_by_user=True))
        return True

    def _finish_if_needed(self, cid: str) -> None:
        """Bring a state whose monitor died up to date before a new start (lock held)."""
        raw = self.cs.raw_state(cid)
        if raw.st.is_live:
            st = self.cs.state(cid)
            if not st.st.is_live:
                rec = self.cs.record(cid)
                self._died(rec, st)
                self._teardown(rec)
                self.cs.save_state(cid, replace(st, pid=0, monitor_pid=0))
                self._forget_exit(cid)

    def _died(self, rec: ContainerRecord, st: State) -> None:
        """The events of an exit just recorded: "oom" first when the OOM killer ended it, then "die"."""
        if st.oom_killed:
            self.event(rec, "oom")
        self.event(rec, "die", {"exitCode": str(st.exit_code)})
        self.volume_events(rec, "unmount")

    def _forget_exit(self, cid: str) -> None:
        """Drop the exit file once the state it stood for is saved (a restart's start needs it gone)."""
        try:
            self.cs.exit_path(cid).unlink()
        except FileNotFoundError:
            pass

    def _teardown(self, rec: ContainerRecord) -> None:
        """Delete the runtime's container (killing what is left) and unmount the rootfs."""
        try:
            self.driver(rec.host_config.runtime).delete(rec.id, force=True)
        except SkiffError:
            pass
        try:
            self.store.driver.unmount(rec.id)
        except (SkiffError, OSError):
            pass
        try:  # the exit file stays until the final state is saved (_forget_exit): without it, the state
            (self.cs.rdir(rec.id) / "attach").unlink()  # read meanwhile would be "running" again
        except FileNotFoundError:
            pass
        from .networks import release_network

        release_network(self, rec)
        if any(m.type == "volume" for m in rec.mounts):
            from .containers_create import release_volumes

            release_volumes(self, rec)
        if rec.host_config.ipc_mode == "shareable":
            from .containers_create import release_shm

            release_shm(self, rec)
        self._torn_down.add(rec.id)

    # -- stop, kill, restart, pause -------------------------------------------------------------------
    def stop(self, text: str, timeout: int | None = None, signal: str | None = None) -> str:
        """moby's ContainerStop: a container that is not running is left as it is (whatever the signal); a
        negative timeout waits for the container without end."""
        cid = self.cs.resolve(text)
        try:
            self._stop(cid, timeout, signal)
        except SkiffError as e:
            raise _prefixed(e, f"cannot stop container: {text}: ") from None
        return cid

    def _stop(self, cid: str, timeout: int | None, signal: str | None) -> None:
        rec = self.cs.record(cid)
        with self.cs.lock(cid):
            st = self.cs.state(cid)
            if not st.st.is_live:
                return
            sig = parse_signal(signal or rec.config.stop_signal or "SIGTERM")
            if self._cancel_restart(cid):
                return
            self.cs.save_state(cid, replace(self.cs.raw_state(cid), stopped_by_user=True))
        drv = self.driver(rec.host_config.runtime)
        if st.st is Status.PAUSED:
            self._try(lambda: drv.resume(cid))
        if timeout is None:
            timeout = rec.config.stop_timeout if rec.config.stop_timeout is not None else 10
        # moby's containerStop: the stop signal first, even with -t 0; each kill event goes before its signal,
        # so that the exit's "die" cannot come first
        self.event(rec, "kill", {"signal": str(sig)})
        self._try(lambda: drv.kill(cid, sig))
        if timeout < 0:  # no forced kill: wait as long as the container takes
            while not self._wait_gone(st.pid, 3600):
                pass
        elif not self._wait_gone(st.pid, timeout):
            self.event(rec, "kill", {"signal": "9"})
            self._try(lambda: drv.kill(cid, 9, all_processes=True))
            self._wait_gone(st.pid, 10)
        self.wait_state(cid, timeout=10)
        self.cleanup(cid)
        self.event(rec, "stop")

    def kill(self, text: str, signal: str = "KILL") -> str:
        """moby's ContainerKill (the signal checked first), every error after the API's "cannot kill
        container: NAME: "."""
        try:
            return self._kill(text, kill_signal(signal))
        except SkiffError as e:
            raise _prefixed(e, f"cannot kill container: {text}: ") from None

    def _kill(self, text: str, sig: int) -> str:
        cid = self.cs.resolve(text)
        rec = self.cs.record(cid)
        with self.cs.lock(cid):
            st = self.cs.state(cid)
            if not st.st.is_live:
                raise ConflictError(f"Container {cid} is not running")
            if st.st is Status.RESTARTING:  # no process to signal (Docker); KILL/TERM/INT cancel the restart
                if sig in (9, 15, 2):
                    self._cancel_restart(cid)
                return cid
            if sig in (9, 15, 2):
                self.cs.save_state(cid, replace(self.cs.raw_state(cid), stopped_by_user=True))
        drv = self.driver(rec.host_config.runtime)
        self.event(rec, "kill", {"signal": str(sig)})  # before the signal: the exit's "die" cannot come first
        drv.kill(cid, sig)
        # moby's killWithSignal: KILL or the stop signal (any signal when none is set) also thaws a paused
        # container, so that the signal takes effect at once
        stop_signal = rec.config.stop_signal
        if st.st is Status.PAUSED and (sig == 9 or not stop_signal or sig == parse_signal(stop_signal)):
            with self.cs.lock(cid):
                if self.cs.state(cid).st is Status.PAUSED:
                    self._try(lambda: drv.resume(cid))
                    self.cs.save_state(cid, replace(self.cs.raw_state(cid), status="running"))
        if sig == 9:  # Docker's kill with SIGKILL returns once the container has stopped
            self.wait_state(cid, timeout=10)
        return cid

    def restart(self, text: str, timeout: int | None = None, signal: str | None = None) -> str:
        """moby's ContainerRestart: a missing container is reported as it is, any other error after "Cannot
        restart container NAME: "."""
        cid = self.cs.resolve(text)
        try:
            self._stop(cid, timeout, signal)
            rec = self.start(cid)
        except SkiffError as e:
            raise _prefixed(e, f"Cannot restart container {text}: ") from None
        self.event(rec, "restart")
        return cid

    def pause(self, text: str) -> str:
        cid = self.cs.resolve(text)
        with self.cs.lock(cid):
            st = self.cs.state(cid)
            if not st.st.is_live:
                raise ConflictError(f"Container {cid} is not running")
            if st.st is Status.PAUSED:
                raise ConflictError(f"Container {cid} is already paused")
            if st.st is Status.RESTARTING:
                raise ConflictError(f"Container {cid} is restarting, wait until the container is running")
            rec = self.cs.record(cid)
            self.driver(rec.host_config.runtime).pause(cid)
            self.cs.save_state(cid, replace(self.cs.raw_state(cid), status="paused"))
        self.event(rec, "pause")
        return cid

    def unpause(self, text: str) -> str:
        cid = self.cs.resolve(text)
        with self.cs.lock(cid):
            st = self.cs.state(cid)
            if st.st is not Status.PAUSED:
                raise ConflictError(f"Container {cid} is not paused")
            rec = self.cs.record(cid)
            self.driver(rec.host_config.runtime).resume(cid)
            self.cs.save_state(cid, replace(self.cs.raw_state(cid), status="running"))
        self.event(rec, "unpause")
        return cid

    def _try(self, fn: Any) -> None:
        try:
            fn()
        except SkiffError:
            pass

    @staticmethod
    def _wait_gone(pid: int, timeout: float) -> bool:
        """Wait until ``pid`` has exited (a zombie counts); False after ``timeout`` seconds. A pidfd wakes us
        the moment it exits, where polling its /proc entry would add up to a poll period per container."""
        if pid <= 0:
            return True
        start = proc_start_time(pid)
        if not start:
            return True
        try:
            fd = os.pidfd_open(pid)
        except OSError:  # gone already
            return True
        try:
            if proc_start_time(pid) != start or not _not_zombie(pid):  # exited, or another process took the pid
                return True
            import select

            p = select.poll()
            p.register(fd, select.POLLIN)
            return bool(p.poll(max(0, int(timeout * 1000))))
        finally:
            os.close(fd)

    def wait_state(self, cid: str, timeout: float | None = None, *, durable: bool = True) -> State:
        """Block until the container is no longer live (cleanup done); the final state (``durable``: fsynced,
        unless the caller removes the container next)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = 0.005
        while True:
            raw = self.cs.raw_state(cid)
            if not raw.st.is_live:
                return raw
            st = self.cs.state(cid)
            if not st.st.is_live:
                # the exit is recorded (or the monitor is gone): finish it here rather than wait for the
                # monitor's exit command (cleanup is idempotent and serialised by the container's lock)
                self.cleanup(cid, durable=durable)
                if not self.cs.cdir(cid).is_dir():
                    return st
                final = self.cs.raw_state(cid)
                return st if final.st.is_live else final
            if deadline is not None and time.monotonic() > deadline:
                return st
            time.sleep(delay)
            delay = min(delay * 2, 0.05)

    @staticmethod
    def _monitor_running(st: State) -> bool:
        return st.monitor_pid > 0 and proc_start_time(st.monitor_pid, live_only=True) == st.monitor_start

    def wait(self, text: str) -> int:
        cid = self.cs.resolve(text)
        st = self.wait_state(cid)
        return st.exit_code

    # -- remove ---------------------------------------------------------------------------------------
    def remove(self, text: str, *, force: bool = False, volumes: bool = False) -> str:
        cid = self.cs.resolve(text)
        rec = self.cs.record(cid)
        st = self.cs.state(cid)
        if st.st.is_live:
            if not force:
                raise ConflictError(f'cannot remove container "{rec.name}": container is {st.status}: stop the '
                                    "container before removing or force remove")
            pid = self._kill_for_removal(cid, rec)
            if pid is not None:
                self._wait_gone(pid, 10)
                self.wait_state(cid, timeout=10, durable=False)
                if not self.cs.cdir(cid).is_dir():
                    return cid  # a --rm container: the clean-up of its exit has just removed it
        with self.cs.lock(cid):
            self._remove_everything(rec, volumes=volumes)
        return cid

    def remove_link(self, text: str) -> None:
        """``rm --link /PARENT/ALIAS``: PARENT forgets its legacy link ALIAS (moby's rmLink); from its next start
        it has no /etc/hosts entry or variables for it. A plain container name is moby's "default link name"
        conflict; a link that does not exist is "No such container", as moby's name lookup reports it."""
        name = "/" + text.strip("/")
        parent, _, alias = name.rpartition("/")
        if not parent:
            self.cs.resolve(text)  # moby looks the name up first: No such container, exit 1
            raise ConflictError("Conflict, cannot remove the default link name of the container")
        try:
            pid = self.cs.resolve(parent.lstrip("/"))
        except NotFoundError:
            raise NotFoundError(f"No such container: {text}") from None
        with self.cs.lock(pid):
            rec = self.cs.record(pid)
            links = rec.host_config.links or []
            kept = [lk for lk in links if lk.partition(":")[2] != f"{rec.name}/{alias}"]
            if len(kept) == len(links):
                raise NotFoundError(f"No such container: {text}")
            self.cs.write_record(replace(rec, host_config=replace(rec.host_config, links=kept or None)))

    def _kill_for_removal(self, cid: str, rec: ContainerRecord) -> int | None:
        """Mark a live container stopped by the user (no restart) and SIGKILL it; the pid to wait for, or None
        when it was waiting to restart (that wait is cancelled instead). Its state is about to be removed: the
        runroot's copy is the one written."""
        with self.cs.lock(cid):
            if self._cancel_restart(cid):
                return None
            st = self.cs.state(cid)
            self.cs.save_state(cid, replace(self.cs.raw_state(cid), stopped_by_user=True), durable=False)
            # the monitor then skips its exit command (a `skiff container cleanup` process: ~70 ms of CPU
            # and an fsync, racing this one for the same work): the caller cleans up
            self.cs.removing_path(cid).touch()
        drv = self.driver(rec.host_config.runtime)
        if st.st is Status.PAUSED:
            self._try(lambda: drv.resume(cid))
        self._try(lambda: drv.kill(cid, 9, all_processes=True))
        return st.pid

    def kill_for_removal(self, names: list[str]) -> None:
        """``rm -f`` of several containers: SIGKILL every live one first, so that their exits overlap (docker/cli
        removes them in parallel); :meth:`remove` then finds each gone. Errors are left to :meth:`remove`."""
        for text in names:
            try:
                cid = self.cs.resolve(text)
                if self.cs.state(cid).st.is_live:
                    self._kill_for_removal(cid, self.cs.record(cid))
            except SkiffError:
                continue

    def _remove_everything(self, rec: ContainerRecord, *, volumes: bool) -> None:
        if rec.id not in self._torn_down:  # `run --rm`: cleanup() has just done it
            self._teardown(rec)
        try:
            self.store.driver.remove(rec.id)
        except (SkiffError, OSError):
            pass
        self.cs.remove_files(rec)
        self.event(rec, "destroy")
        if volumes:
            for m in rec.mounts:
                if m.type == "volume" and m.name:
                    try:
                        v = self.volumes.get(m.name)
                    except NotFoundError:
                        continue
                    if v.anonymous and not self.volume_users(m.name):
                        self.volumes.remove(m.name, [])

    def volume_users(self, name: str) -> list[str]:
        out = []
        for cid in self.cs.ids():
            try:
                rec = self.cs.record(cid)
            except SkiffError:
                continue
            if any(m.type == "volume" and m.name == name for m in rec.mounts):
                out.append(cid)
        return out

    def rename(self, text: str, new: str) -> None:
        """moby's ContainerRename: the container, then the same-name check, then the new name's reservation,
        whose errors (an invalid name, shown with its leading slash, or a name in use) it wraps."""
        cid = self.cs.resolve(text)
        bare = new.removeprefix("/")
        old = self.cs.record(cid).name
        if old.removeprefix("/") == bare:
            raise InvalidArgumentError("Renaming a container with the same name as its current name")
        try:
            self.cs.rename(cid, bare)
        except (ConflictError, InvalidArgumentError) as e:
            e.message = e.message.replace(f"name ({bare})", f"name (/{bare})", 1)
            raise _prefixed(e, "Error when allocating new name: ") from None
        self.event(self.cs.record(cid), "rename", {"oldName": old})

    def mounts_of(self, rec: ContainerRecord) -> list[MountPoint]:
        return rec.mounts


def _not_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return False
    return data[data.rindex(b")") + 2:data.rindex(b")") + 3] != b"Z"


def restart_backoff_ms(st: State) -> int:
    """The wait before restarting a container that has just exited (moby's restartmanager): 100 ms, doubled on
    each restart up to a minute, and back to 100 ms when the container ran for 10 seconds or more."""
    try:
        ran_ns = parse_rfc3339(st.finished_at) - parse_rfc3339(st.started_at)
    except (ValueError, IndexError):
        ran_ns = 0
    prev = 0 if ran_ns >= 10_000_000_000 else st.restart_delay_ms
    return min(prev * 2, 60_000) if prev else 100


def kill_signal(value: str) -> int:
    """moby's ContainerKill: a signal name (with or without SIG) or a number other than 0, which must be one
    Linux has (1-64)."""
    text = value.strip()
    if text.lstrip("+-").isdigit() and int(text) != 0:
        n = int(text)
        if not 0 < n < 65:
            raise InvalidArgumentError(f"the linux daemon does not support signal {n}")
        return n
    return parse_signal(value)


def _prefixed(e: SkiffError, prefix: str) -> SkiffError:
    """``e`` with ``prefix`` before its message (moby's errors.Wrapf); its class and exit code are kept."""
    e.message = prefix + e.message
    e.args = (e.message,)
    return e


def _code(e: BaseException) -> int:
    return e.exit_code if isinstance(e, SkiffError) else 125


def _cidfile(path: str) -> int:
    """docker/cli's --cidfile: refused when the file exists; made empty before the container, which writes its
    ID there (no newline), or removed again when the create fails."""
    try:
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
    except FileExistsError:
        raise InvalidArgumentError(f"container ID file found, make sure the other container isn't running or "
                                   f"delete {path}") from None
    except OSError as e:
        raise InvalidArgumentError(f"failed to create the container ID file: open {path}: "
                                   f"{(e.strerror or str(e)).lower()}") from None
