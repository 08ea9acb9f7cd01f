"""Variable substitution per instruction, following Docker's rules.

Docker expands ``$VAR`` in ADD, ARG, COPY, ENV, EXPOSE, FROM (global ARGs only), LABEL,
STOPSIGNAL, USER, VOLUME, WORKDIR and in ``RUN --mount`` values; it leaves RUN, CMD,
ENTRYPOINT, SHELL, HEALTHCHECK, MAINTAINER and ONBUILD text alone (the shell, or the later
build that runs the trigger, expands those). Each value is one word (``process_word``, quotes
removed) except EXPOSE, whose values are split into words.
"""

from __future__ import annotations

from collections.abc import Mapping

from skiff.build.dockerfile import flags as fl
from skiff.build.dockerfile.commands import (
    AddCommand,
    ArgCommand,
    ArgDef,
    Command,
    CopyCommand,
    EnvCommand,
    ExposeCommand,
    InlineFile,
    KeyValuePair,
    LabelCommand,
    RunCommand,
    Stage,
    StopSignalCommand,
    UserCommand,
    VolumeCommand,
    WorkdirCommand,
)
from skiff.build.dockerfile.errors import DockerfileError, ShellWordError
from skiff.build.dockerfile.lex import ShellLex, WordResult
from skiff.records import dataclass, replace

EXPANDED = frozenset(
    {"ADD", "ARG", "COPY", "ENV", "EXPOSE", "FROM", "LABEL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR", "RUN"}
)
"""Keywords whose values :func:`expand` substitutes (for RUN only the ``--mount`` values)."""


@dataclass(frozen=True)
class Expansion:
    """An expanded command and the variable names it looked up (set and not set in ``env``)."""

    command: Command
    matched: frozenset[str]
    unmatched: frozenset[str]

    @property
    def used(self) -> frozenset[str]:
        return self.matched | self.unmatched


class _Expander:
    def __init__(self, cmd: Command, env: Mapping[str, str], escape: str) -> None:
        self.cmd = cmd
        self.env = env
        self.lex = ShellLex(escape)
        self.heredoc_lex = ShellLex("\\", skip_process_quotes=True)  # always \, as BuildKit
        self.matched: set[str] = set()
        self.unmatched: set[str] = set()

    def _run(self, lex: ShellLex, text: str) -> WordResult:
        try:
            res = lex.process(text, self.env)
        except ShellWordError as err:
            raise DockerfileError(
                err.what,
                filename=self.cmd.filename,
                line=self.cmd.line,
                end_line=self.cmd.end_line,
                source_line=self.cmd.original,
            ) from None
        self.matched |= res.matched
        self.unmatched |= res.unmatched
        return res

    def word(self, text: str) -> str:
        return self._run(self.lex, text).result if text else text

    def words(self, text: str) -> list[str]:
        return self._run(self.lex, text).words

    def all(self, texts: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(self.word(t) for t in texts)

    def content(self, files: tuple[InlineFile, ...]) -> tuple[InlineFile, ...]:
        return tuple(
            replace(f, data=self._run(self.heredoc_lex, f.data).result) if f.expand else f for f in files
        )

    def pairs(self, pairs: tuple[KeyValuePair, ...]) -> tuple[KeyValuePair, ...]:
        return tuple(KeyValuePair(self.word(p.key), self.word(p.value), p.no_delim) for p in pairs)


def expand_word(word: str, env: Mapping[str, str], *, escape: str = "\\") -> WordResult:
    """One word with Docker's rules (quotes removed, variables substituted)."""
    return ShellLex(escape).process(word, env)


def expand(cmd: Command, env: Mapping[str, str], *, escape: str = "\\") -> Expansion:
    """A copy of ``cmd`` with variables substituted where Docker substitutes them.

    ``env`` is what the instruction sees (build args declared so far plus ENV of the stage; for a
    :class:`Stage`, the global ARGs); ``escape`` is the Dockerfile's escape character. Raises
    :class:`DockerfileError` at the command's line for a bad ``${...}``.
    """
    ex = _Expander(cmd, env, escape)
    out: Command = cmd
    if isinstance(cmd, EnvCommand):
        out = replace(cmd, env=ex.pairs(cmd.env))
    elif isinstance(cmd, LabelCommand):
        out = replace(cmd, labels=ex.pairs(cmd.labels))
    elif isinstance(cmd, ArgCommand):
        out = replace(
            cmd,
            args=tuple(
                ArgDef(ex.word(a.key), None if a.value is None else ex.word(a.value)) for a in cmd.args
            ),
        )
    elif isinstance(cmd, CopyCommand):
        out = replace(
            cmd,
            sources=ex.all(cmd.sources),
            dest=ex.word(cmd.dest),
            contents=ex.content(cmd.contents),
            from_=ex.word(cmd.from_),
            chown=ex.word(cmd.chown),
            chmod=ex.word(cmd.chmod),
            excludes=ex.all(cmd.excludes),
        )
    elif isinstance(cmd, AddCommand):
        out = replace(
            cmd,
            sources=ex.all(cmd.sources),
            dest=ex.word(cmd.dest),
            contents=ex.content(cmd.contents),
            chown=ex.word(cmd.chown),
            chmod=ex.word(cmd.chmod),
            checksum=ex.word(cmd.checksum),
            excludes=ex.all(cmd.excludes),
        )
    elif isinstance(cmd, ExposeCommand):
        out = replace(cmd, ports=tuple(w for p in cmd.ports for w in ex.words(p)))
    elif isinstance(cmd, VolumeCommand):
        out = replace(cmd, volumes=ex.all(cmd.volumes))
    elif isinstance(cmd, WorkdirCommand):
        out = replace(cmd, path=ex.word(cmd.path))
    elif isinstance(cmd, UserCommand):
        out = replace(cmd, user=ex.word(cmd.user))
    elif isinstance(cmd, StopSignalCommand):
        out = replace(cmd, signal=ex.word(cmd.signal))
    elif isinstance(cmd, Stage):
        out = replace(cmd, base_name=ex.word(cmd.base_name), platform=ex.word(cmd.platform))
    elif isinstance(cmd, RunCommand) and cmd.mounts:
        try:
            mounts = tuple(fl.parse_mount(m.spec, ex.word) for m in cmd.mounts)
        except fl.FlagError as err:
            raise DockerfileError(
                str(err),
                filename=cmd.filename,
                line=cmd.line,
                end_line=cmd.end_line,
                source_line=cmd.original,
            ) from None
        out = replace(cmd, mounts=mounts)
    _checked_values(out)
    return Expansion(out, frozenset(ex.matched), frozenset(ex.unmatched))


def _checked_values(cmd: Command) -> None:
    """Re-check values that may only be valid or invalid once variables are substituted."""
    try:
        if isinstance(cmd, CopyCommand | AddCommand):
            fl.check_chmod(cmd.chmod)
        if isinstance(cmd, AddCommand):
            fl.check_checksum(cmd.checksum)
        if isinstance(cmd, StopSignalCommand):
            fl.check_signal(cmd.signal)
        if isinstance(cmd, ExposeCommand):
            for port in cmd.ports:
                fl.check_port(port)
    except fl.FlagError as err:
        raise DockerfileError(
            str(err), filename=cmd.filename, line=cmd.line, end_line=cmd.end_line, source_line=cmd.original
        ) from None
