"""The cgroup Manager Protocol, layout detection (unified / hybrid / legacy) and the factory.

Container cgroups live under a ``skiff`` parent (``/sys/fs/cgroup/<ctrl>/skiff/<id>`` on v1,
``/sys/fs/cgroup/unified/skiff/<id>`` on the hybrid v2 tree) unless the spec's cgroupsPath says otherwise.
"""

from __future__ import annotations

import enum
import os

TYPE_CHECKING = False  # not typing's: `delete` needs the factory only, not typing or dataclasses
if TYPE_CHECKING:
    from typing import Protocol

    from _typeshed import StrPath

    from skiff.oci.runtime import LinuxResources
    from skiff.runtime.cgroupfs import CgroupView
    from skiff.runtime.cgroups.stats import Stats

    class Manager(Protocol):
        """One container's cgroup(s)."""

        path: str

        def create(self) -> None: ...
        def apply(self, resources: LinuxResources | None) -> None: ...
        def add(self, pid: int) -> None: ...
        def join_fds(self) -> tuple[list[int], int | None]: ...
        def view(self) -> CgroupView: ...
        def add_v2(self, pid: int) -> None: ...
        def pids(self) -> list[int]: ...
        def oom_kills(self) -> int: ...
        def stats(self) -> Stats: ...
        def freeze(self) -> None: ...
        def thaw(self) -> None: ...
        def destroy(self) -> None: ...


CGROUP_ROOT = "/sys/fs/cgroup"


class Setup(enum.Enum):
    UNIFIED = "unified"
    HYBRID = "hybrid"
    LEGACY = "legacy"


def detect(root: StrPath = CGROUP_ROOT) -> Setup:
    """cgroup.controllers exists only at the root of a cgroup2 mount."""
    if os.path.exists(os.path.join(root, "cgroup.controllers")):
        return Setup.UNIFIED
    if os.path.exists(os.path.join(root, "unified", "cgroup.controllers")):
        return Setup.HYBRID
    return Setup.LEGACY


def cgroup_path(container_id: str, cgroups_path: str | None) -> str:
    """The cgroup path relative to each hierarchy root."""
    if not cgroups_path:
        return f"skiff/{container_id}"
    if cgroups_path.startswith("/"):
        return cgroups_path.strip("/")
    if ":" in cgroups_path:  # systemd's slice:prefix:name form: no systemd driver here, keep the name
        return f"skiff/{cgroups_path.rsplit(':', 1)[-1]}"
    return f"skiff/{cgroups_path.strip('/')}"


def parts(rel: str) -> list[str]:
    """The components of the relative path ``rel``, as ``Path(rel).parts`` gives them."""
    return [p for p in rel.split("/") if p and p != "."]


def mkdir(path: StrPath) -> None:
    """``Path(path).mkdir(exist_ok=True)``: a missing parent still raises FileNotFoundError."""
    try:
        os.mkdir(path)
    except FileExistsError:
        if not os.path.isdir(path):
            raise


def write(path: StrPath, value: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    try:
        os.write(fd, value.encode())
    finally:
        os.close(fd)


def read(path: StrPath) -> str | None:
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def read_int(path: StrPath) -> int | None:
    v = read(path)
    if v is None or v == "max":
        return None
    try:
        return int(v.split()[0])
    except (ValueError, IndexError):
        return None


def keyed(path: StrPath, key: str) -> int | None:
    text = read(path)
    for line in (text or "").splitlines():
        k, _, v = line.partition(" ")
        if k == key:
            return int(v)
    return None


def create_manager(container_id: str, cgroups_path: str | None, root: StrPath = CGROUP_ROOT) -> Manager:
    rel = cgroup_path(container_id, cgroups_path)
    setup = detect(root)
    if setup is Setup.UNIFIED:
        from skiff.runtime.cgroups.v2 import V2Manager

        return V2Manager(os.path.join(root, rel), rel)
    from skiff.runtime.cgroups.v1 import V1Manager

    unified = os.path.join(root, "unified", rel) if setup is Setup.HYBRID else None
    return V1Manager(root, rel, unified)
