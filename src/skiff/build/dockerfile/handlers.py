"""One AST node -> its typed command: flags, argument counts and values checked as BuildKit does.

Used through :func:`skiff.build.dockerfile.instructions.parse_instruction`.
"""

from __future__ import annotations

import re

from skiff.build.dockerfile import flags as fl
from skiff.build.dockerfile import splitters as sp
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
from skiff.build.dockerfile.parser import Node

_STAGE_NAME = re.compile(r"[a-z][a-z0-9\-_.]*\Z")
_ONBUILD_PREFIX = re.compile(r"(?i)^\s*ONBUILD\s*")
_KNOWN = frozenset(
    "add arg cmd copy entrypoint env expose from healthcheck label maintainer onbuild run shell "
    "stopsignal user volume workdir".split()
)


class _Req:
    """One node being typed: its flags, arguments and a way to fail at its line."""

    def __init__(self, node: Node, filename: str) -> None:
        self.node = node
        self.filename = filename
        self.args = list(node.args)
        self.flags = fl.Flags(list(node.flags))
        self.upper = node.keyword.upper()

    def error(self, what: str) -> DockerfileError:
        return DockerfileError(
            what,
            filename=self.filename,
            line=self.node.start_line,
            end_line=self.node.end_line,
            source_line=self.node.original,
        )

    def common(self) -> dict[str, object]:
        return {
            "keyword": self.upper,
            "original": sp.go_strip(self.node.original),
            "filename": self.filename,
            "line": self.node.start_line,
            "end_line": self.node.end_line,
        }

    def exactly_one(self) -> str:
        if len(self.args) != 1:
            raise self.error(f"{self.upper} requires exactly one argument")
        return self.args[0]

    def at_least_one(self) -> None:
        if not self.args:
            raise self.error(f"{self.upper} requires at least one argument")

    def cmd_line(self, empty_as_none: bool) -> tuple[tuple[str, ...] | None, bool]:
        args: tuple[str, ...] = ()
        if self.args:
            args = tuple(self.args) if self.node.json else (" ".join(self.args),)
        if empty_as_none and not args:
            return None, not self.node.json
        return args, not self.node.json


def parse_instruction(node: Node, *, filename: str = "Dockerfile") -> Command:
    """One AST node -> its typed command (:class:`Stage` for ``FROM``)."""
    req = _Req(node, filename)
    try:
        return _dispatch(req)
    except fl.FlagError as err:
        raise req.error(str(err)) from None


def _dispatch(req: _Req) -> Command:
    kw = req.node.keyword
    if kw not in _KNOWN:
        written = sp.split_command(req.node.original, "\\")[0]
        raise req.error(f"unknown instruction: {written}")
    handler = _HANDLERS.get(kw)
    if handler is not None:
        return handler(req)
    req.flags.parse()
    c = req.common()
    if kw == "maintainer":
        return MaintainerCommand(maintainer=req.exactly_one(), **c)  # type: ignore[arg-type]
    if kw == "workdir":
        return WorkdirCommand(path=req.exactly_one(), **c)  # type: ignore[arg-type]
    if kw == "user":
        return UserCommand(user=req.exactly_one(), **c)  # type: ignore[arg-type]
    if kw == "stopsignal":
        signal = req.exactly_one()
        fl.check_signal(signal)
        return StopSignalCommand(signal=signal, **c)  # type: ignore[arg-type]
    if kw in ("env", "label"):
        pairs = _kvps(req)
        if kw == "env":
            return EnvCommand(env=pairs, **c)  # type: ignore[arg-type]
        return LabelCommand(labels=pairs, **c)  # type: ignore[arg-type]
    if kw == "expose":
        req.at_least_one()
        for port in req.args:
            fl.check_port(port)
        return ExposeCommand(ports=tuple(req.args), **c)  # type: ignore[arg-type]
    if kw == "volume":
        req.at_least_one()
        if any(not sp.go_strip(v) for v in req.args):
            raise req.error("VOLUME specified can not be an empty string")
        return VolumeCommand(volumes=tuple(req.args), **c)  # type: ignore[arg-type]
    if kw == "arg":
        return ArgCommand(args=_arg_defs(req), **c)  # type: ignore[arg-type]
    if kw in ("cmd", "entrypoint"):
        line, shell = req.cmd_line(kw == "entrypoint")
        cls = CmdCommand if kw == "cmd" else EntrypointCommand
        return cls(cmd_line=line, prepend_shell=shell, **c)  # type: ignore[arg-type]
    if kw == "shell":
        if not req.node.json:
            raise req.error("SHELL requires the arguments to be in JSON form")
        req.at_least_one()
        return ShellCommand(shell=tuple(req.args), **c)  # type: ignore[arg-type]
    return _onbuild(req)


def _kvps(req: _Req) -> tuple[KeyValuePair, ...]:
    req.at_least_one()
    if len(req.args) % 3:
        raise req.error(f"Bad input to {req.upper}, too many arguments")
    out = []
    for i in range(0, len(req.args), 3):
        key, value, delim = req.args[i : i + 3]
        if not key:
            raise req.error(f"{req.upper} names can not be blank")
        out.append(KeyValuePair(key, value, delim == ""))
    return tuple(out)


def _arg_defs(req: _Req) -> tuple[ArgDef, ...]:
    req.at_least_one()
    out = []
    for arg in req.args:
        if "=" in arg:
            key, value = arg.split("=", 1)
            if not key:
                raise req.error("ARG names can not be blank")
            out.append(ArgDef(key, value))
        else:
            out.append(ArgDef(arg))
    return tuple(out)


def _onbuild(req: _Req) -> Command:
    trigger = req.node.trigger
    if trigger is None:
        raise req.error("ONBUILD requires at least one argument")
    name = trigger.keyword.upper()
    if name == "ONBUILD":
        raise req.error("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed")
    if name in ("FROM", "MAINTAINER"):
        raise req.error(f"{name} isn't allowed as an ONBUILD trigger")
    parse_instruction(trigger, filename=req.filename)
    expression = _ONBUILD_PREFIX.sub("", req.node.original, count=1)
    return OnbuildCommand(expression=expression, **req.common())  # type: ignore[arg-type]


def _from(req: _Req) -> Command:
    f = req.flags.parse({"platform": fl.STRING})
    args = req.args
    name = ""
    if len(args) == 3 and args[1].lower() == "as":
        name = args[2].lower()
        if not _STAGE_NAME.match(name):
            raise req.error(
                f"invalid name for build stage: {sp.go_quote(args[2])}, name can't start with a number or contain symbols"
            )
    elif len(args) != 1:
        raise req.error("FROM requires either one or three arguments")
    c = req.common()
    c["original"] = sp.go_strip(req.node.original)
    return Stage(base_name=args[0], name=name, platform=f.string("platform"), **c)  # type: ignore[arg-type]


def _sources(req: _Req) -> tuple[tuple[str, ...], str, tuple[InlineFile, ...]]:
    if len(req.args) < 2:
        raise req.error(
            f"{req.upper} requires at least two arguments, but only one was provided. Destination could not be determined"
        )
    *srcs, dest = req.args
    if not req.node.json and sp.parse_heredoc_word(dest) is not None:
        raise req.error(f"{req.upper} cannot accept a heredoc as a destination")
    bodies = list(req.node.heredocs)
    paths: list[str] = []
    contents: list[InlineFile] = []
    for src in srcs:
        doc = None if req.node.json else sp.parse_heredoc_word(src)
        if doc is not None and bodies:
            body = bodies.pop(0)
            data = sp.chomp_heredoc(body.content) if doc.chomp else body.content
            contents.append(InlineFile(doc.name, data, doc.expand, doc.chomp, doc.file_descriptor))
        else:
            paths.append(src)
    return tuple(paths), dest, tuple(contents)


def _copy(req: _Req) -> Command:
    f = req.flags.parse(
        {"from": fl.STRING, "chown": fl.STRING, "chmod": fl.STRING, "link": fl.BOOL, "parents": fl.BOOL}
        | {"exclude": fl.STRINGS}
    )
    fl.check_chmod(f.string("chmod"))
    srcs, dest, contents = _sources(req)
    return CopyCommand(
        sources=srcs,
        dest=dest,
        contents=contents,
        from_=f.string("from"),
        chown=f.string("chown"),
        chmod=f.string("chmod"),
        link=bool(f.boolean("link")),
        parents=bool(f.boolean("parents")),
        excludes=f.strings("exclude"),
        **req.common(),  # type: ignore[arg-type]
    )


def _add(req: _Req) -> Command:
    f = req.flags.parse(
        {"chown": fl.STRING, "chmod": fl.STRING, "link": fl.BOOL, "keep-git-dir": fl.BOOL}
        | {"checksum": fl.STRING, "unpack": fl.BOOL, "exclude": fl.STRINGS}
    )
    fl.check_chmod(f.string("chmod"))
    fl.check_checksum(f.string("checksum"))
    srcs, dest, contents = _sources(req)
    return AddCommand(
        sources=srcs,
        dest=dest,
        contents=contents,
        chown=f.string("chown"),
        chmod=f.string("chmod"),
        link=bool(f.boolean("link")),
        keep_git_dir=f.boolean("keep-git-dir"),
        checksum=f.string("checksum"),
        unpack=f.boolean("unpack"),
        excludes=f.strings("exclude"),
        **req.common(),  # type: ignore[arg-type]
    )


def _run(req: _Req) -> Command:
    f = req.flags.parse({"mount": fl.STRINGS, "network": fl.STRING, "security": fl.STRING})
    network = f.string("network")
    if "network" in f.used and network not in fl.NETWORK_MODES:
        raise req.error(f"unsupported network mode {network!r} (one of {', '.join(fl.NETWORK_MODES)})")
    security = f.string("security")
    if "security" in f.used and security not in fl.SECURITY_MODES:
        raise req.error(f"unsupported security mode {security!r} (one of {', '.join(fl.SECURITY_MODES)})")
    mounts = tuple(fl.parse_mount(spec) for spec in f.strings("mount"))
    targets = [m.target for m in mounts]
    if len(set(targets)) != len(targets):
        raise req.error("RUN has several --mount with the same target")
    line, shell = req.cmd_line(False)
    files = tuple(
        InlineFile(h.name, h.content, h.expand, h.chomp, h.file_descriptor) for h in req.node.heredocs
    )
    return RunCommand(
        cmd_line=line,
        prepend_shell=shell,
        files=files,
        mounts=mounts,
        network=network,
        security=security,
        flags_used=tuple(f.used),
        **req.common(),  # type: ignore[arg-type]
    )


def _healthcheck(req: _Req) -> Command:
    req.at_least_one()
    kind = req.args[0].upper()
    rest = req.args[1:]
    if kind == "NONE":
        req.flags.parse()
        if rest:
            raise req.error("HEALTHCHECK NONE takes no arguments")
        return HealthCheckCommand(health=HealthConfig(("NONE",)), **req.common())  # type: ignore[arg-type]
    durations = ("interval", "timeout", "start-period", "start-interval", "retries")
    f = req.flags.parse(dict.fromkeys(durations, fl.STRING))
    if kind != "CMD":
        raise req.error(f'Unknown type "{kind}" in HEALTHCHECK (try CMD)')
    cmd = rest if req.node.json else ([" ".join(rest)] if rest else [])
    if not cmd:
        raise req.error("Missing command after HEALTHCHECK CMD")
    test = ("CMD", *cmd) if req.node.json else ("CMD-SHELL", *cmd)
    retries = 0
    if f.string("retries"):
        try:
            retries = int(f.string("retries"), 10)
        except ValueError:
            raise req.error(f"invalid --retries value {f.string('retries')!r}") from None
        if retries < 0:
            raise req.error(f"--retries cannot be negative ({retries})")
    health = HealthConfig(
        test=test,
        interval=fl.health_interval("interval", f.string("interval")),
        timeout=fl.health_interval("timeout", f.string("timeout")),
        start_period=fl.health_interval("start-period", f.string("start-period")),
        start_interval=fl.health_interval("start-interval", f.string("start-interval")),
        retries=retries,
    )
    return HealthCheckCommand(health=health, **req.common())  # type: ignore[arg-type]


_HANDLERS = {
    "from": _from,
    "copy": _copy,
    "add": _add,
    "run": _run,
    "healthcheck": _healthcheck,
}
