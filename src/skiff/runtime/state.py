"""Container status (the runtime-spec lifecycle as an explicit state machine) and state.json on disk."""

from __future__ import annotations

import enum
import json
import os
import re

from skiff.runtime.errors import BundleError, ContainerNotFound, StateTransitionError

TYPE_CHECKING = False  # not typing's: `state` and `kill` never import typing
if TYPE_CHECKING:
    from _typeshed import StrPath

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,127}$")


class Status(enum.Enum):
    CREATING = "creating"
    CREATED = "created"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"

    def can_start(self) -> bool:
        return self is Status.CREATED

    def can_kill(self) -> bool:
        return self in (Status.CREATED, Status.RUNNING, Status.PAUSED)

    def can_delete(self) -> bool:
        return self in (Status.CREATED, Status.STOPPED)

    def can_exec(self) -> bool:
        return self in (Status.CREATED, Status.RUNNING)

    def can_pause(self) -> bool:
        return self in (Status.CREATED, Status.RUNNING)


def refuse(container_id: str, status: Status, verb: str) -> StateTransitionError:
    return StateTransitionError(f"container {container_id}: cannot {verb} a container that is {status.value}")


def check_id(container_id: str) -> None:
    if not _ID.match(container_id):
        raise BundleError(f"container id {container_id!r}: use letters, digits, '_', '.', '+', '-' only")


class Record:
    """What the runtime keeps in <root>/<id>/state.json (a plain class: `state` and `kill` then run without
    loading dataclasses)."""

    FIELDS = ("id", "pid", "pid_start", "bundle", "rootfs", "created", "cgroup", "annotations", "paused", "owner",
              "late_hooks")  # state.json's member order
    __slots__ = FIELDS

    def __init__(self, id: str, pid: int, pid_start: int, bundle: str, rootfs: str,
                 created: str, cgroup: str, annotations: dict[str, str] | None = None, paused: bool = False,
                 owner: str = "", late_hooks: bool = False) -> None:
        self.id = id
        self.pid = pid
        self.pid_start = pid_start
        self.bundle = bundle
        self.rootfs = rootfs
        self.created = created
        self.cgroup = cgroup
        self.annotations: dict[str, str] = {} if annotations is None else annotations
        self.paused = paused
        self.owner = owner
        self.late_hooks = late_hooks  # poststart/poststop hooks to run (saves re-reading config.json)

    def to_dict(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.FIELDS}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Record) and self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]  # mutable, like the dataclass it replaces

    def __repr__(self) -> str:
        return f"Record({', '.join(f'{k}={v!r}' for k, v in self.to_dict().items())})"


def save(state_dir: StrPath, rec: Record) -> None:
    tmp = os.path.join(state_dir, "state.json.tmp")
    with open(tmp, "w") as f:
        json.dump(rec.to_dict(), f)
    os.replace(tmp, os.path.join(state_dir, "state.json"))


def load(state_root: StrPath, container_id: str) -> Record:
    check_id(container_id)
    try:
        with open(os.path.join(state_root, container_id, "state.json")) as f:
            data = json.load(f)
    except (FileNotFoundError, NotADirectoryError):
        raise ContainerNotFound(f"container {container_id!r} does not exist") from None
    return Record(**data)


def proc_start_time(pid: int) -> int | None:
    """Start time of ``pid`` (field 22 of /proc/pid/stat), None when it is gone or a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    rest = data[data.rindex(b")") + 2:].split()
    if rest[0] in (b"Z", b"X"):
        return None
    return int(rest[19])


def status_of(state_dir: StrPath, rec: Record) -> Status:
    if rec.pid <= 0 or proc_start_time(rec.pid) != rec.pid_start:
        return Status.STOPPED
    if rec.paused:
        return Status.PAUSED
    if os.path.exists(os.path.join(state_dir, "exec.fifo")):
        return Status.CREATED
    return Status.RUNNING
