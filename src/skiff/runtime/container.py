"""The runtime's public API: :class:`Runtime` with create, start, run, state, kill, delete, exec, list,
pause/resume, stats and OOM queries. ``skiff-runtime`` (cli.py) and the engine's in-process path call it.

Layout under ``state_root``: ``<id>/state.json`` (state.Record), ``<id>/config.json`` (the spec as created),
``<id>/exec.fifo`` (exists while the container is created but not started).
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import time
from collections.abc import Callable, Iterator

from skiff.errors import SkiffError
from skiff.runtime import state as st
from skiff.runtime.errors import ContainerExists, ContainerStartError
from skiff.runtime.paths import clean, read_bytes, write_bytes
from skiff.runtime.state import Record, Status

TYPE_CHECKING = False  # not typing's: `state` and `kill` never import typing
if TYPE_CHECKING:
    from _typeshed import StrPath

    from skiff.kernel import Kernel
    from skiff.oci.runtime import LinuxResources, Process, Spec, State
    from skiff.runtime.cgroups.base import Manager
    from skiff.runtime.cgroups.stats import Stats
    from skiff.runtime.process import TerminalHandler
    from skiff.runtime.sync import Channel

# Lazy imports below keep `state`, `kill`, `start` and `delete` of the CLI from loading the spec types, the
# process machinery and ctypes: each is a separate skiff-runtime process, started per container operation.


def _now() -> str:
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1e9):09d}Z"


class Runtime:
    """An OCI runtime whose state lives under ``state_root`` (runc's --root). Paths are taken as ``str`` or
    ``os.PathLike`` (a pathlib.Path); :attr:`root` is a ``str``."""

    def __init__(self, state_root: StrPath, kernel: Kernel | None = None) -> None:
        self.root = clean(os.fspath(state_root))
        self._kernel = kernel

    @property
    def kernel(self) -> Kernel:
        if self._kernel is None:
            from skiff.kernel.linux import LinuxKernel

            self._kernel = LinuxKernel()
        return self._kernel

    # -- lifecycle -------------------------------------------------------------------------------------
    def create(self, container_id: str, bundle: StrPath, *, stdio: tuple[int, int, int] | None = None,
               pid_file: StrPath | None = None, console_socket: str | None = None,
               on_terminal: TerminalHandler | None = None, preserve_fds: int = 0,
               on_clone: Callable[[int], None] | None = None) -> State:
        """Set the container up and leave its process waiting for :meth:`start` (it survives this process).
        ``on_clone`` is told the init's pid as soon as its namespaces exist, before its set-up."""
        state, _ = self._create(container_id, bundle, stdio=stdio, pid_file=pid_file,
                                console_socket=console_socket, on_terminal=on_terminal,
                                preserve_fds=preserve_fds, fifo=True, on_clone=on_clone)
        return state

    def run(self, container_id: str, bundle: StrPath, *, stdio: tuple[int, int, int] | None = None,
            pid_file: StrPath | None = None, console_socket: str | None = None,
            on_terminal: TerminalHandler | None = None, preserve_fds: int = 0, keep: bool = False,
            on_started: TerminalHandler | None = None) -> int:
        """create + start + wait in this process (the engine's fast path): returns the process's exit code
        (128+N when killed by signal N). The container is deleted afterwards unless ``keep``."""
        from skiff.runtime.process import start_and_confirm, wait_exit

        _, ch = self._create(container_id, bundle, stdio=stdio, pid_file=pid_file,
                             console_socket=console_socket, on_terminal=on_terminal,
                             preserve_fds=preserve_fds, fifo=False)
        assert ch is not None
        rec = st.load(self.root, container_id)
        try:
            start_and_confirm(ch)
        except BaseException:
            self._destroy(rec)
            raise
        self._hooks(rec, "poststart")
        if on_started is not None:
            on_started(rec.pid)
        try:
            code = wait_exit(rec.pid)
        finally:
            if not keep:
                self._destroy(rec)
        return code

    def wait(self, container_id: str) -> int:
        """Wait for a container started by this process (the engine's create + start path) and return its
        exit code; the container stays until :meth:`delete`."""
        from skiff.runtime.process import wait_exit

        rec = st.load(self.root, container_id)
        return wait_exit(rec.pid)

    def spec(self, container_id: str) -> Spec:
        """The config.json the container was created from."""
        return self._spec(st.load(self.root, container_id))

    def start(self, container_id: str) -> None:
        rec = st.load(self.root, container_id)
        d = self._dir(container_id)
        status = st.status_of(d, rec)
        if not status.can_start():
            raise st.refuse(container_id, status, "start")
        fifo = os.path.join(d, "exec.fifo")
        try:
            fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError as e:
            if e.errno == errno.ENXIO:
                raise ContainerStartError(f"container {container_id}: its process is gone") from None
            raise
        try:
            os.write(fd, b"0")
        finally:
            os.close(fd)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(fifo)
        self._hooks(rec, "poststart")

    def state(self, container_id: str) -> State:
        rec = st.load(self.root, container_id)
        status = st.status_of(self._dir(container_id), rec)
        return self._state(rec, status)

    def state_obj(self, container_id: str) -> dict[str, object]:
        """:meth:`state` as the JSON object ``skiff-runtime state`` prints (what ``state_json`` gives), built
        without loading the spec types."""
        rec = st.load(self.root, container_id)
        return _state_obj(rec, st.status_of(self._dir(container_id), rec))

    def status(self, container_id: str) -> Status:
        rec = st.load(self.root, container_id)
        return st.status_of(self._dir(container_id), rec)

    def kill(self, container_id: str, sig: int = signal.SIGTERM, *, all_processes: bool = False) -> None:
        rec = st.load(self.root, container_id)
        status = st.status_of(self._dir(container_id), rec)
        if not status.can_kill():
            raise st.refuse(container_id, status, "kill")
        pids = self._cgroup(rec).pids() if all_processes else [rec.pid]
        for pid in pids or [rec.pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)

    def delete(self, container_id: str, *, force: bool = False) -> None:
        rec = st.load(self.root, container_id)
        status = st.status_of(self._dir(container_id), rec)
        if not status.can_delete() and not force:
            raise st.refuse(container_id, status, "delete")
        self._destroy(rec)

    def list(self) -> list[State]:
        out: list[State] = []
        if not os.path.isdir(self.root):
            return out
        for name in sorted(os.listdir(self.root)):
            if name.startswith("."):
                continue
            with contextlib.suppress(Exception):
                out.append(self.state(name))
        return out

    def exec(self, container_id: str, process: Process, *, stdio: tuple[int, int, int] | None = None,
             detach: bool = False, pid_file: StrPath | None = None, console_socket: str | None = None,
             on_terminal: TerminalHandler | None = None, preserve_fds: int = 0) -> int:
        """Start ``process`` inside a running container. Returns its pid when ``detach``, else its exit code."""
        from skiff.runtime.process import Launch, spawn, start_and_confirm, wait_exit

        rec = st.load(self.root, container_id)
        status = st.status_of(self._dir(container_id), rec)
        if not status.can_exec():
            raise st.refuse(container_id, status, "exec in")
        spec = self._spec(rec)
        handler = on_terminal or (self._console_handler(console_socket) if console_socket else None)
        bpf, bpf_flags = self._seccomp(spec)
        pid, ch = spawn(self.kernel, Launch(spec=spec, process=process, rootfs="/", bundle=rec.bundle,
                                            cgroup=self._cgroup(rec), stdio=stdio, on_terminal=handler,
                                            seccomp=bpf, seccomp_flags=bpf_flags, preserve_fds=preserve_fds,
                                            exec_into=rec.pid, detach=detach))
        start_and_confirm(ch)
        if pid_file is not None:
            _write_pid_file(pid_file, pid)
        return pid if detach else wait_exit(pid)

    # -- cgroup queries (engine: stats, pause, OOM) ------------------------------------------------------
    def pause(self, container_id: str) -> None:
        rec = st.load(self.root, container_id)
        status = st.status_of(self._dir(container_id), rec)
        if not status.can_pause():
            raise st.refuse(container_id, status, "pause")
        self._cgroup(rec).freeze()
        rec.paused = True
        st.save(self._dir(container_id), rec)

    def resume(self, container_id: str) -> None:
        rec = st.load(self.root, container_id)
        status = st.status_of(self._dir(container_id), rec)
        if status is not Status.PAUSED:
            raise st.refuse(container_id, status, "resume")
        self._cgroup(rec).thaw()
        rec.paused = False
        st.save(self._dir(container_id), rec)

    def update(self, container_id: str, resources: LinuxResources) -> None:
        """``runc update``: new cgroup limits for a created, running or paused container. A memory limit raised
        past the swap limit in force is written after the new swap limit (cgroup v1 refuses it before)."""
        from skiff.oci.runtime import LinuxResources

        rec = st.load(self.root, container_id)
        status = st.status_of(self._dir(container_id), rec)
        if status is Status.STOPPED:
            raise st.refuse(container_id, status, "update")
        cg = self._cgroup(rec)
        try:
            cg.apply(resources)
        except ContainerStartError:
            mem = resources.memory
            if mem is None or mem.swap is None:
                raise
            from skiff.records import replace

            cg.apply(LinuxResources(memory=replace(mem, limit=None)))
            cg.apply(resources)

    def stats(self, container_id: str) -> Stats:
        return self._cgroup(st.load(self.root, container_id)).stats()

    def oom_killed(self, container_id: str) -> bool:
        """True when the kernel's OOM killer killed a process of this container's cgroup."""
        return self._cgroup(st.load(self.root, container_id)).oom_kills() > 0

    # -- internals -------------------------------------------------------------------------------------
    def _dir(self, container_id: str) -> str:
        """The container's state folder."""
        return os.path.join(self.root, container_id)

    def _create(self, container_id: str, bundle: StrPath, *, stdio: tuple[int, int, int] | None,
                pid_file: StrPath | None, console_socket: str | None, on_terminal: TerminalHandler | None,
                preserve_fds: int, fifo: bool,
                on_clone: Callable[[int], None] | None = None) -> tuple[State, Channel | None]:
        from skiff.oci.runtime import LinuxResources
        from skiff.records import replace
        from skiff.runtime import bundle as bundle_mod
        from skiff.runtime.cgroups.base import create_manager
        from skiff.runtime.process import Launch, spawn

        st.check_id(container_id)
        b = bundle_mod.load(bundle)
        spec = b.spec
        assert spec.process is not None
        os.makedirs(self.root, mode=0o700, exist_ok=True)
        d = self._dir(container_id)
        try:
            os.mkdir(d, 0o700)
        except FileExistsError:
            raise ContainerExists(f"container {container_id!r} already exists") from None
        cgroup: Manager | None = None
        fifo_fd: int | None = None
        pid = 0
        try:
            raw = b.raw or read_bytes(os.path.join(b.path, "config.json"))
            write_bytes(os.path.join(d, "config.json"), raw)
            linux = spec.linux
            cgroup = create_manager(container_id, linux.cgroups_path if linux else None)
            cgroup.create()
            # the device rules once the init has made /dev (runc's order): a node a rule lets the container
            # open but not create (--device X:r) is still made
            res = linux.resources if linux else None
            devices = res.devices if res is not None else []
            cgroup.apply(replace(res, devices=[]) if res is not None and devices else res)
            bpf, bpf_flags = self._seccomp(spec)
            if fifo:
                fifo_path = os.path.join(d, "exec.fifo")
                os.mkfifo(fifo_path, 0o600)
                fifo_fd = os.open(fifo_path, os.O_RDWR | os.O_CLOEXEC)
            handler = on_terminal or (self._console_handler(console_socket) if console_socket else None)
            pid, ch = spawn(self.kernel, Launch(spec=spec, process=spec.process, rootfs=b.rootfs,
                                                bundle=b.path, cgroup=cgroup, stdio=stdio,
                                                start_fifo=fifo_fd, on_terminal=handler, seccomp=bpf,
                                                seccomp_flags=bpf_flags,
                                                preserve_fds=preserve_fds, on_clone=on_clone))
            if devices:
                cgroup.apply(LinuxResources(devices=devices))
            start_time = st.proc_start_time(pid) or 0
            rec = Record(id=container_id, pid=pid, pid_start=start_time, bundle=b.path,
                         rootfs=b.rootfs, created=_now(), cgroup=cgroup.path,
                         annotations=dict(spec.annotations),
                         late_hooks=bool(spec.hooks and (spec.hooks.poststart or spec.hooks.poststop)))
            st.save(d, rec)
            if pid_file is not None:
                _write_pid_file(pid_file, pid)
            if spec.hooks is not None and (spec.hooks.create_runtime or spec.hooks.prestart):
                from skiff.runtime.hooks import run_hooks

                state = self._state(rec, Status.CREATED)
                run_hooks("createRuntime", spec.hooks.create_runtime, state)
                run_hooks("prestart", spec.hooks.prestart, state)
        except BaseException:
            if pid > 0:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
            if cgroup is not None:
                with contextlib.suppress(OSError):
                    cgroup.destroy()
            _remove_state_dir(d)
            raise
        finally:
            if fifo_fd is not None:
                os.close(fifo_fd)
        if fifo:
            ch.close()
            return self._state(rec, Status.CREATED), None
        return self._state(rec, Status.CREATED), ch

    def _hooks(self, rec: Record, stage: str) -> None:
        """poststart and poststop hooks: failures are logged by the spec's rules, never fatal."""
        if not rec.late_hooks:
            return
        try:
            spec = self._spec(rec)
        except (OSError, SkiffError):
            return
        hooks = spec.hooks
        todo = (hooks.poststart if stage == "poststart" else hooks.poststop) if hooks is not None else []
        if todo:
            from skiff.runtime.hooks import run_hooks

            run_hooks(stage, todo, self._state(rec, Status.RUNNING if stage == "poststart" else
                                               Status.STOPPED), strict=False)

    def _console_handler(self, console_socket: str) -> TerminalHandler:
        from skiff.runtime.process import send_console

        return lambda fd: send_console(console_socket, fd)

    def _seccomp(self, spec: Spec) -> tuple[bytes | None, int]:
        if spec.linux is None or spec.linux.seccomp is None:
            return None, 0
        from skiff.runtime.seccomp import compile_bpf, flags_of

        cache_dir = os.path.join(self.root, ".seccomp")
        return compile_bpf(spec.linux.seccomp, cache_dir), flags_of(spec.linux.seccomp)

    def _spec(self, rec: Record) -> Spec:
        from skiff.runtime import bundle as bundle_mod

        return bundle_mod.parse_spec(read_bytes(os.path.join(self._dir(rec.id), "config.json")))

    def _cgroup(self, rec: Record) -> Manager:
        from skiff.runtime.cgroups.base import create_manager

        return create_manager(rec.id, "/" + rec.cgroup)

    def _state(self, rec: Record, status: Status) -> State:
        from skiff.oci.runtime import SPEC_VERSION, State

        return State(oci_version=SPEC_VERSION, id=rec.id, status=status.value,
                     pid=rec.pid if status is not Status.STOPPED else 0, bundle=rec.bundle,
                     annotations=rec.annotations,
                     extra={"rootfs": rec.rootfs, "created": rec.created, "owner": rec.owner})

    def _destroy(self, rec: Record) -> None:
        """Kill whatever is left, reap our own child, remove the cgroup and the state folder."""
        cg = self._cgroup(rec)
        if rec.paused:
            with contextlib.suppress(OSError):
                cg.thaw()
        for _ in _until_gone(rec, cg):
            for pid in set(cg.pids()) | ({rec.pid} if st.proc_start_time(rec.pid) == rec.pid_start else set()):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(rec.pid, os.WNOHANG)
        cg.destroy()
        self._hooks(rec, "poststop")
        _remove_state_dir(self._dir(rec.id))


STATE_VERSION = "1.2.0"  # skiff.oci.runtime.SPEC_VERSION, kept here so `state` needs no spec types (tested)


def _state_obj(rec: Record, status: Status) -> dict[str, object]:
    """The codec's JSON for ``Runtime._state(rec, status)``: empty annotations omitted, extras last."""
    obj: dict[str, object] = {"ociVersion": STATE_VERSION, "id": rec.id, "status": status.value,
                              "pid": rec.pid if status is not Status.STOPPED else 0, "bundle": rec.bundle}
    if rec.annotations:
        obj["annotations"] = dict(rec.annotations)
    obj.update(rootfs=rec.rootfs, created=rec.created, owner=rec.owner)
    return obj


def _until_gone(rec: Record, cg: Manager) -> Iterator[None]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        alive = st.proc_start_time(rec.pid) == rec.pid_start and rec.pid > 0
        if not alive and not cg.pids():
            return
        yield
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(rec.pid, os.WNOHANG)
        time.sleep(0.002)


def _remove_state_dir(d: str) -> None:
    """The state folder holds only flat files (state.json, config.json, exec.fifo): no shutil needed."""
    try:
        names = os.listdir(d)
    except FileNotFoundError:
        return
    for name in names:
        with contextlib.suppress(FileNotFoundError, IsADirectoryError):
            os.unlink(os.path.join(d, name))
    with contextlib.suppress(OSError):
        os.rmdir(d)


def _write_pid_file(path: StrPath, pid: int) -> None:
    target = clean(os.fspath(path))
    tmp = f"{target}.tmp"
    with open(tmp, "w") as f:
        f.write(str(pid))
    os.replace(tmp, target)


def state_json(state: State) -> dict[str, object]:
    from skiff.oci.codec import to_obj

    obj = to_obj(state)
    assert isinstance(obj, dict)
    return obj
