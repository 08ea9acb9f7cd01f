"""Dockerfile habit checks (``skiff check``, and build warnings).

Each check has a stable id that can be silenced with the ``# check=skip=ID1,ID2`` directive (or
``skip=all``) or with ``skip=`` of :func:`check_dockerfile`. Ids follow BuildKit's check names
where BuildKit has the same check (``JSONArgsRecommended``, ``SecretsUsedInArgOrEnv``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from skiff.build.dockerfile import instructions
from skiff.build.dockerfile.commands import (
    AddCommand,
    ArgCommand,
    CmdCommand,
    Command,
    CopyCommand,
    EntrypointCommand,
    EnvCommand,
    ExposeCommand,
    RunCommand,
    Stage,
    UserCommand,
)
from skiff.build.dockerfile.errors import DockerfileError
from skiff.build.dockerfile.lex import ShellLex
from skiff.build.dockerfile.parser import ParseResult
from skiff.records import dataclass

CHECKS = {
    "UnpinnedBaseImage": "base image without a tag or digest",
    "LatestBaseImage": "base image pinned to the moving 'latest' tag",
    "PipNoCacheDir": "pip install keeps its download cache in the image",
    "CopyBeforeDependencies": "whole source tree copied before dependencies are installed",
    "AptNoInstallRecommends": "apt-get install pulls in recommended packages",
    "AptListsNotCleaned": "apt package lists left in the image",
    "AddWhereCopyFits": "ADD used for a plain local file",
    "JSONArgsRecommended": "CMD/ENTRYPOINT in shell form",
    "RunsAsRoot": "final stage runs as root",
    "SecretsUsedInArgOrEnv": "secret-looking name in ARG/ENV",
    "MissingDockerignore": "large build context without a .dockerignore",
}
"""Every check id and what it is about."""

_SECRET_NAME = re.compile(
    r"(?i)(passw(or)?d|secret|token|api[_-]?key|private[_-]?key|access[_-]?key|credential)"
)
_PIP_INSTALL = re.compile(r"\b(pip3?(\.\d+)?|python3?(\.\d+)?\s+-m\s+pip)\s+install\b")
_APT_INSTALL = re.compile(r"\bapt(-get)?\s+(\S+\s+)*?install\b")
_DEPS_INSTALL = re.compile(
    r"\b(pip3?\s+install\s+(.*\s)?-r|pip3?\s+install\s+(-e\s+)?\.(\s|$)|poetry\s+install|pipenv\s+install|"
    r"uv\s+sync|npm\s+(ci|install)|yarn(\s+install)?(\s|$)|pnpm\s+install|bundle\s+install|"
    r"go\s+mod\s+download|composer\s+install|cargo\s+fetch)"
)
_ARCHIVE = re.compile(r"\.(tar|tar\.gz|tgz|tar\.bz2|tbz2?|tar\.xz|txz|tar\.zst|tzst|gz|bz2|xz|zst)$", re.I)
_REMOTE = re.compile(r"^([a-z][a-z0-9+.-]*://|git@)", re.I)
_ROOT_USERS = frozenset({"root", "0"})


@dataclass(frozen=True)
class Finding:
    """One habit problem: ``id`` (see :data:`CHECKS`), 1-based ``line`` (0 = whole build)."""

    id: str
    line: int
    message: str
    fix: str


def skipped_by_directive(result: ParseResult) -> set[str]:
    """Ids silenced by ``# check=skip=A,B`` (``{"all"}`` for ``skip=all``)."""
    value = result.directive("check") or ""
    out: set[str] = set()
    for part in value.split(";"):
        key, _, val = part.partition("=")
        if key.strip().lower() == "skip":
            out |= {v.strip() for v in val.split(",") if v.strip()}
    return out


def _stages_of(
    source: ParseResult | Sequence[Stage] | tuple[list[Stage], list[ArgCommand]],
) -> tuple[list[Stage], list[ArgCommand], set[str]]:
    if isinstance(source, ParseResult):
        stages, meta = instructions.parse(source)
        return stages, meta, skipped_by_directive(source)
    if isinstance(source, tuple) and len(source) == 2 and isinstance(source[0], list):
        return list(source[0]), list(source[1]), set()
    return [s for s in source if isinstance(s, Stage)], [], set()


def _script(cmd: RunCommand) -> str:
    parts = list(cmd.cmd_line or ())
    parts += [f.data for f in cmd.files]
    return "\n".join(parts)


def _arg_defaults(meta: Sequence[ArgCommand]) -> dict[str, str]:
    return {a.key: a.value for m in meta for a in m.args if a.value is not None}


def check_dockerfile(
    source: ParseResult | Sequence[Stage] | tuple[list[Stage], list[ArgCommand]],
    *,
    skip: Iterable[str] = (),
) -> list[Finding]:
    """All findings for a parsed Dockerfile (or its typed stages), sorted by line."""
    stages, meta, silenced = _stages_of(source)
    silenced |= set(skip)
    if "all" in silenced:
        return []
    findings: list[Finding] = []
    names = {s.name for s in stages if s.name}
    meta_env = _arg_defaults(meta)
    for stage in stages:
        findings += _base_image(stage, names, meta_env)
        findings += _stage_commands(stage)
    if stages:
        findings += _runs_as_root(stages, names)
    findings += _secrets(meta)
    return sorted((f for f in findings if f.id not in silenced), key=lambda f: (f.line, f.id))


def _base_image(stage: Stage, names: set[str], meta_env: dict[str, str]) -> list[Finding]:
    try:
        base = ShellLex().process_word(stage.base_name, meta_env)
    except DockerfileError:
        return []
    if base.lower() in names or base == "scratch" or not base:
        return []
    if "@" in base:
        return []
    last = base.rsplit("/", 1)[-1]
    if ":" not in last:
        return [
            Finding(
                "UnpinnedBaseImage",
                stage.line,
                f"base image {base!r} has no tag, so it means whatever 'latest' is at build time",
                f"pin a version tag or a digest, e.g. FROM {base}:<version> or FROM {base}@sha256:<digest>",
            )
        ]
    if last.rsplit(":", 1)[1] == "latest":
        return [
            Finding(
                "LatestBaseImage",
                stage.line,
                f"base image {base!r} uses the moving 'latest' tag; rebuilds may change silently",
                "pin a version tag or a digest instead of latest",
            )
        ]
    return []


def _stage_commands(stage: Stage) -> list[Finding]:
    out: list[Finding] = []
    whole_copy: CopyCommand | None = None
    pip_env = False
    for cmd in stage.commands:
        if isinstance(cmd, EnvCommand):
            pip_env |= any(p.key == "PIP_NO_CACHE_DIR" for p in cmd.env)
            out += _secret_pairs(cmd, [p.key for p in cmd.env])
        elif isinstance(cmd, ArgCommand):
            out += _secret_pairs(cmd, [a.key for a in cmd.args])
        elif isinstance(cmd, CopyCommand) and not cmd.from_ and any(s in (".", "./") for s in cmd.sources):
            whole_copy = whole_copy or cmd
        elif isinstance(cmd, AddCommand):
            out += _add(cmd)
        elif isinstance(cmd, CmdCommand | EntrypointCommand) and cmd.prepend_shell and cmd.cmd_line:
            out.append(
                Finding(
                    "JSONArgsRecommended",
                    cmd.line,
                    f"{cmd.keyword} in shell form runs under /bin/sh -c, which does not pass signals on to the program",
                    f'use the exec form: {cmd.keyword} ["executable", "arg1", ...]',
                )
            )
        elif isinstance(cmd, RunCommand):
            out += _run(cmd, pip_env, whole_copy)
    return out


def _run(cmd: RunCommand, pip_env: bool, whole_copy: CopyCommand | None) -> list[Finding]:
    out: list[Finding] = []
    script = _script(cmd)
    caches = [m.target for m in cmd.mounts if m.type == "cache"]
    if (
        _PIP_INSTALL.search(script)
        and "--no-cache-dir" not in script
        and not pip_env
        and not any("pip" in t or t.rstrip("/").endswith(".cache") for t in caches)
    ):
        out.append(
            Finding(
                "PipNoCacheDir",
                cmd.line,
                "pip install keeps downloaded wheels in ~/.cache/pip inside the layer",
                "add --no-cache-dir, or RUN --mount=type=cache,target=/root/.cache/pip pip install ...",
            )
        )
    if _APT_INSTALL.search(script):
        if "--no-install-recommends" not in script and "Install-Recommends=false" not in script:
            out.append(
                Finding(
                    "AptNoInstallRecommends",
                    cmd.line,
                    "apt-get install without --no-install-recommends adds packages you did not ask for",
                    "use apt-get install -y --no-install-recommends <packages>",
                )
            )
        if "/var/lib/apt/lists" not in script and not any(t.startswith("/var/lib/apt") for t in caches):
            out.append(
                Finding(
                    "AptListsNotCleaned",
                    cmd.line,
                    "apt package lists stay in the layer (tens of MB)",
                    "end the same RUN with && rm -rf /var/lib/apt/lists/*, or use a cache mount on /var/lib/apt",
                )
            )
    if whole_copy is not None and _DEPS_INSTALL.search(script):
        out.append(
            Finding(
                "CopyBeforeDependencies",
                whole_copy.line,
                f"the whole context is copied (line {whole_copy.line}) before dependencies are installed "
                f"(line {cmd.line}), so any source change re-installs them",
                "COPY the dependency manifests (requirements.txt, package*.json, ...) and install first, "
                "then COPY the rest",
            )
        )
    return out


def _add(cmd: AddCommand) -> list[Finding]:
    srcs = cmd.sources
    if not srcs and cmd.contents:
        local = True
    else:
        local = bool(srcs) and all(
            not _REMOTE.match(s) and not _ARCHIVE.search(s) and "$" not in s for s in srcs
        )
    if not local or cmd.checksum or cmd.keep_git_dir is not None:
        return []
    return [
        Finding(
            "AddWhereCopyFits",
            cmd.line,
            "ADD of local, non-archive files does what COPY does, with surprising extra behaviour",
            "use COPY; keep ADD for URLs, git sources and archives to unpack",
        )
    ]


def _secret_pairs(cmd: Command, keys: list[str]) -> list[Finding]:
    return [
        Finding(
            "SecretsUsedInArgOrEnv",
            cmd.line,
            f"{cmd.keyword} {key!r} looks like a secret; its value is stored in the image config and history",
            "pass secrets with RUN --mount=type=secret,id=... (skiff build --secret) instead",
        )
        for key in keys
        if _SECRET_NAME.search(key)
    ]


def _secrets(meta: Sequence[ArgCommand]) -> list[Finding]:
    out: list[Finding] = []
    for cmd in meta:
        out += _secret_pairs(cmd, [a.key for a in cmd.args])
    return out


def _stage_chain(stages: Sequence[Stage], target: Stage) -> list[Stage]:
    """``target`` and the stages it is built ``FROM``, base first."""
    by_name = {s.name: s for s in stages if s.name}
    chain = [target]
    while chain[0].base_name.lower() in by_name and by_name[chain[0].base_name.lower()] not in chain:
        chain.insert(0, by_name[chain[0].base_name.lower()])
    return chain


def _runs_as_root(stages: Sequence[Stage], names: set[str]) -> list[Finding]:
    final = stages[-1]
    users = [c for s in _stage_chain(stages, final) for c in s.commands if isinstance(c, UserCommand)]
    if users and users[-1].user.split(":")[0] not in _ROOT_USERS:
        return []
    where = users[-1].line if users else final.line
    what = "the last USER is root" if users else "no USER is set, so the image runs as root"
    return [
        Finding(
            "RunsAsRoot",
            where,
            f"final stage: {what}",
            "create an unprivileged user (e.g. RUN useradd -r app) and add USER app after installing",
        )
    ]


def exposed_ports(
    source: ParseResult | Sequence[Stage] | tuple[list[Stage], list[ArgCommand]],
    *,
    target: str | None = None,
) -> list[str]:
    """``port/proto`` EXPOSEd by the final stage (or ``target``), including stages it is built FROM.

    ``$VAR`` are expanded with ARG defaults and ENV values of the stage; ports of an external base
    image are not included (they are in that image's config).
    """
    stages, meta, _ = _stages_of(source)
    if not stages:
        return []
    chosen = stages[-1]
    if target is not None:
        chosen = next((s for s in stages if s.name == target.lower()), chosen)
    globals_ = _arg_defaults(meta)
    env: dict[str, str] = {}
    ports: list[str] = []
    for stage in _stage_chain(stages, chosen):
        for cmd in stage.commands:
            if isinstance(cmd, ArgCommand):
                for a in cmd.args:
                    value = a.value if a.value is not None else globals_.get(a.key)
                    if value is not None:
                        env[a.key] = _word(value, env)
            elif isinstance(cmd, EnvCommand):
                env |= {p.key: _word(p.value, env) for p in cmd.env}
            elif isinstance(cmd, ExposeCommand):
                for raw in cmd.ports:
                    for port in _words(raw, env):
                        spec = (port if "/" in port else port + "/tcp").lower()
                        if spec not in ports:
                            ports.append(spec)
    return ports


def _word(text: str, env: dict[str, str]) -> str:
    try:
        return ShellLex().process_word(text, env)
    except DockerfileError:
        return text


def _words(text: str, env: dict[str, str]) -> list[str]:
    try:
        return ShellLex().process_words(text, env)
    except DockerfileError:
        return [text]


def check_context(
    context_dir: str | os.PathLike[str],
    dockerfile: str | os.PathLike[str] | None = None,
    *,
    threshold_bytes: int = 50 * 1024 * 1024,
) -> list[Finding]:
    """``MissingDockerignore`` when the context has no ignore file and holds more than the threshold."""
    root = Path(context_dir)
    if (root / ".dockerignore").is_file():
        return []
    if dockerfile is not None and Path(str(dockerfile) + ".dockerignore").is_file():
        return []
    total = 0
    heavy = sorted(
        n for n in (".git", "node_modules", ".venv", "venv", "__pycache__", "target") if (root / n).is_dir()
    )
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            try:
                total += os.lstat(os.path.join(dirpath, name)).st_size
            except OSError:
                continue
        if total > threshold_bytes:
            break
    if total <= threshold_bytes:
        return []
    extra = f" (it holds {', '.join(heavy)})" if heavy else ""
    return [
        Finding(
            "MissingDockerignore",
            0,
            f"build context {str(root)!r} is larger than {threshold_bytes // (1024 * 1024)} MiB and has no "
            f".dockerignore{extra}; all of it is read for every build",
            "add a .dockerignore listing what the build does not need (.git, node_modules, .venv, build output)",
        )
    ]
