"""`--change` instructions (docker import / commit): CMD, ENTRYPOINT, ENV, EXPOSE, HEALTHCHECK, LABEL, USER,
VOLUME, WORKDIR, STOPSIGNAL, ONBUILD, as Dockerfile lines applied to an image's container config (moby's
validCommitCommands)."""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from typing import Any

from skiff.errors import InvalidArgumentError
from skiff.oci.image import ContainerConfig, HealthConfig
from skiff.records import replace

Edit = Callable[[ContainerConfig], ContainerConfig]
ALLOWED = ("CMD", "ENTRYPOINT", "ENV", "EXPOSE", "HEALTHCHECK", "LABEL", "ONBUILD", "STOPSIGNAL", "USER", "VOLUME",
           "WORKDIR")


def _exec_form(arg: str) -> list[str]:
    if arg.startswith("["):
        try:
            v = json.loads(arg)
        except ValueError:
            v = None
        if isinstance(v, list) and all(isinstance(x, str) for x in v):
            return v
    return ["/bin/sh", "-c", arg]


def _pairs(arg: str, what: str) -> list[tuple[str, str]]:
    words = shlex.split(arg)
    if words and "=" not in words[0]:  # legacy form: ENV key value with spaces
        if len(words) < 2:
            raise InvalidArgumentError(f"{what}: can't find = in {arg!r}; must be of the form: name=value")
        return [(words[0], arg.split(None, 1)[1] if len(words) > 1 else "")]
    out = []
    for w in words:
        k, sep, v = w.partition("=")
        if not sep or not k:
            raise InvalidArgumentError(f"{what} expects key=value pairs: {w!r}")
        out.append((k, v))
    return out


def parse_change(line: str) -> Edit:
    text = line.strip()
    word, _, arg = text.partition(" ")
    op = word.upper()
    arg = arg.strip()
    if op not in ALLOWED:
        raise InvalidArgumentError(f"{word} is not a valid change command")
    if not arg:
        raise InvalidArgumentError(f"{op} requires at least one argument")
    if op == "CMD":
        return lambda c: replace(c, cmd=_exec_form(arg))
    if op == "ENTRYPOINT":
        return lambda c: replace(c, entrypoint=_exec_form(arg))
    if op == "ENV":
        pairs = _pairs(arg, "ENV")

        def env(c: ContainerConfig) -> ContainerConfig:
            e = list(c.env)
            for k, v in pairs:
                e = [x for x in e if x.split("=", 1)[0] != k] + [f"{k}={v}"]
            return replace(c, env=e)
        return env
    if op == "LABEL":
        labels = _pairs(arg, "LABEL")
        return lambda c: replace(c, labels={**c.labels, **dict(labels)})
    if op == "EXPOSE":
        ports: dict[str, dict[str, Any]] = {}
        for p in arg.split():
            port, _, proto = p.partition("/")
            if not port.isdigit():
                raise InvalidArgumentError(f"invalid containerPort: {port}")
            ports[f"{port}/{proto or 'tcp'}"] = {}
        return lambda c: replace(c, exposed_ports={**c.exposed_ports, **ports})
    if op == "VOLUME":
        vols = _exec_form(arg) if arg.startswith("[") else arg.split()
        if vols[:2] == ["/bin/sh", "-c"]:
            vols = arg.split()
        return lambda c: replace(c, volumes={**c.volumes, **{v: {} for v in vols}})
    if op == "HEALTHCHECK":
        health = _healthcheck(text)
        return lambda c: replace(c, healthcheck=health)
    if op == "USER":
        return lambda c: replace(c, user=arg)
    if op == "WORKDIR":
        return lambda c: replace(c, working_dir=arg if arg.startswith("/") else "/" + arg)
    if op == "STOPSIGNAL":
        return lambda c: replace(c, stop_signal=arg)
    return lambda c: replace(c, on_build=[*c.on_build, arg])


def _healthcheck(line: str) -> HealthConfig:
    """HEALTHCHECK [--interval=... ...] CMD ... | NONE, read by the Dockerfile parser, as the builder records it."""
    from skiff.build.dockerfile.commands import HealthCheckCommand
    from skiff.build.dockerfile.errors import DockerfileError
    from skiff.build.dockerfile.handlers import parse_instruction
    from skiff.build.dockerfile.parser import node_from_line

    try:
        cmd = parse_instruction(node_from_line(line, "\\"), filename="--change")
    except DockerfileError as e:
        raise InvalidArgumentError(str(e)) from None
    assert isinstance(cmd, HealthCheckCommand)
    h = cmd.health
    if h.test and h.test[0] == "NONE":
        return HealthConfig(test=["NONE"])
    return HealthConfig(test=list(h.test), interval=h.interval or None, timeout=h.timeout or None,
                        start_period=h.start_period or None, start_interval=h.start_interval or None,
                        retries=h.retries or None)


def apply_changes(lines: list[str]) -> Edit:
    edits = [parse_change(line) for line in lines]

    def run(c: ContainerConfig) -> ContainerConfig:
        for e in edits:
            c = e(c)
        return c
    return run
