"""Container records and state on disk, names, locks, and the status state machine.

Layout::

    ROOT/containers/<id>/config.json        the record (containers_model.ContainerRecord)
    ROOT/containers/<id>/state.json         last state, kept across reboots (copy of the volatile one)
    ROOT/containers/<id>/<id>-json.log      json-file log
    ROOT/containers/<id>/lock               the container's lock
    ROOT/containers/names.json + names.lock the name -> id index
    RUNROOT/containers/<id>/state.json      volatile state (status, pids, times, exit code, OOM)
    RUNROOT/containers/<id>/exit            written by the monitor when the container exits
    RUNROOT/containers/<id>/attach          the monitor's attach socket

LOCK ORDER: names.lock, then a container's lock (never two container locks at once).
A state whose monitor is gone (crash of skiff, kill of the monitor, reboot) reads as ``exited``.
"""

from __future__ import annotations

import enum
import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from skiff.errors import ConflictError, InvalidArgumentError, NotFoundError
from skiff.lightfs import remove_tree
from skiff.oci.codec import from_obj, jfield, to_obj
from skiff.records import dataclass, replace

from .containers_model import ContainerRecord


class Status(enum.Enum):
    CREATED = "created"
    RUNNING = "running"
    PAUSED = "paused"
    RESTARTING = "restarting"
    EXITED = "exited"
    DEAD = "dead"

    @property
    def can_start(self) -> bool:
        return self in (Status.CREATED, Status.EXITED)

    @property
    def is_live(self) -> bool:
        return self in (Status.RUNNING, Status.PAUSED, Status.RESTARTING)


@dataclass(frozen=True)
class State:
    """A container's ``state.json``: status, container and monitor pids, exit code, times, restarts."""

    status: str = jfield("Status", default="created", keep_empty=True)
    pid: int = jfield("Pid", default=0, keep_empty=True)
    monitor_pid: int = jfield("MonitorPid", default=0, keep_empty=True)
    monitor_start: int = jfield("MonitorStart", default=0, keep_empty=True)
    exit_code: int = jfield("ExitCode", default=0, keep_empty=True)
    oom_killed: bool = jfield("OOMKilled", default=False, keep_empty=True)
    error: str = jfield("Error", default="", keep_empty=True)
    started_at: str = jfield("StartedAt", default="0001-01-01T00:00:00Z", keep_empty=True)
    finished_at: str = jfield("FinishedAt", default="0001-01-01T00:00:00Z", keep_empty=True)
    restart_count: int = jfield("RestartCount", default=0, keep_empty=True)
    # the restart policy's current back-off (Docker's restartmanager timeout: 100 ms, doubled on each restart,
    # back to 100 ms once the container ran 10 s); kept here because no daemon holds it between exits
    restart_delay_ms: int = jfield("RestartDelayMs", default=0)
    stopped_by_user: bool = jfield("StoppedByUser", default=False, keep_empty=True)
    boot_id: str = jfield("BootId", default="", keep_empty=True)
    run_generation: int = jfield("Generation", default=0, keep_empty=True)

    @property
    def st(self) -> Status:
        return Status(self.status)


NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")


def check_name(name: str) -> str:
    """Docker's container name pattern ``/?[a-zA-Z0-9][a-zA-Z0-9_.-]+``: two characters at least."""
    name = name.removeprefix("/")
    if len(name) < 2 or name[0] in "_.-" or not set(name) <= NAME_CHARS:
        raise InvalidArgumentError(f'Invalid container name ({name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed')
    return name


def boot_id() -> str:
    try:
        with open("/proc/sys/kernel/random/boot_id") as f:
            return f.read().strip()
    except OSError:
        return ""


def proc_start_time(pid: int, *, live_only: bool = False) -> int:
    """Field 22 of /proc/PID/stat (start time in clock ticks): with the pid, a process identity.
    With ``live_only`` a zombie counts as gone (0)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return 0
    fields = data[data.rindex(b")") + 2:].split()
    if live_only and fields[0] in (b"Z", b"X"):
        return 0
    return int(fields[19])


def _atomic_write(path: Path, data: bytes, *, durable: bool = True) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        if durable:
            f.flush()
            os.fsync(f.fileno())
    os.rename(tmp, path)


@contextmanager
def _flock(path: Path) -> Iterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        # the holder's pid, written over the last one in a fixed width: truncating to zero would make ext4
        # flush the file when it is closed (~3 ms per lock, taken several times by every command)
        os.pwrite(fd, f"{os.getpid():>10}\n".encode(), 0)
        yield
    finally:
        os.close(fd)


class ContainerStore:
    """Records, names and state of the containers under one root/runroot."""

    def __init__(self, root: Path, runroot: Path) -> None:
        self.dir = Path(root) / "containers"
        self.rundir = Path(runroot) / "containers"

    # -- paths ------------------------------------------------------------------------------------------
    def cdir(self, cid: str) -> Path:
        return self.dir / cid

    def rdir(self, cid: str) -> Path:
        return self.rundir / cid

    def log_path(self, cid: str) -> Path:
        return self.dir / cid / f"{cid}-json.log"

    def exit_path(self, cid: str) -> Path:
        return self.rundir / cid / "exit"

    def attach_path(self, cid: str) -> Path:
        return self.rundir / cid / "attach"

    # -- locks ------------------------------------------------------------------------------------------
    @contextmanager
    def names_lock(self) -> Iterator[None]:
        self.dir.mkdir(parents=True, exist_ok=True)
        with _flock(self.dir / "names.lock"):
            yield

    @contextmanager
    def lock(self, cid: str) -> Iterator[None]:
        d = self.cdir(cid)
        if not d.is_dir():
            raise NotFoundError(f"No such container: {cid}")
        with _flock(d / "lock"):
            yield

    # -- names ------------------------------------------------------------------------------------------
    def _names(self) -> dict[str, str]:
        try:
            data = json.loads((self.dir / "names.json").read_bytes())
            return dict(data) if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    def taken_names(self) -> set[str]:
        """The names whose containers exist (the caller holds :meth:`names_lock`)."""
        return {n for n, cid in self._names().items() if self.cdir(cid).is_dir()}

    def _save_names(self, names: dict[str, str]) -> None:
        _atomic_write(self.dir / "names.json", json.dumps(names, sort_keys=True).encode())

    def new_id(self) -> str:
        return os.urandom(32).hex()  # what secrets.token_hex(32) returns, without importing secrets (~7 ms)

    def add(self, rec: ContainerRecord) -> None:
        """Write a new record, claiming its name; the caller holds :meth:`names_lock`."""
        names = self._names()
        name = rec.bare_name
        other = names.get(name)
        if other and self.cdir(other).is_dir():
            raise ConflictError(f'Conflict. The container name "/{name}" is already in use by container '
                                f'"{other}". You have to remove (or rename) that container to be able to '
                                f'reuse that name.')
        d = self.cdir(rec.id)
        d.mkdir(parents=True)
        self.rdir(rec.id).mkdir(parents=True, exist_ok=True)
        self.write_record(rec)
        self.save_state(rec.id, State(boot_id=boot_id()))
        names[name] = rec.id
        self._save_names(names)

    def rename(self, cid: str, new: str) -> None:
        new = check_name(new)
        with self.names_lock():
            names = self._names()
            other = names.get(new)
            if other and other != cid and self.cdir(other).is_dir():
                raise ConflictError(f'Conflict. The container name "/{new}" is already in use by container '
                                    f'"{other}". You have to remove (or rename) that container to be able to '
                                    f'reuse that name.')
            rec = self.record(cid)
            names.pop(rec.bare_name, None)
            names[new] = cid
            self.write_record(replace(rec, name="/" + new))
            self._save_names(names)

    def remove_files(self, rec: ContainerRecord) -> None:
        with self.names_lock():
            names = self._names()
            if names.get(rec.bare_name) == rec.id:
                del names[rec.bare_name]
                self._save_names(names)
            remove_tree(self.rdir(rec.id))
            remove_tree(self.cdir(rec.id))

    # -- records ----------------------------------------------------------------------------------------
    def write_record(self, rec: ContainerRecord) -> None:
        _atomic_write(self.cdir(rec.id) / "config.json", json.dumps(to_obj(rec)).encode())

    def record(self, cid: str) -> ContainerRecord:
        try:
            raw = (self.cdir(cid) / "config.json").read_bytes()
        except OSError:
            raise NotFoundError(f"No such container: {cid}") from None
        return from_obj(ContainerRecord, json.loads(raw), "container config.json")

    def ids(self) -> list[str]:
        try:
            return [n for n in os.listdir(self.dir) if len(n) == 64 and (self.dir / n / "config.json").exists()]
        except FileNotFoundError:
            return []

    def resolve(self, text: str) -> str:
        """A container ID from a full ID, a name, or a unique ID prefix (Docker's order)."""
        if len(text) == 64 and self.cdir(text).is_dir():
            return text
        cid = self._names().get(text.lstrip("/"))
        if cid and self.cdir(cid).is_dir():
            return cid
        if text and all(c in "0123456789abcdef" for c in text):
            hits = [i for i in self.ids() if i.startswith(text)]
            if len(hits) == 1:
                return hits[0]
            if len(hits) > 1:
                raise InvalidArgumentError(f"multiple IDs found with provided prefix: {text}")
        raise NotFoundError(f"No such container: {text}")

    # -- state ------------------------------------------------------------------------------------------
    def save_state(self, cid: str, st: State) -> None:
        data = json.dumps(to_obj(st)).encode()
        self.rdir(cid).mkdir(parents=True, exist_ok=True)
        # the volatile copy needs no fsync (it does not outlive a reboot) and is not renamed over the old one
        # (ext4 flushes a file renamed over another: ~1.5 ms); in the instant it is absent, readers fall back
        # to the copy under ROOT, which needs the fsync
        from skiff.lightfs import replace_cache

        replace_cache(self.rdir(cid) / "state.json", data)
        # Only an end (exited, dead: the exit code, the finish time) is fsynced, ~2 ms each. A live status read
        # after a reboot is reported as exited anyway (boot_id), and "created" is what a missing or empty file
        # reads as; renamed over the old copy, the file is the old or the new one after a crash of the machine.
        _atomic_write(self.cdir(cid) / "state.json", data, durable=st.st in (Status.EXITED, Status.DEAD))

    def raw_state(self, cid: str) -> State:
        for p in (self.rdir(cid) / "state.json", self.cdir(cid) / "state.json"):
            try:
                return from_obj(State, json.loads(p.read_bytes()), "container state.json")
            except (OSError, ValueError):
                continue
        return State()

    def read_exit(self, cid: str) -> dict[str, object] | None:
        try:
            data = json.loads(self.exit_path(cid).read_bytes())
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def state(self, cid: str) -> State:
        """The state as it is now: a live status whose process has exited (exit file written), whose monitor
        is gone, or that was recorded before a reboot, is exited."""
        st = self.raw_state(cid)
        if not st.st.is_live:
            return st
        ex = self.read_exit(cid)
        if ex is not None:
            code = ex.get("ExitCode", 255)
            return replace(st, status="exited", exit_code=code if isinstance(code, int) else 255,
                           oom_killed=bool(ex.get("OOMKilled")), finished_at=str(ex.get("FinishedAt", "")))
        if st.boot_id == boot_id() and monitor_alive(st):
            return st
        return replace(st, status="exited", exit_code=255 if st.exit_code == 0 else st.exit_code)


def monitor_alive(st: State) -> bool:
    if st.monitor_pid <= 0:
        return False
    return proc_start_time(st.monitor_pid, live_only=True) == st.monitor_start
