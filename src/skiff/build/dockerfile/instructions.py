"""AST -> typed instructions and stages (BuildKit's ``frontend/dockerfile/instructions``).

:func:`parse` turns a :class:`~skiff.build.dockerfile.parser.ParseResult` into ``(stages,
meta_args)``: the ``ARG``\\ s before the first ``FROM`` are the global (meta) args, every other
instruction belongs to the stage opened by the last ``FROM``. :func:`expand` substitutes
variables in the instructions that Docker expands (see :data:`EXPANDED`).
"""

from __future__ import annotations

from collections.abc import Sequence

from skiff.build.dockerfile.commands import (
    AddCommand,
    ArgCommand,
    ArgDef,
    CmdCommand,
    Command,
    CopyCommand,
    EntrypointCommand,
    EnvCommand,
    ExposeCommand,
    HealthCheckCommand,
    HealthConfig,
    InlineFile,
    KeyValuePair,
    LabelCommand,
    MaintainerCommand,
    Mount,
    OnbuildCommand,
    RunCommand,
    ShellCommand,
    Stage,
    StopSignalCommand,
    UserCommand,
    VolumeCommand,
    WorkdirCommand,
)
from skiff.build.dockerfile.errors import DockerfileError
from skiff.build.dockerfile.expand import EXPANDED, Expansion, expand, expand_word
from skiff.build.dockerfile.handlers import parse_instruction
from skiff.build.dockerfile.parser import Node, ParseResult

__all__ = [
    "EXPANDED",
    "PLATFORM_ARGS",
    "PROXY_ARGS",
    "AddCommand",
    "ArgCommand",
    "ArgDef",
    "CmdCommand",
    "Command",
    "CopyCommand",
    "EntrypointCommand",
    "EnvCommand",
    "Expansion",
    "ExposeCommand",
    "HealthCheckCommand",
    "HealthConfig",
    "InlineFile",
    "KeyValuePair",
    "LabelCommand",
    "MaintainerCommand",
    "Mount",
    "OnbuildCommand",
    "RunCommand",
    "ShellCommand",
    "Stage",
    "StopSignalCommand",
    "UserCommand",
    "VolumeCommand",
    "WorkdirCommand",
    "expand",
    "expand_word",
    "parse",
    "parse_instruction",
    "platform_args",
]

PROXY_ARGS = (
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "FTP_PROXY",
    "ftp_proxy",
    "NO_PROXY",
    "no_proxy",
    "ALL_PROXY",
    "all_proxy",
)
"""Build args every Dockerfile may use without declaring them (kept out of the image history)."""

PLATFORM_ARGS = (
    "BUILDPLATFORM",
    "BUILDOS",
    "BUILDARCH",
    "BUILDVARIANT",
    "TARGETPLATFORM",
    "TARGETOS",
    "TARGETARCH",
    "TARGETVARIANT",
)
"""Automatic platform args: set in the global scope; a stage sees them only after ``ARG NAME``."""


def platform_args(build_platform: str, target_platform: str | None = None) -> dict[str, str]:
    """The automatic platform args for ``os/arch[/variant]`` platforms (target defaults to build)."""
    out: dict[str, str] = {}
    for prefix, platform in (("BUILD", build_platform), ("TARGET", target_platform or build_platform)):
        parts = [*platform.split("/"), "", ""]
        out[prefix + "PLATFORM"] = platform
        out[prefix + "OS"], out[prefix + "ARCH"], out[prefix + "VARIANT"] = parts[0], parts[1], parts[2]
    return out


def parse(
    result: ParseResult | Sequence[Node], *, filename: str | None = None
) -> tuple[list[Stage], list[ArgCommand]]:
    """Typed ``(stages, meta_args)``. Raises :class:`DockerfileError` at the first bad instruction."""
    nodes = result.nodes if isinstance(result, ParseResult) else tuple(result)
    fname = filename or (result.filename if isinstance(result, ParseResult) else "Dockerfile")
    stages: list[Stage] = []
    commands: list[Command] = []
    meta: list[ArgCommand] = []
    names: dict[str, int] = {}

    def close() -> None:
        if stages:
            stages[-1] = _stage_with(stages[-1], commands)

    for node in nodes:
        cmd = parse_instruction(node, filename=fname)
        if isinstance(cmd, Stage):
            close()
            if cmd.name and cmd.name in names:
                raise DockerfileError(
                    f"duplicate stage name {cmd.name!r} (first at line {names[cmd.name]})",
                    filename=fname,
                    line=cmd.line,
                    source_line=cmd.original,
                )
            if cmd.name:
                names[cmd.name] = cmd.line
            stages.append(cmd)
            commands = []
        elif not stages and isinstance(cmd, ArgCommand):
            meta.append(cmd)
        elif not stages:
            raise DockerfileError(
                "no build stage in current context",
                filename=fname,
                line=node.start_line,
                end_line=node.end_line,
                source_line=node.original,
                hint="every instruction but ARG must come after a FROM",
            )
        else:
            commands.append(cmd)
    close()
    return stages, meta


def _stage_with(stage: Stage, commands: list[Command]) -> Stage:
    from dataclasses import replace

    return replace(stage, commands=tuple(commands))
