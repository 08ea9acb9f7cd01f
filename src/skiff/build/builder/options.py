"""What goes into a build, what comes out, and the services the engine injects."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from skiff.records import dataclass, field

if TYPE_CHECKING:
    from skiff.store.images import ImageRecord


@dataclass(frozen=True)
class BuildOptions:
    """What `skiff build` was asked for: the context and Dockerfile, tags, build args and the other flags."""

    context: Path | None                      # the context folder (None: no context, Dockerfile from stdin)
    dockerfile: Path | None = None            # default: CONTEXT/Dockerfile
    dockerfile_text: str | None = None        # `-f -` or `skiff build -`
    tags: tuple[str, ...] = ()
    build_args: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    target: str | None = None
    no_cache: bool = False
    no_cache_filter: tuple[str, ...] = ()
    pull: bool = False
    network: str = "default"
    iidfile: Path | None = None
    secrets: dict[str, Path] = field(default_factory=dict)
    build_contexts: dict[str, Path] = field(default_factory=dict)
    ca_bundle: Path | None = None
    quiet: bool = False
    platform: str | None = None
    source_date_epoch: int | None = None
    output: str | None = None                 # type=oci|docker,dest=... (the engine writes it)
    progress: str = "auto"                    # auto | plain | tty | quiet
    # RUN steps' sandbox (docker build's flags; the engine checks them with run's parsers before building)
    add_hosts: tuple[str, ...] = ()           # --add-host NAME:IP (the engine resolves host-gateway)
    ssh: dict[str, Path] = field(default_factory=dict)  # --ssh ID=SOCKET: agent sockets for --mount=type=ssh
    limits: StepLimits | None = None          # --memory, --cpu-*, --ulimit, --shm-size, --cgroup-parent
    cache_from: tuple[str, ...] = ()          # accepted: the engine warns that they are not used
    cache_to: tuple[str, ...] = ()


@dataclass(frozen=True)
class StepLimits:
    """docker build's resource flags for the RUN steps' containers, as given (the legacy builder's
    HostConfig: the engine parses and checks them as `skiff run` does, and applies them to every step)."""

    memory: str | None = None
    memory_swap: str | None = None
    shm_size: str | None = None
    cpu_shares: int | None = None
    cpu_period: int | None = None
    cpu_quota: int | None = None
    cpuset_cpus: str | None = None
    cpuset_mems: str | None = None
    cgroup_parent: str | None = None
    ulimits: tuple[str, ...] = ()
    security_opt: tuple[str, ...] = ()  # seccomp=unconfined|FILE, no-new-privileges (label, apparmor: none here)


@dataclass(frozen=True)
class BuildReport:
    """What a build made: image ID, tags, steps run, how many were cache hits, and the seconds taken."""

    image_id: str
    tags: tuple[str, ...]
    steps: int
    cached: int
    seconds: float


@dataclass(frozen=True)
class StepMount:
    """A mount for one RUN step: a host folder or file bound at ``target``, or a tmpfs (source None)."""

    target: str
    source: Path | None
    readonly: bool = True
    kind: str = "bind"       # bind | tmpfs
    size: int = 0            # tmpfs size in bytes (0: the kernel's default)


@dataclass(frozen=True)
class RunStep:
    """One RUN step for a :class:`StepRunner`: the command, its root, env, user, mounts and network."""

    rootfs: Path             # the step's mounted root (an overlay whose upper dir becomes the layer)
    args: tuple[str, ...]
    env: tuple[str, ...]
    cwd: str
    uid: int
    gid: int
    additional_gids: tuple[int, ...]
    mounts: tuple[StepMount, ...]
    network: str             # default | none | host
    hostname: str
    output: Callable[[bytes], None]


class StepRunner(Protocol):
    """Runs one RUN step in a container and returns its exit code (the engine's runtime and network)."""

    def run(self, step: RunStep) -> int: ...


class ImageProvider(Protocol):
    """Finds a FROM image in the store, pulling it when missing (or always with ``pull``)."""

    def ensure(self, reference: str, *, pull: bool, platform: str | None) -> ImageRecord: ...
