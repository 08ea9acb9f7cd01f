"""Local named volumes: ``ROOT/volumes/<name>/_data`` plus ``volume.json`` (labels, options, created).

A volume is created on first use and, when empty, populated from the image's content at the mount point
(Docker's copy-up). Anonymous volumes get a random 64-hex name and the ``com.docker.volume.anonymous`` label;
``rm -v`` and ``run --rm`` remove them. Use by containers is read from their records (``Mounts[].Name``).

The local driver's options (``volume create -o type=tmpfs -o device=tmpfs -o o=size=64m``, ``type=none
device=/srv o=bind``, nfs...) are moby's: ``_data`` gets ``mount(device, _data, type, o)`` while a container
that uses the volume runs, and is unmounted when the last one stops. Without a daemon to count users, each
user leaves a marker (``RUNROOT/volumes/<name>/<container ID>``) while the volumes lock is held: the first
marker mounts, removing the last unmounts. The runroot and the mounts both end at a reboot.
"""

from __future__ import annotations

import builtins
import json
import os
import re
import time
from contextlib import AbstractContextManager
from pathlib import Path

from skiff.errors import ConflictError, InvalidArgumentError, NotFoundError, SkiffError
from skiff.lightfs import remove_tree
from skiff.records import dataclass, field

ANON_LABEL = "com.docker.volume.anonymous"
# moby's volume/local: the options the local driver takes, and which need which
VALID_OPTS = ("type", "o", "device", "size")
MANDATORY_OPTS = (("device", ("type",)), ("type", ("device",)), ("o", ("device", "type")))
_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]+")


@dataclass(frozen=True)
class Volume:
    """A named volume: its ``volume.json`` metadata and ``_data`` folder, as ``volume inspect`` shows it."""

    name: str
    mountpoint: str
    created_at: str
    labels: dict[str, str] = field(default_factory=dict)
    options: dict[str, str] = field(default_factory=dict)
    driver: str = "local"

    @property
    def anonymous(self) -> bool:
        return ANON_LABEL in self.labels

    @property
    def needs_mount(self) -> bool:
        """A device or filesystem type to mount on ``_data`` (moby's needsMount)."""
        return bool(self.options.get("device") or self.options.get("type"))

    def inspect(self) -> dict[str, object]:
        return {"CreatedAt": self.created_at, "Driver": self.driver, "Labels": self.labels or None,
                "Mountpoint": self.mountpoint, "Name": self.name, "Options": self.options or None,
                "Scope": "local"}


class Volumes:
    def __init__(self, root: Path, runroot: Path | None = None) -> None:
        self.dir = Path(root) / "volumes"
        self.runroot = runroot  # where `skiff events` reads: volume create and destroy are logged there

    def _event(self, action: str, name: str) -> None:
        if self.runroot is not None:
            from skiff.events import emit

            emit(self.runroot, "volume", action, name, {"driver": "local"})

    def _lock(self) -> AbstractContextManager[None]:
        from .containers_state import _flock

        self.dir.mkdir(parents=True, exist_ok=True)
        return _flock(self.dir / "volumes.lock")

    def get(self, name: str) -> Volume:
        try:
            meta = json.loads((self.dir / name / "volume.json").read_bytes())
        except (OSError, ValueError):
            raise NotFoundError(f"get {name}: no such volume") from None
        return Volume(name=name, mountpoint=str(self.dir / name / "_data"), created_at=meta.get("CreatedAt", ""),
                      labels=meta.get("Labels") or {}, options=meta.get("Options") or {})

    def exists(self, name: str) -> bool:
        return (self.dir / name / "volume.json").exists()

    def create(self, name: str | None = None, labels: dict[str, str] | None = None,
               options: dict[str, str] | None = None) -> tuple[Volume, bool]:
        """(volume, created now). An existing volume of that name is returned as it is."""
        anonymous = not name
        name = name or os.urandom(32).hex()  # secrets.token_hex(32), without importing secrets
        if not _NAME.fullmatch(name):
            raise InvalidArgumentError(f'create {name}: "{name}" includes invalid characters for a local volume '
                                       "name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed")
        check_options(name, options or {})
        with self._lock():
            if self.exists(name):
                return self.get(name), False
            d = self.dir / name
            (d / "_data").mkdir(parents=True, exist_ok=True)
            labs = dict(labels or {})
            if anonymous:
                labs[ANON_LABEL] = ""
            meta = {"CreatedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "Labels": labs,
                    "Options": options or {}}
            tmp = d / ".volume.json.tmp"
            tmp.write_text(json.dumps(meta))
            os.rename(tmp, d / "volume.json")
        self._event("create", name)
        return self.get(name), True

    def list(self) -> builtins.list[Volume]:
        try:
            names = sorted(os.listdir(self.dir))
        except FileNotFoundError:
            return []
        return [self.get(n) for n in names if self.exists(n)]

    def remove(self, name: str, users: builtins.list[str], force: bool = False) -> None:
        if not self.exists(name):
            if force:
                return
            raise NotFoundError(f"get {name}: no such volume")
        if users:
            raise ConflictError(f"remove {name}: volume is in use - [{', '.join(users)}]")
        with self._lock():
            self._unmount(name)  # a device left mounted (users that crashed): not deleted through it
            if self.runroot is not None:
                remove_tree(self.runroot / "volumes" / name)
            # make it invisible first, then delete
            d = self.dir / name
            gone = self.dir / f".rm-{name}-{os.getpid()}"
            os.rename(d, gone)
            remove_tree(gone)
        self._event("destroy", name)


    # -- the local driver's mounts ----------------------------------------------------------------------------
    def _users(self, name: str) -> Path:
        assert self.runroot is not None
        return self.runroot / "volumes" / name

    def activate(self, vol: Volume, user: str) -> None:
        """``user`` (a container ID) is about to use ``vol``: with mount options, mount its device on ``_data``
        unless another user already has (moby's Mount with its reference count)."""
        if not vol.needs_mount or self.runroot is None:
            return
        with self._lock():
            users = self._users(vol.name)
            users.mkdir(parents=True, exist_ok=True)
            if not is_mounted(vol.mountpoint):
                mount_local(vol)
            (users / user).touch()

    def deactivate(self, name: str, user: str) -> None:
        """``user`` no longer uses volume ``name``: the last user unmounts its device (moby's Unmount)."""
        if self.runroot is None or not (self._users(name) / user).exists():
            return
        with self._lock():
            users = self._users(name)
            try:
                os.unlink(users / user)
            except FileNotFoundError:
                return
            if not os.listdir(users):
                self._unmount(name)

    def _unmount(self, name: str) -> None:
        data = str(self.dir / name / "_data")
        if is_mounted(data):
            from skiff.store.drivers.base import sys_umount

            try:
                sys_umount(data)
            except OSError:
                sys_umount(data, 2)  # MNT_DETACH: busy (a shell on the host in it); gone once released


def check_options(name: str, opts: dict[str, str]) -> None:
    """moby's validateOpts for the local driver, with its words (prefixed as the volume service does)."""
    for k in opts:
        if k not in VALID_OPTS:
            raise InvalidArgumentError(f'create {name}: invalid option: "{k}"')
    if "size" in opts:
        from .containers_options import parse_bytes

        if parse_bytes(opts["size"], "size") > 0:  # moby's quota needs xfs project quotas: skiff has none
            raise InvalidArgumentError(f"create {name}: quota size requested but no quota support")
    for opt, needs in MANDATORY_OPTS:
        if opt in opts:
            for need in needs:
                if need not in opts:
                    raise InvalidArgumentError(f'create {name}: missing required option: "{need}"')


def is_mounted(path: str) -> bool:
    from skiff.store.drivers.base import is_mountpoint

    return is_mountpoint(Path(path))


def mount_local(vol: Volume) -> None:
    """mount(2) the volume's device on ``_data`` as moby's local driver does: ``o`` read as mount(8) options
    (flags such as ``bind``, ``ro``, ``nosuid``; the rest is the filesystem's data). The error is moby's."""
    from skiff.runtime.rootfs import parse_options
    from skiff.store.drivers.base import sys_mount

    device = vol.options.get("device", "")
    if not device:
        raise InvalidArgumentError(f"error while mounting volume '{vol.mountpoint}': missing device in volume "
                                   "options")
    o = vol.options.get("o", "")
    flags, prop, data = parse_options([x for x in o.split(",") if x])
    fstype = vol.options.get("type", "")
    try:
        sys_mount(device, vol.mountpoint, fstype, flags, data)
        if prop:
            sys_mount("", vol.mountpoint, "", prop, "")
    except OSError as e:
        text = f"mount {device}:{vol.mountpoint}" + (f", flags: {flags:#x}" if flags else "") + (
            f", data: {data}" if data else "") + f": {(e.strerror or str(e)).lower()}"
        for part in o.split(","):  # moby hides a CIFS password in the message
            if part.startswith("password="):
                text = text.replace(part, "password=********")
        raise SkiffError(f"error while mounting volume '{vol.mountpoint}': failed to mount local volume: "
                         f"{text}") from None


def select(volumes: builtins.list[Volume], filters: builtins.list[str], used: set[str]) -> builtins.list[Volume]:
    """`volume ls --filter`: ``dangling`` (no container uses it), ``driver`` (exact), ``name`` (a regular
    expression, as moby's filters.Match), ``label`` (``KEY`` or ``KEY=VALUE``); values of one key are ORed."""
    from .filterargs import by_key as parse

    by_key = parse(filters, ("dangling", "driver", "name", "label"))

    def name_matches(pattern: str, name: str) -> bool:
        try:
            return re.search(pattern, name) is not None
        except re.error:
            return pattern in name

    def has(spec: str, labels: dict[str, str]) -> bool:
        k, eq, v = spec.partition("=")
        return k in labels and (not eq or labels[k] == v)

    # moby's filtersToBy: a true value wins, else a false one; with neither, the values are refused
    dangling = None
    if "dangling" in by_key:
        values = by_key["dangling"]
        dangling = any(d in ("1", "true") for d in values)
        if not dangling and not any(d in ("0", "false") for d in values):
            raise InvalidArgumentError(f"invalid filter 'dangling=[{' '.join(values)}]'")
    out = []
    for vol in volumes:
        if dangling is not None and (vol.name not in used) != dangling:
            continue
        if "driver" in by_key and vol.driver not in by_key["driver"]:
            continue
        if "name" in by_key and not any(name_matches(p, vol.name) for p in by_key["name"]):
            continue
        if "label" in by_key and not all(has(spec, vol.labels) for spec in by_key["label"]):
            continue
        out.append(vol)
    return out


def copy_up(src_host: str, dst: str) -> None:
    """Copy the image's content at a mount point into an empty volume (ownership, modes, links kept).

    ``src_host`` was resolved inside the container's root; ``cp`` runs on the host on these two folders."""
    if not os.path.isdir(src_host) or os.listdir(dst):
        return
    if not os.listdir(src_host):
        st = os.stat(src_host)
        os.chown(dst, st.st_uid, st.st_gid)
        os.chmod(dst, st.st_mode & 0o7777)
        return
    import subprocess

    subprocess.run(["cp", "-a", "--no-dereference", f"{src_host}/.", dst], check=True, capture_output=True)
    st = os.stat(src_host)
    os.chown(dst, st.st_uid, st.st_gid)
    os.chmod(dst, st.st_mode & 0o7777)
