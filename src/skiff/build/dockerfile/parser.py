"""Dockerfile text -> AST: one :class:`Node` per instruction, with source lines, flags and heredocs.

This is BuildKit's ``frontend/dockerfile/parser`` (same line joining, directives, heredocs and raw
arguments), checked byte for byte against its parse dumps in ``shared/testdata/dockerfile-parser``.
No variable is expanded here and no instruction is validated beyond what BuildKit's parser rejects;
:mod:`skiff.build.dockerfile.instructions` types the nodes.
"""

from __future__ import annotations

import re

from skiff.build.dockerfile import splitters as sp
from skiff.build.dockerfile.errors import DockerfileError, ShellWordError
from skiff.build.dockerfile.lex import is_space
from skiff.records import dataclass, field, replace

MAX_LINE_BYTES = 65535
HEREDOC_KEYWORDS = frozenset({"add", "copy", "run"})
_DIRECTIVE_RE = re.compile(r"#[ \t]*([a-zA-Z][a-zA-Z0-9]*)[ \t]*=[ \t]*(.+?)[ \t]*\Z", re.DOTALL)
_LINE_RE = re.compile(r"[^\n]*\n|[^\n]+\Z")
_KNOWN_DIRECTIVES = frozenset({"escape", "syntax", "check"})
_CONTINUATION = {
    "\\": re.compile(r"([^\\])\\[ \t]*\Z|^\\[ \t]*\Z", re.DOTALL),
    "`": re.compile(r"([^`])`[ \t]*\Z|^`[ \t]*\Z", re.DOTALL),
}


@dataclass(frozen=True)
class Heredoc:
    """One heredoc body: ``name`` is the terminator; ``content`` keeps every line ending as written.

    ``expand`` is false when any part of the name was quoted; ``chomp`` (``<<-``) means leading
    tabs are to be removed from the body (done by the consumer, as in BuildKit).
    """

    name: str
    content: str
    expand: bool = True
    chomp: bool = False
    file_descriptor: int = 0


@dataclass(frozen=True)
class Directive:
    """A parser directive from the top of the file (``escape``, ``syntax``, ``check``)."""

    name: str
    value: str
    line: int


@dataclass(frozen=True)
class ParseWarning:
    """A problem that does not stop the parse (an empty continuation line)."""

    short: str
    detail: str
    url: str
    line: int


@dataclass(frozen=True)
class Node:
    """One instruction as written.

    ``keyword`` is lower-cased; ``args`` are BuildKit's raw argument nodes (for ENV/LABEL the
    ``key, value, delim`` triples; for HEALTHCHECK the type first); ``json`` is set for the exec
    (JSON array) form; ``trigger`` is ONBUILD's nested instruction; ``original`` is the joined
    line (continuations removed) as the source had it.
    """

    keyword: str
    original: str
    args: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    json: bool = False
    trigger: Node | None = None
    heredocs: tuple[Heredoc, ...] = ()
    start_line: int = 0
    end_line: int = 0
    comments: tuple[str, ...] = ()

    def dump(self) -> str:
        """This node as one line of BuildKit's parse dump, e.g. ``(copy ["--from=a"] "x" "y")``."""
        parts = [self.keyword]
        if self.flags:
            parts.append("[" + " ".join(sp.go_quote(f) for f in self.flags) + "]")
        parts.extend(sp.go_quote(a) for a in self.args)
        if self.trigger is not None:
            parts.append(self.trigger.dump())
        return "(" + " ".join(parts) + ")"


@dataclass(frozen=True)
class ParseResult:
    """A parsed Dockerfile."""

    nodes: tuple[Node, ...]
    directives: tuple[Directive, ...] = ()
    escape: str = "\\"
    warnings: tuple[ParseWarning, ...] = ()
    filename: str = "Dockerfile"
    start_line: int = 0
    end_line: int = 0
    text: str = field(default="", repr=False)

    def dump(self) -> str:
        """BuildKit's parse dump: one line per instruction, no final newline."""
        return "\n".join(node.dump() for node in self.nodes)

    def directive(self, name: str) -> str | None:
        """The value of a parser directive, or ``None``."""
        for d in self.directives:
            if d.name == name:
                return d.value
        return None

    def lines(self, start: int, end: int) -> str:
        """Physical lines ``start..end`` (1-based, inclusive) of the source."""
        return "\n".join(self.text.split("\n")[start - 1 : end])


def is_comment(line: str) -> bool:
    return sp.go_lstrip(line.rstrip("\r\n")).startswith("#")


class _Parser:
    def __init__(self, text: str, filename: str) -> None:
        self.filename = filename
        self.lines: list[str] = _LINE_RE.findall(text)
        self.pos = 0
        self.escape = "\\"
        self.directives: list[Directive] = []
        self.seen: set[str] = set()
        self.directives_done = False

    def error(self, what: str, start: int, end: int | None = None, source: str = "") -> DockerfileError:
        return DockerfileError(what, filename=self.filename, line=start, end_line=end, source_line=source)

    def next_line(self) -> str:
        """The next physical line with its line ending (heredoc bodies keep it byte for byte)."""
        line = self.lines[self.pos]
        self.pos += 1
        body = line.removesuffix("\n")
        if len(body) > MAX_LINE_BYTES // 4 and len(body.encode("utf-8", "surrogateescape")) > MAX_LINE_BYTES:
            raise self.error(f"dockerfile line greater than max allowed size of {MAX_LINE_BYTES}", self.pos)
        if self.pos == 1 and line.startswith("\ufeff"):
            line = line[1:]
        return line

    def directive(self, line: str) -> None:
        if self.directives_done:
            return
        match = _DIRECTIVE_RE.match(line)
        name = match.group(1).lower() if match else ""
        if match is None or name not in _KNOWN_DIRECTIVES:
            self.directives_done = True
            return
        if name in self.seen:
            raise self.error(f"only one {name} parser directive can be used", self.pos, source=line)
        self.seen.add(name)
        value = match.group(2)
        if name == "escape":
            if value not in ("\\", "`"):
                raise self.error(
                    f"invalid escape token '{value}' does not match ` or \\", self.pos, source=line
                )
            self.escape = value
        self.directives.append(Directive(name, value, self.pos))

    def process(self, raw: str, strip_left: bool) -> str:
        line = raw.rstrip("\r\n")
        if strip_left:
            line = sp.go_lstrip(line)
        self.directive(line)
        return "" if is_comment(line) else line

    def continuation(self, line: str) -> tuple[str, bool]:
        rx = _CONTINUATION[self.escape]
        if rx.search(line):
            return rx.sub(lambda m: m.group(1) or "", line, count=1), False
        return line, True

    def parse(self) -> tuple[list[Node], list[ParseWarning]]:
        nodes: list[Node] = []
        warnings: list[ParseWarning] = []
        comments: list[str] = []
        while self.pos < len(self.lines):
            raw = self.next_line()
            if is_comment(raw):
                text = sp.go_strip(sp.go_lstrip(raw.rstrip("\r\n"))[1:])
                comments = [*comments, text] if text else []
            line = self.process(raw, True)
            start = self.pos
            line, eol = self.continuation(line)
            if eol and line == "":
                continue
            empty_continuation = False
            while not eol and self.pos < len(self.lines):
                raw = self.next_line()
                cont = self.process(raw, False)
                if is_comment(raw):
                    continue
                if not sp.go_lstrip(cont):
                    empty_continuation = True
                    continue
                cont, eol = self.continuation(cont)
                line += cont
            if empty_continuation:
                warnings.append(
                    ParseWarning(
                        "Empty continuation line found in: " + line,
                        "Empty continuation lines will become errors in a future release",
                        "https://docs.docker.com/go/dockerfile/rule/no-empty-continuation/",
                        self.pos,
                    )
                )
            try:
                node = node_from_line(line, self.escape)
            except (sp.NotStringArray, ShellWordError, _NodeError) as err:
                raise self.error(str(err), start, self.pos, line) from None
            heredocs = self.read_heredocs(node, line, start)
            node = _with(node, heredocs, start, self.pos, tuple(comments))
            nodes.append(node)
            comments = []
        return nodes, warnings

    def read_heredocs(self, node: Node, line: str, start: int) -> tuple[Heredoc, ...]:
        target = node.trigger if node.keyword == "onbuild" and node.trigger is not None else node
        if target.keyword not in HEREDOC_KEYWORDS or target.json or "<<" not in line:
            return ()
        try:
            words = sp.heredocs_in_line(line)
        except ShellWordError as err:
            raise self.error(str(err), start, self.pos, line) from None
        docs = []
        for word in words:
            body: list[str] = []
            while self.pos < len(self.lines):
                text = self.next_line()
                candidate = text.rstrip("\r\n")
                if word.chomp:
                    candidate = candidate.lstrip("\t")
                if candidate == word.name:
                    break
                body.append(text)
            else:
                raise self.error("unterminated heredoc", start, self.pos, line)
            docs.append(Heredoc(word.name, "".join(body), word.expand, word.chomp, word.file_descriptor))
        return tuple(docs)


class _NodeError(ValueError):
    pass


def _with(node: Node, heredocs: tuple[Heredoc, ...], start: int, end: int, comments: tuple[str, ...]) -> Node:
    """``node`` placed at lines ``start..end``; ONBUILD's heredocs belong to its trigger."""
    if node.keyword == "onbuild" and node.trigger is not None:
        trigger = replace(node.trigger, heredocs=heredocs, start_line=start, end_line=end)
        return replace(node, trigger=trigger, start_line=start, end_line=end, comments=comments)
    return replace(node, heredocs=heredocs, start_line=start, end_line=end, comments=comments)


def node_from_line(line: str, escape: str) -> Node:
    """One joined instruction line -> a :class:`Node` (no line numbers, no heredoc bodies)."""
    keyword, flags, rest = sp.split_command(line, escape)
    kw = keyword.lower()
    args: list[str] = []
    is_json = False
    trigger = None
    if kw in ("from", "expose"):
        args = sp.WS_RE.split(rest) if rest else []
    elif kw in ("add", "copy", "volume"):
        found = sp.parse_json_array(rest)
        if found is not None:
            args, is_json = found, True
        elif rest:
            args = sp.WS_RE.split(rest)
    elif kw in ("run", "cmd", "entrypoint", "shell"):
        args, is_json = _maybe_json(rest)
    elif kw in ("maintainer", "user", "workdir", "stopsignal"):
        args = [rest] if rest else []
    elif kw == "arg":
        args = sp.parse_words(rest, escape)
    elif kw in ("env", "label"):
        args = _name_values(rest, kw.upper(), escape)
    elif kw == "healthcheck":
        args, is_json = _healthcheck(rest)
    elif kw == "onbuild":
        trigger = node_from_line(rest, escape) if rest else None
    else:
        args = [""]
    return Node(kw, line, tuple(args), tuple(flags), is_json, trigger)


def _maybe_json(rest: str) -> tuple[list[str], bool]:
    if not rest:
        return [], False
    found = sp.parse_json_array(rest)
    if found is not None:
        return found, True
    return [rest], False


def _healthcheck(rest: str) -> tuple[list[str], bool]:
    sep = 0
    while sep < len(rest) and not is_space(rest[sep]):
        sep += 1
    if sep == 0:
        return [], False
    nxt = sep
    while nxt < len(rest) and is_space(rest[nxt]):
        nxt += 1
    cmd, is_json = _maybe_json(rest[nxt:])
    return [rest[:sep], *cmd], is_json


def _name_values(rest: str, keyword: str, escape: str) -> list[str]:
    words = sp.parse_words(rest, escape)
    if not words:
        return []
    if "=" not in words[0]:
        parts = sp.WS_RE.split(rest, maxsplit=1)
        if len(parts) < 2:
            raise _NodeError(f"{keyword} must have two arguments")
        return [parts[0], parts[1], ""]
    out: list[str] = []
    for word in words:
        if "=" not in word:
            raise _NodeError(
                f"Syntax error - can't find = in {sp.go_quote(word)}. Must be of the form: name=value"
            )
        key, value = word.split("=", 1)
        out += [key, value, "="]
    return out


def parse(text: str | bytes, *, filename: str = "Dockerfile") -> ParseResult:
    """Parse a Dockerfile. Raises :class:`DockerfileError` (``FILE:LINE: what``) on bad input."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "surrogateescape")
    parser = _Parser(text, filename)
    nodes, warnings = parser.parse()
    if not nodes:
        raise DockerfileError("file with no instructions", filename=filename)
    return ParseResult(
        nodes=tuple(nodes),
        directives=tuple(parser.directives),
        escape=parser.escape,
        warnings=tuple(warnings),
        filename=filename,
        start_line=nodes[0].start_line,
        end_line=nodes[-1].end_line,
        text=text,
    )
