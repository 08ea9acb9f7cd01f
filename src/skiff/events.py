"""Docker's events without a daemon: each command that changes a container, image, volume or network appends
the event to a log under the run-state root (Podman's file events logger), and ``skiff events`` reads the log
back and follows it (``docker events``: --since, --until, --filter, --format).

One line per event: the JSON ``docker events --format '{{json .}}'`` prints (moby's ``events.Message``, with
the deprecated ``status``/``id``/``from`` fields for container and image events, as the daemon fills them).
A line is written with one ``write`` on an ``O_APPEND`` descriptor, so concurrent commands never interleave
lines. The log is run state, like the daemon's in-memory event buffer: a reboot empties it. Past
:data:`MAX_SIZE` it is renamed to ``events.log.1`` (replacing the previous one), so the two files hold the
newest 1-2 MiB of events, where Docker keeps the newest 256.

Emitting never fails the command that emits: an event that cannot be written is lost, as a daemon's would be
when nobody listens. This module imports only what every command has loaded already (``os``, ``json``).
"""

from __future__ import annotations

import json
import os
import time

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from skiff.follow import FileTail

MAX_SIZE = 1 << 20
TYPES = ("container", "image", "volume", "network", "daemon", "plugin", "node", "service", "secret", "config")


def log_path(runroot: str | os.PathLike[str]) -> str:
    return os.path.join(os.fspath(runroot), "events", "events.log")


def message(typ: str, action: str, actor: str, attributes: Mapping[str, str] | None = None, *,
            time_ns: int | None = None) -> dict[str, object]:
    """moby's ``events.Message`` as its JSON: the deprecated fields for container and image events only."""
    ns = time.time_ns() if time_ns is None else time_ns
    attrs = dict(sorted((attributes or {}).items()))
    msg: dict[str, object] = {}
    if typ in ("container", "image"):
        msg["status"] = action
        msg["id"] = actor
        if typ == "container" and attrs.get("image"):
            msg["from"] = attrs["image"]
    msg.update({"Type": typ, "Action": action, "Actor": {"ID": actor, "Attributes": attrs}, "scope": "local",
                "time": ns // 1_000_000_000, "timeNano": ns})
    return msg


def emit(runroot: str | os.PathLike[str], typ: str, action: str, actor: str,
         attributes: Mapping[str, str] | None = None) -> None:
    """Append one event to the log (never raises)."""
    path = log_path(runroot)
    line = (json.dumps(message(typ, action, actor, attributes), separators=(",", ":")) + "\n").encode()
    try:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except FileNotFoundError:
            os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            os.write(fd, line)
            size = os.fstat(fd).st_size
        finally:
            os.close(fd)
        if size > MAX_SIZE:
            _rotate(path)
    except OSError:
        pass


def container_event(runroot: str | os.PathLike[str], rec: object, action: str,
                    extra: Mapping[str, str] | None = None) -> None:
    """A container event as the daemon logs it (``LogContainerEventWithAttributes``): the container's labels,
    its image as the user named it and its name, then ``extra`` (exitCode, signal, execID...)."""
    cfg = rec.config  # type: ignore[attr-defined]
    attrs = {**(cfg.labels or {}), "image": cfg.image or "", "name": rec.bare_name}  # type: ignore[attr-defined]
    if extra:
        attrs.update(extra)
    emit(runroot, "container", action, rec.id, attrs)  # type: ignore[attr-defined]


def image_event(runroot: str | os.PathLike[str], action: str, actor: str, name: str,
                labels: Mapping[str, str] | None = None) -> None:
    """An image event as moby's ``LogImageEvent(imageID, refName, action)``: the image's labels and ``name``."""
    emit(runroot, "image", action, actor, {**(labels or {}), "name": name})


def _rotate(path: str) -> None:
    """Rename the log to ``.1`` once, under a lock: a second writer that also saw it too big finds the new,
    small one under the lock and leaves it."""
    import fcntl

    fd = os.open(path + ".lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            if os.stat(path).st_size > MAX_SIZE:
                os.rename(path, path + ".1")
        except FileNotFoundError:
            pass
    finally:
        os.close(fd)


# -- reading -----------------------------------------------------------------------------------------------
def _parse(data: bytes) -> tuple[list[dict[str, object]], int]:
    """The complete lines of ``data`` as messages (a line that is not one is skipped) and the bytes used."""
    end = data.rfind(b"\n") + 1
    out = []
    for line in data[:end].splitlines():
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        if isinstance(msg, dict) and isinstance(msg.get("timeNano"), int):
            out.append(msg)
    return out, end


def read_all(runroot: str | os.PathLike[str]) -> tuple[list[dict[str, object]], FileTail]:
    """Every event logged (the rotated file's first) and a follower from the end of what was read."""
    from skiff.follow import FileTail

    path = log_path(runroot)
    out: list[dict[str, object]] = []
    try:
        with open(path + ".1", "rb") as f:
            out += _parse(f.read())[0]
    except FileNotFoundError:
        pass
    follower = FileTail(path, 0, _parse, _rotated)
    out += follower.read()
    return out, follower


def _rotated(path: str) -> list[str]:
    return [path + ".1"] if os.path.exists(path + ".1") else []


# -- filters (moby daemon/events/filter.go) ----------------------------------------------------------------
FILTER_KEYS = ("config", "container", "daemon", "event", "image", "label", "network", "node", "plugin", "scope",
               "secret", "service", "type", "volume")
_FUZZY_EVENTS = ("health_status", "exec_create", "exec_start")


def _exact(values: list[str] | None, source: str) -> bool:
    return not values or source in values


def _fuzzy(values: list[str] | None, source: str) -> bool:
    return not values or any(source.startswith(v) for v in values)


def _strip_tag(image: str) -> str:
    """reference.FamiliarName of a normalized reference; the text itself when it is not one."""
    from skiff.errors import InvalidArgumentError
    from skiff.oci.reference import parse

    try:
        ref = parse(image, default_tag=False)
    except InvalidArgumentError:
        return image
    return ref.familiar_name()


def matches(msg: Mapping[str, object], f: Mapping[str, list[str]]) -> bool:
    """moby's ``Filter.Include``: keys ANDed, values of one key ORed; container, volume and network match the
    actor's ID or name by prefix; image the ID or image name, with or without the tag; label every value."""
    if not f:
        return True
    typ, action = str(msg.get("Type", "")), str(msg.get("Action", ""))
    actor = msg.get("Actor") or {}
    actor_id = str(actor.get("ID", "")) if isinstance(actor, dict) else ""
    attrs = actor.get("Attributes") or {} if isinstance(actor, dict) else {}
    assert isinstance(attrs, dict)
    name = str(attrs.get("name", ""))
    events = f.get("event")
    if events and any(v in _FUZZY_EVENTS for v in events):
        if not _fuzzy(events, action):
            return False
    elif not _exact(events, action):
        return False
    if not _exact(f.get("type"), typ) or (f.get("scope") and not _exact(f.get("scope"), str(msg.get("scope")))):
        return False
    for key in ("daemon", "container", "plugin", "volume", "network", "node", "service", "secret", "config"):
        values = f.get(key)  # whatever the event's type, as moby's fuzzyMatchName does
        if values and not (_fuzzy(values, actor_id) or _fuzzy(values, name)):
            return False
    images = f.get("image")
    if images:
        image_name = str(attrs.get("name" if typ == "image" else "image", ""))
        if not any(v in images for v in (actor_id, image_name, _strip_tag(actor_id), _strip_tag(image_name))):
            return False
    labels = f.get("label")
    if labels:
        if not attrs:
            return False
        for value in labels:
            k, eq, v = value.partition("=")
            if k not in attrs or (eq and attrs[k] != v):
                return False
    return True


def select(msgs: list[dict[str, object]], f: Mapping[str, list[str]], since_ns: int | None,
           until_ns: int | None) -> Iterator[dict[str, object]]:
    for m in msgs:
        t = int(m["timeNano"])  # type: ignore[call-overload]
        if (since_ns is None or t >= since_ns) and (until_ns is None or t <= until_ns) and matches(m, f):
            yield m


def pretty(msg: Mapping[str, object]) -> str:
    """docker/cli's ``prettyPrintEvent``: the time (RFC 3339 with nanoseconds, local zone), type, action, actor
    ID and its attributes, sorted, in parentheses."""
    ns = int(msg["timeNano"])  # type: ignore[call-overload]
    actor = msg.get("Actor") or {}
    assert isinstance(actor, dict)
    text = f"{rfc3339_nano_fixed(ns)} {msg.get('Type', '')} {msg.get('Action', '')} {actor.get('ID', '')}"
    attrs = actor.get("Attributes") or {}
    if attrs:
        text += " (" + ", ".join(f"{k}={attrs[k]}" for k in sorted(attrs)) + ")"
    return text


def rfc3339_nano_fixed(ns: int) -> str:
    """Go's ``2006-01-02T15:04:05.000000000Z07:00`` in the local zone."""
    sec, frac = divmod(ns, 1_000_000_000)
    lt = time.localtime(sec)
    off = lt.tm_gmtoff
    zone = "Z" if off == 0 else f"{'+' if off > 0 else '-'}{abs(off) // 3600:02d}:{abs(off) % 3600 // 60:02d}"
    return time.strftime("%Y-%m-%dT%H:%M:%S", lt) + f".{frac:09d}" + zone
