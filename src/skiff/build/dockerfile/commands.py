"""Typed Dockerfile instructions: one frozen dataclass per instruction, plus :class:`Stage`.

Every command carries where it came from (``filename``, ``line``, ``end_line``) and its text as
written (``original``). Values are as written in the Dockerfile (no ``$VAR`` expanded);
:func:`skiff.build.dockerfile.instructions.expand` gives the expanded copy.
"""

from __future__ import annotations

from skiff.records import dataclass, field


@dataclass(frozen=True, kw_only=True)
class Command:
    """What every instruction has: its keyword (upper case), source location and original text."""

    keyword: str
    original: str = ""
    filename: str = "Dockerfile"
    line: int = 0
    end_line: int = 0

    @property
    def location(self) -> str:
        """``FILE:LINE`` for messages."""
        return f"{self.filename}:{self.line}"


@dataclass(frozen=True)
class KeyValuePair:
    """``key=value`` of ENV/LABEL; ``no_delim`` for the legacy ``ENV key value`` form."""

    key: str
    value: str
    no_delim: bool = False


@dataclass(frozen=True)
class ArgDef:
    """One ``ARG name[=default]``; ``value`` is ``None`` when there is no default."""

    key: str
    value: str | None = None


@dataclass(frozen=True)
class InlineFile:
    """A heredoc body: for RUN a file fed to the shell, for COPY/ADD a source's content.

    ``data`` already has leading tabs removed when the heredoc was ``<<-``; ``expand`` says whether
    ``$VAR`` in it are to be expanded (false when the heredoc name was quoted).
    """

    name: str
    data: str
    expand: bool = True
    chomp: bool = False
    file_descriptor: int = 0


@dataclass(frozen=True)
class Mount:
    """One ``RUN --mount=...`` (BuildKit's runmount semantics; defaults already applied)."""

    type: str = "bind"
    target: str = ""
    source: str = ""
    from_: str = ""
    readonly: bool = True
    cache_id: str = ""
    cache_sharing: str = "shared"
    mode: int | None = None
    uid: int | None = None
    gid: int | None = None
    size: int = 0
    required: bool = False
    env: str | None = None
    bind_propagation: str = ""
    spec: str = ""


@dataclass(frozen=True)
class HealthConfig:
    """Docker's ``HealthConfig``: ``test`` is ``["NONE"]``, ``["CMD", ...]`` or ``["CMD-SHELL", cmd]``.

    Durations are nanoseconds (0 = inherit the default), as in the image config.
    """

    test: tuple[str, ...]
    interval: int = 0
    timeout: int = 0
    start_period: int = 0
    start_interval: int = 0
    retries: int = 0


@dataclass(frozen=True, kw_only=True)
class EnvCommand(Command):
    """ENV: the ``key=value`` pairs to set in the image's environment."""

    env: tuple[KeyValuePair, ...]


@dataclass(frozen=True, kw_only=True)
class LabelCommand(Command):
    """LABEL: the ``key=value`` pairs to add to the image's labels."""

    labels: tuple[KeyValuePair, ...]


@dataclass(frozen=True, kw_only=True)
class MaintainerCommand(Command):
    """MAINTAINER (deprecated): the name the builder records as the image's ``author``."""

    maintainer: str


@dataclass(frozen=True, kw_only=True)
class CopyCommand(Command):
    """COPY; also the base of :class:`AddCommand`. ``contents`` are heredoc sources."""

    sources: tuple[str, ...]
    dest: str
    contents: tuple[InlineFile, ...] = ()
    from_: str = ""
    chown: str = ""
    chmod: str = ""
    link: bool = False
    parents: bool = False
    excludes: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class AddCommand(Command):
    """ADD: COPY's fields except ``from_`` and ``parents``, plus ``--checksum``, ``--unpack`` and
    ``--keep-git-dir``; its sources may also be URLs."""

    sources: tuple[str, ...]
    dest: str
    contents: tuple[InlineFile, ...] = ()
    chown: str = ""
    chmod: str = ""
    link: bool = False
    keep_git_dir: bool | None = None
    checksum: str = ""
    unpack: bool | None = None
    excludes: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class OnbuildCommand(Command):
    """ONBUILD: ``expression`` is the trigger text, stored unexpanded in the image config."""

    expression: str


@dataclass(frozen=True, kw_only=True)
class WorkdirCommand(Command):
    """WORKDIR: the path, as written, that becomes the working directory of what follows."""

    path: str


@dataclass(frozen=True, kw_only=True)
class ShellDependentCommand(Command):
    """RUN/CMD/ENTRYPOINT: ``cmd_line`` is the exec array, or one string for the shell form
    (``prepend_shell``), which the builder prefixes with the stage's SHELL."""

    cmd_line: tuple[str, ...] | None
    prepend_shell: bool = False
    files: tuple[InlineFile, ...] = ()


@dataclass(frozen=True, kw_only=True)
class RunCommand(ShellDependentCommand):
    """RUN: the command, its ``--mount``/``--network``/``--security`` values, and which flags were given."""

    mounts: tuple[Mount, ...] = ()
    network: str = ""
    security: str = ""
    flags_used: tuple[str, ...] = field(default=())


@dataclass(frozen=True, kw_only=True)
class CmdCommand(ShellDependentCommand):
    """CMD: the image's default command (or the default arguments of its ENTRYPOINT)."""
    pass


@dataclass(frozen=True, kw_only=True)
class EntrypointCommand(ShellDependentCommand):
    """ENTRYPOINT: the image's entrypoint (it also drops a CMD inherited from the base image)."""
    pass


@dataclass(frozen=True, kw_only=True)
class HealthCheckCommand(Command):
    """HEALTHCHECK: the health check recorded in the image config (``NONE`` disables an inherited one)."""

    health: HealthConfig


@dataclass(frozen=True, kw_only=True)
class ExposeCommand(Command):
    """EXPOSE: the port specs as written (``80``, ``53/udp``), for the image config's ``ExposedPorts``."""

    ports: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class UserCommand(Command):
    """USER: the ``user[:group]`` that later RUN steps and the container run as."""

    user: str


@dataclass(frozen=True, kw_only=True)
class VolumeCommand(Command):
    """VOLUME: the paths recorded as volumes in the image config."""

    volumes: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class StopSignalCommand(Command):
    """STOPSIGNAL: the signal (name or number) that stops a container of the image."""

    signal: str


@dataclass(frozen=True, kw_only=True)
class ArgCommand(Command):
    """ARG: the build arguments it declares, each with its default if it has one."""

    args: tuple[ArgDef, ...]


@dataclass(frozen=True, kw_only=True)
class ShellCommand(Command):
    """SHELL: the exec array that later shell-form RUN, CMD and ENTRYPOINT are prefixed with."""

    shell: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class Stage(Command):
    """One ``FROM`` and its commands. ``name`` is lower-cased (``""`` when unnamed)."""

    base_name: str
    name: str = ""
    platform: str = ""
    commands: tuple[Command, ...] = ()
    comment: str = ""
