"""The instructions that change only the image config (ENV, LABEL, EXPOSE, USER, CMD, ...), and the history
``created_by`` strings exactly as BuildKit records them (Go's ``%v``/``%q`` formatting of its values)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from skiff.build.dockerfile import commands as c
from skiff.build.dockerfile.errors import DockerfileError
from skiff.build.dockerfile.expand import expand
from skiff.build.dockerfile.splitters import go_quote
from skiff.errors import SkiffError
from skiff.oci import image as oci
from skiff.records import replace

if TYPE_CHECKING:
    from skiff.build.builder.executor import Builder
    from skiff.build.builder.state import StageState

EXPANDED = {"ENV", "LABEL", "EXPOSE", "USER", "VOLUME", "WORKDIR", "STOPSIGNAL"}


def go_q_list(items: list[str] | tuple[str, ...]) -> str:
    """Go's ``%q`` of a ``[]string``: ``["python" "app.py"]``."""
    return "[" + " ".join(go_quote(a) for a in items) + "]"


def go_v_list(items: list[str] | tuple[str, ...]) -> str:
    """Go's ``%v`` of a ``[]string``: ``[/bin/sh -c]``."""
    return "[" + " ".join(items) + "]"


def go_duration(ns: int) -> str:
    """Go's ``time.Duration.String()``: ``0s``, ``1.5s``, ``5m0s``, ``1h0m0s``, ``250ms``."""
    if ns == 0:
        return "0s"
    sign, u = ("-" if ns < 0 else ""), abs(ns)

    def frac(v: int, digits: int) -> str:
        whole, rest = divmod(v, 10 ** digits)
        tail = f"{rest:0{digits}d}".rstrip("0")
        return f"{whole}.{tail}" if tail else str(whole)

    if u < 1000:
        return f"{sign}{u}ns"
    if u < 1_000_000:
        return f"{sign}{frac(u, 3)}µs"
    if u < 1_000_000_000:
        return f"{sign}{frac(u, 6)}ms"
    secs, nano = divmod(u, 1_000_000_000)
    h, rem = divmod(secs, 3600)
    m, s = divmod(rem, 60)
    out = f"{h}h" if h else ""
    if h or m:
        out += f"{m}m"
    return sign + out + frac(s * 1_000_000_000 + nano, 9) + "s"


def _go_rune(n: int) -> str:
    """Go's ``%q`` of an int (a quoted rune: ``'\\x03'``)."""
    if 0x20 <= n < 0x7F and n not in (0x27, 0x5C):
        return f"'{chr(n)}'"
    if n < 0x100:
        return f"'\\x{n:02x}'"
    return f"'\\u{n:04x}'"


def healthcheck_string(h: oci.HealthConfig) -> str:
    """BuildKit's ``HEALTHCHECK %q`` of its HealthConfig struct pointer."""
    durs = [go_quote(go_duration(v or 0)) for v in (h.interval, h.timeout, h.start_period, h.start_interval)]
    return "HEALTHCHECK &{" + " ".join([go_q_list(list(h.test or [])), *durs, _go_rune(h.retries or 0)]) + "}"


def apply(b: Builder, state: StageState, cmd: c.Command) -> None:
    """Apply one config-only instruction to the stage and record its (empty-layer) history entry."""
    from skiff.build.builder.layers import ensure_dir

    env = state.expansion_env()
    ex = expand(cmd, env, escape=b.escape).command if cmd.keyword.upper() in EXPANDED else cmd
    cc = state.config.config
    created_by = ex.original.strip()
    if isinstance(ex, c.EnvCommand):
        state.set_env([(p.key, p.value) for p in ex.env])
        created_by = "ENV " + " ".join(f"{p.key}={p.value}" for p in ex.env)
    elif isinstance(ex, c.LabelCommand):
        state.config = state.config.with_config(labels={**cc.labels, **{p.key: p.value for p in ex.labels}})
        created_by = "LABEL " + " ".join(f"{p.key}={p.value}" for p in ex.labels)
    elif isinstance(ex, c.MaintainerCommand):
        state.config = replace(state.config, author=ex.maintainer)
        created_by = f"MAINTAINER {ex.maintainer}"
    elif isinstance(ex, c.ExposeCommand):
        ports = dict(cc.exposed_ports)
        mine: set[str] = set()
        for p in ex.ports:
            for spec in _expand_port(p, cmd):
                ports[spec] = {}
                mine.add(spec)
        state.config = state.config.with_config(exposed_ports=ports)
        created_by = "EXPOSE map[" + " ".join(f"{k}:{{}}" for k in sorted(mine)) + "]"
    elif isinstance(ex, c.UserCommand):
        state.config = state.config.with_config(user=ex.user)
        created_by = f"USER {ex.user}"
    elif isinstance(ex, c.VolumeCommand):
        if any(not v for v in ex.volumes):
            raise SkiffError(f"{cmd.location}: VOLUME specified can not be an empty string", exit_code=1)
        state.config = state.config.with_config(volumes={**cc.volumes, **{v: {} for v in ex.volumes}})
        created_by = "VOLUME " + go_v_list(ex.volumes)
    elif isinstance(ex, c.WorkdirCommand):
        path = ex.path if ex.path.startswith("/") else os.path.join(cc.working_dir or "/", ex.path)
        path = os.path.normpath(path)
        path = "/" + path.lstrip("/")
        state.config = state.config.with_config(working_dir=path)
        created_by = f"WORKDIR {path}"
        if path != "/" and ensure_dir(b, state, path):
            state.add_history(b.created, created_by, empty=False)
            return
    elif isinstance(ex, c.StopSignalCommand):
        state.config = state.config.with_config(stop_signal=ex.signal)
        created_by = f"STOPSIGNAL {ex.signal}"
    elif isinstance(ex, c.ShellCommand):
        state.config = state.config.with_config(shell=list(ex.shell))
        created_by = "SHELL " + go_v_list(ex.shell)
    elif isinstance(ex, (c.CmdCommand, c.EntrypointCommand)):
        args = list(ex.cmd_line or ())
        if ex.prepend_shell:
            args = [*state.shell(), " ".join(args)]
        if isinstance(ex, c.CmdCommand):
            state.config = state.config.with_config(cmd=args)
            state.inherited_cmd = False
            created_by = "CMD " + go_q_list(args)
        else:
            changes: dict[str, object] = {"entrypoint": args}
            if state.inherited_cmd:  # ENTRYPOINT drops a CMD this stage did not set (BuildKit's cmdSet)
                changes["cmd"] = None
            state.config = state.config.with_config(**changes)
            created_by = "ENTRYPOINT " + go_q_list(args)
    elif isinstance(ex, c.HealthCheckCommand):
        h = ex.health
        if h.test and h.test[0] == "NONE":
            hc = oci.HealthConfig(test=["NONE"])
        else:
            hc = oci.HealthConfig(test=list(h.test), interval=h.interval or None, timeout=h.timeout or None,
                                  start_period=h.start_period or None,
                                  start_interval=h.start_interval or None, retries=h.retries or None)
        state.config = state.config.with_config(healthcheck=hc)
        created_by = healthcheck_string(hc)
    elif isinstance(ex, c.OnbuildCommand):
        state.config = state.config.with_config(on_build=[*cc.on_build, ex.expression])
        created_by = f"ONBUILD {ex.expression}"
    else:
        raise SkiffError(f"{cmd.location}: {cmd.keyword.upper()} is not supported", exit_code=1)
    state.add_history(b.created, created_by, empty=True)


def _expand_port(spec: str, cmd: c.Command) -> list[str]:
    port, _, proto = spec.partition("/")
    proto = (proto or "tcp").lower()
    if proto not in ("tcp", "udp", "sctp"):
        raise DockerfileError(f"invalid proto: {proto}", filename=cmd.filename, line=cmd.line,
                              source_line=cmd.original)
    lo, _, hi = port.partition("-")
    try:
        a, b = int(lo), int(hi or lo)
    except ValueError:
        raise DockerfileError(f"invalid containerPort: {port}", filename=cmd.filename, line=cmd.line,
                              source_line=cmd.original) from None
    if not (0 < a <= b <= 65535):
        raise DockerfileError(f"invalid port range: {port}", filename=cmd.filename, line=cmd.line,
                              source_line=cmd.original)
    return [f"{p}/{proto}" for p in range(a, b + 1)]
