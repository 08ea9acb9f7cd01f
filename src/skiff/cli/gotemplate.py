"""Go's text/template, as Docker's --format uses it: lexer, parser and evaluator in one small module.

Supported: text and ``{{ }}`` actions with ``{{-``/``-}}`` trimming and ``{{/* comments */}}``; field paths on
dicts, dataclasses and objects (``.Config.Env``, ``$v.Name``, ``(index .X 0).Name``); variables (``$``,
``$x := ...``, ``$x = ...``); pipelines with ``|``; ``if``/``else if``/``else``, ``with``/``else``, ``range``
(``$v :=``, ``$k, $v :=``, ``else``, ``break``, ``continue``); Go's builtins (and or not len index slice
print printf println eq ne lt le gt ge) and Docker's (json split join title lower upper pad truncate).
Values print the way Go's fmt does (``map[k:v]``, ``[a b]``, ``<no value>``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, NoReturn

from skiff.errors import SkiffError
from skiff.records import dataclass, field


class TemplateError(SkiffError):
    """A template that does not parse, or fails while running (names the template and the problem)."""


# ---- lexer -----------------------------------------------------------------------------------------
_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<str>"(?:[^"\\\n]|\\.)*")
  | (?P<raw>`[^`]*`)
  | (?P<char>'(?:[^'\\]|\\.)+')
  | (?P<num>[-+]?(?:0[xX][0-9a-fA-F]+|\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?))
  | (?P<field>(?:\.[A-Za-z_][A-Za-z0-9_]*)+)
  | (?P<dot>\.)
  | (?P<var>\$[A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>:=|=|\||\(|\)|,)
""", re.X)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "'": "'", "a": "\a", "b": "\b",
            "f": "\f", "v": "\v", "0": "\0"}


def _unquote(text: str) -> str:
    def sub(m: re.Match[str]) -> str:
        s = m.group(1)
        if s[0] in "xuU":
            return chr(int(s[1:], 16))
        return _ESCAPES.get(s, "\\" + s)
    return re.sub(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)", sub, text[1:-1])


@dataclass
class Tok:
    """One token of an action: its kind (the name of the ``_TOKEN`` group that matched) and its text."""

    kind: str
    text: str
    pos: int = 0  # offset in the source, for Go's line:column in errors


# ---- tree ------------------------------------------------------------------------------------------
@dataclass
class Operand:
    """One argument of a command (literal, ``.``, field, variable, function, sub-pipeline) and its fields."""

    kind: str  # field dot var str num bool nil ident pipe
    value: Any = None
    fields: list[str] = field(default_factory=list)
    pos: int = 0  # Go's node position: for a chain of fields, where its second element starts
    text: str = ""  # the source text, which Go's errors quote (``at <.State.Bogus>``)


@dataclass
class Pipeline:
    """A pipeline: its commands (joined by ``|``) and the variables it declares (``:=``) or sets (``=``)."""

    commands: list[list[Operand]]
    decl: list[str] = field(default_factory=list)
    assign: bool = False  # '=' instead of ':='


@dataclass
class Node:
    """A tree node: text, an action, ``break``/``continue``, or ``if``/``with``/``range`` (with ``else``)."""

    kind: str  # text action if range with break continue
    text: str = ""
    pipe: Pipeline | None = None
    body: list[Node] = field(default_factory=list)
    orelse: list[Node] = field(default_factory=list)
    line: int = 1


class Template:
    """A parsed template; :meth:`execute` renders it against data."""

    def __init__(self, source: str, funcs: dict[str, Callable[..., Any]] | None = None, *,
                 missingkey: str = "default") -> None:
        """``missingkey`` is Go's ``Option("missingkey=...")``: "default" prints a plain dict's missing key as
        ``<no value>``, "error" fails with ``map has no entry for key "K"`` (Docker's inspect). A
        :class:`~skiff.cli.gotemplate_funcs.GoStruct` (a Go struct, e.g. ps's ContainerContext) fails on a
        missing field whatever this option says."""
        from skiff.cli import gotemplate_funcs

        if missingkey not in ("default", "error"):
            raise ValueError(f"missingkey={missingkey}: want default or error")
        self.missingkey = missingkey
        self.source = source
        self.funcs = dict(gotemplate_funcs.FUNCS)
        if funcs:
            self.funcs.update(funcs)
        self._items = self._scan(source)
        self._pos = 0
        self.root = self._parse_top()

    def _fail(self, line: int, problem: str) -> NoReturn:
        raise TemplateError(f"template parsing error: template: :{line}: {problem} (in {self.source!r})")

    # ---- scanning: text and actions ---------------------------------------------------------------
    def _scan(self, src: str) -> list[tuple[str, Any, int]]:
        items: list[tuple[str, Any, int]] = []
        pos = 0
        while True:
            start = src.find("{{", pos)
            if start < 0:
                items.append(("text", src[pos:], src.count("\n", 0, pos) + 1))
                return items
            text = src[pos:start]
            line = src.count("\n", 0, start) + 1
            i = start + 2
            if src.startswith("-", i) and i + 1 < len(src) and src[i + 1] in " \t\r\n":
                text = text.rstrip(" \t\r\n")
                i += 1
            items.append(("text", text, line))
            if src[i:i + 3].lstrip().startswith("/*"):
                close = src.find("*/", i)
                end = src.find("}}", close if close >= 0 else i)
                if close < 0 or end < 0:
                    self._fail(line, "unclosed comment")
                pos = end + 2
                if src[close + 2:end].strip() == "-":
                    pos = self._trim_after(src, pos)
                continue
            toks: list[Tok] = []
            while True:
                if i >= len(src):
                    self._fail(line, "unclosed action")
                if src.startswith("}}", i):
                    pos = i + 2
                    break
                if src.startswith("-}}", i) and src[i - 1] in " \t\r\n":
                    pos = self._trim_after(src, i + 3)
                    break
                m = _TOKEN.match(src, i)
                if m is None or m.end() == i:
                    self._fail(line, f"unexpected {src[i]!r} in command")
                kind = m.lastgroup or ""
                if kind != "ws":
                    toks.append(Tok(kind, m.group(), i))
                i = m.end()
            if not toks:
                self._fail(line, "missing value for command")
            items.append(("action", toks, line))

    @staticmethod
    def _trim_after(src: str, pos: int) -> int:
        while pos < len(src) and src[pos] in " \t\r\n":
            pos += 1
        return pos

    # ---- parsing ----------------------------------------------------------------------------------
    def _parse_top(self) -> list[Node]:
        nodes: list[Node] = []
        while self._pos < len(self._items):
            kind, payload, line = self._items[self._pos]
            if kind == "action" and payload[0].kind == "ident" and payload[0].text in ("end", "else"):
                self._fail(line, f"unexpected {{{{{payload[0].text}}}}}")
            nodes.extend(self._parse_one())
        return nodes

    def _block(self, kind: str, toks: list[Tok], line: int) -> Node:
        if not toks:
            self._fail(line, f"missing value for {kind}")
        node = Node(kind, pipe=self._pipeline(toks, line, decl_ok=True, rng=kind == "range"), line=line)
        node.body, end = self._parse_until(line)
        if end[0] == "else":
            rest = end[1]
            if rest and rest[0].kind == "ident" and rest[0].text in ("if", "with"):
                # `else if` / `else with`: a nested block that consumes the shared {{end}}
                node.orelse = [self._block(rest[0].text, rest[1:], end[2])]
            elif rest:
                self._fail(end[2], f"unexpected {rest[0].text!r} after {{{{else}}}}")
            else:
                node.orelse, end2 = self._parse_until(line)
                if end2[0] != "end":
                    self._fail(end2[2], "expected end; found {{else}}")
        return node

    def _parse_until(self, line: int) -> tuple[list[Node], tuple[str, list[Tok], int]]:
        nodes: list[Node] = []
        while self._pos < len(self._items):
            kind, payload, ln = self._items[self._pos]
            if kind == "action" and payload[0].kind == "ident" and payload[0].text in ("end", "else"):
                self._pos += 1
                if payload[0].text == "end" and len(payload) > 1:
                    self._fail(ln, "unexpected arguments after {{end}}")
                return nodes, (payload[0].text, payload[1:], ln)
            nodes.extend(self._parse_one())
        self._fail(line, "unexpected EOF")

    def _parse_one(self) -> list[Node]:
        kind, payload, line = self._items[self._pos]
        self._pos += 1
        if kind == "text":
            return [Node("text", text=payload, line=line)] if payload else []
        toks: list[Tok] = payload
        head = toks[0].text if toks[0].kind == "ident" else ""
        if head in ("if", "with", "range"):
            return [self._block(head, toks[1:], line)]
        if head in ("break", "continue"):
            return [Node(head, line=line)]
        if head in ("define", "template", "block"):
            self._fail(line, f"{{{{{head}}}}} is not supported")
        return [Node("action", pipe=self._pipeline(toks, line, decl_ok=True), line=line)]

    def _pipeline(self, toks: list[Tok], line: int, *, decl_ok: bool = False, rng: bool = False) -> Pipeline:
        decl: list[str] = []
        assign = False
        for i, t in enumerate(toks):
            if t.kind == "op" and t.text in (":=", "="):
                names = [x for x in toks[:i] if not (x.kind == "op" and x.text == ",")]
                if not decl_ok or not names or any(x.kind != "var" or "." in x.text for x in names) \
                        or len(names) > (2 if rng else 1):
                    self._fail(line, "too many declarations in command" if len(names) > 1 else
                               f"unexpected {t.text!r} in command")
                decl = [x.text for x in names]
                assign = t.text == "="
                toks = toks[i + 1:]
                break
            if not (t.kind == "var" or (t.kind == "op" and t.text == ",")):
                break
        pipe, rest = self._commands(toks, 0, line)
        if rest < len(toks):
            self._fail(line, f"unexpected {toks[rest].text!r} in command")
        pipe.decl, pipe.assign = decl, assign
        return pipe

    def _commands(self, toks: list[Tok], i: int, line: int) -> tuple[Pipeline, int]:
        cmds: list[list[Operand]] = []
        cur: list[Operand] = []
        while i < len(toks):
            t = toks[i]
            if t.kind == "op" and t.text == ")":
                break
            if t.kind == "op" and t.text == "|":
                if not cur:
                    self._fail(line, "missing command before '|'")
                cmds.append(cur)
                cur = []
                i += 1
                continue
            op, i = self._operand(toks, i, line)
            cur.append(op)
        if not cur:
            self._fail(line, "missing value for command")
        cmds.append(cur)
        for c in cmds[1:]:
            if c[0].kind not in ("ident", "field", "var"):
                self._fail(line, "non executable command in pipeline stage")
        return Pipeline(cmds), i

    def _operand(self, toks: list[Tok], i: int, line: int) -> tuple[Operand, int]:
        t = toks[i]
        k = t.kind
        if k == "op" and t.text == "(":
            pipe, j = self._commands(toks, i + 1, line)
            if j >= len(toks) or toks[j].text != ")":
                self._fail(line, "unclosed left paren")
            op = Operand("pipe", pipe, pos=t.pos,
                         text="(" + " ".join(x.text for c in pipe.commands for x in c) + ")")
            j += 1
            if j < len(toks) and toks[j].kind == "field":
                op.fields = toks[j].text[1:].split(".")
                op.pos = toks[j].pos
                op.text += toks[j].text
                j += 1
            return op, j
        if k == "field":
            fields = t.text[1:].split(".")
            pos = t.pos + 1 + len(fields[0]) if len(fields) > 1 else t.pos
            return Operand("field", fields=fields, pos=pos, text=t.text), i + 1
        if k == "dot":
            return Operand("dot", pos=t.pos, text="."), i + 1
        if k == "var":
            name, *fields = t.text.split(".")
            return Operand("var", name, fields, pos=t.pos + len(name) if fields else t.pos, text=t.text), i + 1
        if k in ("str", "raw"):
            return Operand("str", _unquote(t.text) if k == "str" else t.text[1:-1], pos=t.pos, text=t.text), i + 1
        if k == "char":
            return Operand("num", ord(_unquote(t.text)), pos=t.pos, text=t.text), i + 1
        if k == "num":
            text = t.text
            try:
                value: Any = int(text, 0)
            except ValueError:
                value = float(text)
            return Operand("num", value, pos=t.pos, text=text), i + 1
        if k == "ident":
            if t.text in ("true", "false"):
                return Operand("bool", t.text == "true", pos=t.pos, text=t.text), i + 1
            if t.text == "nil":
                return Operand("nil", pos=t.pos, text=t.text), i + 1
            if t.text in ("if", "else", "end", "range", "with", "define", "template", "block"):
                self._fail(line, f"unexpected <{t.text}> in command")
            if t.text not in self.funcs:
                self._fail(line, f'function "{t.text}" not defined')
            return Operand("ident", t.text, pos=t.pos, text=t.text), i + 1
        self._fail(line, f"unexpected {t.text!r} in operand")

    def execute(self, data: Any) -> str:
        """Render against ``data`` (dicts, lists, dataclasses, objects); errors are TemplateError."""
        from skiff.cli.gotemplate_exec import Executor

        return Executor(self).execute(data)


def parse(source: str, funcs: dict[str, Callable[..., Any]] | None = None, *,
          missingkey: str = "default") -> Template:
    return Template(source, funcs, missingkey=missingkey)
