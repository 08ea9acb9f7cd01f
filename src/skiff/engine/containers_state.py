"""Container records and state on disk, names, locks, and the status state machine.

Layout::

    ROOT/containers/<id>/config.json        the record (containers_model.ContainerRecord)
    ROOT/containers/<id>/state.json         last state, kept across reboots (copy of the volatile one)
    ROOT/containers/<id>/<id>-json.log      json-file log
    ROOT/containers/<id>/lock               the container's lock
    ROOT/containers/names/<name> -> <id>    the name index: one symbolic link per name, claimed with symlink(2)
    ROOT/containers/names.lock              serializes claims of names
    RUNROOT/containers/<id>/state.json      volatile state (status, pids, times, exit code, OOM)
    RUNROOT/containers/<id>/exit            written by the monitor when the container exits
    RUNROOT/containers/<id>/attach          the monitor's attach socket
    RUNROOT/containers/<id>/removing        `rm -f` is removing it: the monitor runs no exit command

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

from skiff.errors import ConflictError, InvalidArgumentError, NotFoundError, SkiffError
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


def _stamp(st: os.stat_result) -> tuple[int, int, int, int]:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


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


def _is_id(text: str) -> bool:
    return len(text) == 64 and all(c in "0123456789abcdef" for c in text)


class ContainerStore:
    """Records, names and state of the containers under one root/runroot."""

    def __init__(self, root: Path, runroot: Path) -> None:
        self.dir = Path(root) / "containers"
        self.rundir = Path(runroot) / "containers"
        self._written: dict[str, tuple[tuple[int, int, int, int], ContainerRecord]] = {}

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

    def removing_path(self, cid: str) -> Path:
        """Made by ``rm -f`` before it kills the container: its monitor then leaves the clean-up to it."""
        return self.rundir / cid / "removing"

    # -- locks ------------------------------------------------------------------------------------------
    @contextmanager
    def names_lock(self) -> Iterator[None]:
        self.dir.mkdir(parents=True, exist_ok=True)
        with _flock(self.dir / "names.lock"):
            self._convert_names()
            yield

    @contextmanager
    def lock(self, cid: str) -> Iterator[None]:
        d = self.cdir(cid)
        if not d.is_dir():
            raise NotFoundError(f"No such container: {cid}")
        with _flock(d / "lock"):
            yield

    # -- names ------------------------------------------------------------------------------------------
    # One link per name: claiming or dropping a name is one symlink(2) or unlink(2), journaled in order with
    # the container's folder, with no shared file to rewrite and fsync. A link whose container folder is gone
    # (a crash between the two) is a free name.
    def _name_dir(self) -> Path:
        d = self.dir / "names"
        if not d.is_dir() and (self.dir / "names.json").exists():
            with self.names_lock():  # converts the store
                pass
        return d

    def _convert_names(self) -> None:
        """A store written before the links had one names.json: convert it once (names.lock held)."""
        legacy = self.dir / "names.json"
        if not legacy.exists():
            return
        d = self.dir / "names"
        if not d.is_dir():
            try:
                data = json.loads(legacy.read_bytes())
            except (OSError, ValueError):
                data = {}
            tmp = self.dir / f".names.{os.getpid()}.tmp"
            remove_tree(tmp)
            tmp.mkdir()
            for name, cid in (data.items() if isinstance(data, dict) else ()):
                if isinstance(cid, str) and _is_id(cid) and "/" not in name and self.cdir(cid).is_dir():
                    os.symlink(cid, tmp / name)
            os.rename(tmp, d)
        legacy.unlink(missing_ok=True)

    def name_owner(self, name: str) -> str | None:
        """The id of the existing container called ``name``, if any."""
        if not name or "/" in name or name.startswith("."):  # user text: never a path out of names/
            return None
        try:
            cid = os.readlink(self._name_dir() / name)
        except OSError:
            return None
        return cid if _is_id(cid) and self.cdir(cid).is_dir() else None

    def taken_names(self) -> set[str]:
        """The names whose containers exist (the caller holds :meth:`names_lock`)."""
        try:
            names = os.listdir(self._name_dir())
        except FileNotFoundError:
            return set()
        return {n for n in names if self.name_owner(n)}

    def _claim_name(self, name: str, cid: str) -> None:
        """Point ``name`` at ``cid`` (the caller holds :meth:`names_lock` and has checked it is free)."""
        d = self._name_dir()
        d.mkdir(exist_ok=True)
        try:
            os.symlink(cid, d / name)
        except FileExistsError:  # a name left by a container whose folder is gone
            os.unlink(d / name)
            os.symlink(cid, d / name)

    def _drop_name(self, name: str, cid: str) -> None:
        link = self._name_dir() / name
        try:
            if os.readlink(link) == cid:
                os.unlink(link)
        except OSError:
            pass

    def _check_free(self, name: str, cid: str | None = None) -> None:
        other = self.name_owner(name)
        if other and other != cid:
            raise ConflictError(f'Conflict. The container name "/{name}" is already in use by container '
                                f'"{other}". You have to remove (or rename) that container to be able to '
                                f'reuse that name.')

    def new_id(self) -> str:
        return os.urandom(32).hex()  # what secrets.token_hex(32) returns, without importing secrets (~7 ms)

    def add(self, rec: ContainerRecord) -> None:
        """Write a new record, claiming its name; the caller holds :meth:`names_lock`."""
        name = rec.bare_name
        self._check_free(name)
        d = self.cdir(rec.id)
        d.mkdir(parents=True)
        self.rdir(rec.id).mkdir(parents=True, exist_ok=True)
        # the record is written again, fsynced, once its storage exists (prepare_storage); no state.json yet:
        # "created" is what a missing one reads as
        self.write_record(rec, durable=False)
        self._claim_name(name, rec.id)

    def rename(self, cid: str, new: str) -> None:
        new = check_name(new)
        with self.names_lock():
            self._check_free(new, cid)
            rec = self.record(cid)
            self._claim_name(new, cid)
            self.write_record(replace(rec, name="/" + new))
            if rec.bare_name != new:
                self._drop_name(rec.bare_name, cid)

    def remove_files(self, rec: ContainerRecord) -> None:
        with self.names_lock():
            self._drop_name(rec.bare_name, rec.id)
            remove_tree(self.rdir(rec.id))
            remove_tree(self.cdir(rec.id))

    # -- records ----------------------------------------------------------------------------------------
    def write_record(self, rec: ContainerRecord, *, durable: bool | None = None) -> None:
        """Replace the record; fsynced unless ``durable`` is False or the container is removed when it exits
        (``--rm``: it is not meant to outlive the command that runs it)."""
        if durable is None:
            durable = not rec.host_config.auto_remove
        path = self.cdir(rec.id) / "config.json"
        _atomic_write(path, json.dumps(to_obj(rec)).encode(), durable=durable)
        try:
            self._written[rec.id] = (_stamp(os.stat(path)), rec)
        except OSError:
            self._written.pop(rec.id, None)

    def record(self, cid: str) -> ContainerRecord:
        """The container's record. One this process wrote is returned as it was written while the file is
        still that write (same inode, size and time: every write renames a new file in), which spares `run`
        decoding the record `create` has just written (~2.5 ms with its decoders)."""
        try:
            fd = os.open(self.cdir(cid) / "config.json", os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            raise NotFoundError(f"No such container: {cid}") from None
        try:
            st = os.fstat(fd)
            mine = self._written.get(cid)
            if mine is not None and mine[0] == _stamp(st):
                return mine[1]
            with open(fd, "rb", closefd=False) as f:
                raw = f.read()
        finally:
            os.close(fd)
        try:
            data = json.loads(raw)
        except ValueError as e:  # cut short by a crash of the machine: listed as broken, not a traceback
            raise SkiffError(f"container {cid}: unreadable config.json: {e}") from None
        return from_obj(ContainerRecord, data, "container config.json")

    def ids(self) -> list[str]:
        try:
            return [n for n in os.listdir(self.dir) if len(n) == 64 and (self.dir / n / "config.json").exists()]
        except FileNotFoundError:
            return []

    def entries(self) -> Iterator[tuple[ContainerRecord, State]]:
        """Every container's record and current state; one whose record cannot be read (cut short by a crash
        of the machine) is left out, as ``ps -a`` and ``container prune`` leave it."""
        for cid in self.ids():
            try:
                yield self.record(cid), self.state(cid)
            except SkiffError:
                continue

    def resolve(self, text: str) -> str:
        """A container ID from a full ID, a name, or a unique ID prefix (Docker's order)."""
        if _is_id(text) and self.cdir(text).is_dir():  # never a path: user text, joined to the store's folder
            return text
        cid = self.name_owner(text.lstrip("/"))
        if cid:
            return cid
        if text and all(c in "0123456789abcdef" for c in text):
            hits = [i for i in self.ids() if i.startswith(text)]
            if len(hits) == 1:
                return hits[0]
            if len(hits) > 1:
                raise InvalidArgumentError(f"multiple IDs found with provided prefix: {text}")
        raise NotFoundError(f"No such container: {text}")

    # -- state ------------------------------------------------------------------------------------------
    def save_state(self, cid: str, st: State, *, durable: bool = True) -> None:
        """Both copies; ``durable=False``: the state of a container removed next (``--rm``, ``rm -f``), whose
        volatile copy is all that anyone reads before it goes."""
        data = json.dumps(to_obj(st)).encode()
        self.rdir(cid).mkdir(parents=True, exist_ok=True)
        # the volatile copy needs no fsync (it does not outlive a reboot) and is not renamed over the old one
        # (ext4 flushes a file renamed over another: ~1.5 ms); in the instant it is absent, readers fall back
        # to the copy under ROOT, which needs the fsync
        from skiff.lightfs import replace_cache

        replace_cache(self.rdir(cid) / "state.json", data)
        if not durable:
            return
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
        # an exit file beside "restarting" is the last run's, read before the back-off began
        ex = self.read_exit(cid) if st.st is not Status.RESTARTING else None
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
