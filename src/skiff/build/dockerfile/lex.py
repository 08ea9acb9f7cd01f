"""Dockerfile words: quotes, the escape character and ``$VAR`` substitution.

The rules are BuildKit's ``frontend/dockerfile/shell`` lexer (facts read from its ``lex.go`` and its
``envVarTest``/``wordsTest`` tables), which is a small subset of POSIX sh:

- ``'...'`` keeps everything literally (the escape character too); ``"..."`` expands ``$`` and lets
  the escape character escape only ``"``, ``$`` and itself; outside quotes the escape character makes
  the next character literal, and a trailing one is dropped;
- ``$name``, ``${name}``, ``${name:-word}``, ``${name-word}``, ``${name:+word}``, ``${name+word}``,
  ``${name:?msg}``, ``${name?msg}``, ``${name#pat}``, ``${name##pat}``, ``${name%pat}``,
  ``${name%%pat}``, ``${name/pat/repl}``, ``${name//pat/repl}``; an unset name expands to ``""``;
- ``process_words`` also splits the result into words on white space (quoted parts never split).

:class:`WordResult` records which variables a word looked up (``matched``: set in the environment,
``unmatched``: not set), which the builder needs for "build args actually used" in cache keys.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

from skiff.build.dockerfile.errors import ShellWordError
from skiff.records import dataclass, field

_GO_SPACES = frozenset("\t\n\v\f\r \x85\xa0")
_SPECIAL_PARAMS = frozenset("@*#?-$!0")


def is_space(ch: str) -> bool:
    """Go's ``unicode.IsSpace`` (Python's ``str.isspace`` also accepts U+001C..U+001F)."""
    return ch in _GO_SPACES or (ch > "\xff" and unicodedata.category(ch) in ("Zs", "Zl", "Zp"))


@dataclass
class WordResult:
    """What one word became: its text, its words, and the variables it looked up."""

    result: str
    words: list[str]
    matched: set[str] = field(default_factory=set)
    unmatched: set[str] = field(default_factory=set)


class _Words:
    """Splits expanded text into words the way BuildKit does (quoted text never splits)."""

    def __init__(self) -> None:
        self.word = ""
        self.words: list[str] = []
        self.in_word = False

    def add_char(self, ch: str) -> None:
        if is_space(ch):
            if self.in_word and self.word:
                self.words.append(self.word)
                self.word = ""
                self.in_word = False
        else:
            self.add_raw(ch)

    def add_raw(self, text: str) -> None:
        self.word += text
        self.in_word = True

    def add_string(self, text: str) -> None:
        for ch in text:
            self.add_char(ch)

    def finish(self) -> list[str]:
        if self.word:
            self.words.append(self.word)
            self.word = ""
            self.in_word = False
        return self.words


class ShellLex:
    """A word lexer for one escape character (``\\`` or a backtick, see the ``escape`` directive).

    ``raw_quotes`` keeps quote characters in the output, ``raw_escapes`` keeps escape characters,
    ``skip_unset_env`` leaves references to unset variables as written, ``skip_process_quotes``
    treats quotes as ordinary characters (only ``$`` is special; used for heredoc bodies).
    """

    def __init__(
        self,
        escape: str = "\\",
        *,
        raw_quotes: bool = False,
        raw_escapes: bool = False,
        skip_unset_env: bool = False,
        skip_process_quotes: bool = False,
    ) -> None:
        if escape not in ("\\", "`"):
            raise ValueError(f"invalid escape token {escape!r}")
        self.escape = escape
        self.raw_quotes = raw_quotes
        self.raw_escapes = raw_escapes
        self.skip_unset_env = skip_unset_env
        self.skip_process_quotes = skip_process_quotes

    def process_word(self, word: str, env: Mapping[str, str]) -> str:
        """Expand one word (quotes removed, variables substituted) without splitting it."""
        return self.process(word, env).result

    def process_words(self, word: str, env: Mapping[str, str]) -> list[str]:
        """Expand and split into words on unquoted white space."""
        return self.process(word, env).words

    def process(self, word: str, env: Mapping[str, str]) -> WordResult:
        """Expand ``word`` and report the words and the variables looked up."""
        state = _Scan(self, word, env)
        try:
            text, words = state.stop_on(None, self.raw_escapes)
        except ShellWordError as err:
            quoted = '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'
            raise ShellWordError(f"failed to process {quoted}: {err.what}") from None
        return WordResult(text, words, state.matched, state.unmatched)


class _Scan:
    """One pass over one word (the state of BuildKit's ``shellWord``)."""

    def __init__(self, lex: ShellLex, text: str, env: Mapping[str, str]) -> None:
        self.lex = lex
        self.text = text
        self.pos = 0
        self.env = env
        self.matched: set[str] = set()
        self.unmatched: set[str] = set()

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def next(self) -> str:
        ch = self.peek()
        if ch:
            self.pos += 1
        return ch

    def getenv(self, name: str) -> str | None:
        value = self.env.get(name)
        if value is None:
            self.unmatched.add(name)
        else:
            self.matched.add(name)
        return value

    def stop_on(self, stop: str | None, raw_escapes: bool) -> tuple[str, list[str]]:
        result: list[str] = []
        words = _Words()
        esc = self.lex.escape
        while self.pos < len(self.text):
            ch = self.peek()
            if stop is not None and ch == stop:
                self.pos += 1
                return "".join(result), words.finish()
            if ch == "$":
                tmp = self.dollar()
                result.append(tmp)
                words.add_string(tmp)
            elif ch in "'\"" and not self.lex.skip_process_quotes:
                tmp = self.single_quote() if ch == "'" else self.double_quote()
                result.append(tmp)
                words.add_raw(tmp)
            else:
                ch = self.next()
                if ch == esc:
                    if raw_escapes:
                        words.add_raw(ch)
                        result.append(ch)
                    ch = self.next()
                    if not ch:
                        break
                    words.add_raw(ch)
                else:
                    words.add_char(ch)
                result.append(ch)
        if stop is not None:
            raise ShellWordError(f"unexpected end of statement while looking for matching {stop}")
        return "".join(result), words.finish()

    def single_quote(self) -> str:
        quote = self.next()
        out = [quote] if self.lex.raw_quotes else []
        while True:
            ch = self.next()
            if not ch:
                raise ShellWordError("unexpected end of statement while looking for matching single-quote")
            if ch == "'":
                if self.lex.raw_quotes:
                    out.append(ch)
                return "".join(out)
            out.append(ch)

    def double_quote(self) -> str:
        quote = self.next()
        out = [quote] if self.lex.raw_quotes else []
        esc = self.lex.escape
        while True:
            ch = self.peek()
            if not ch:
                raise ShellWordError("unexpected end of statement while looking for matching double-quote")
            if ch == '"':
                self.pos += 1
                if self.lex.raw_quotes:
                    out.append(ch)
                return "".join(out)
            if ch == "$":
                out.append(self.dollar())
                continue
            ch = self.next()
            if ch == esc:
                if self.lex.raw_escapes:
                    out.append(ch)
                nxt = self.peek()
                if not nxt:
                    continue
                if nxt in ('"', "$", esc):
                    ch = self.next()
            out.append(ch)

    def name(self) -> str:
        start = self.pos
        first = self.peek()
        if first and first.isdecimal():
            while self.peek() and self.peek().isdecimal():
                self.pos += 1
            return self.text[start : self.pos]
        if first in _SPECIAL_PARAMS and first:
            self.pos += 1
            return first
        while (ch := self.peek()) and (ch.isalpha() or ch.isdecimal() or ch == "_"):
            self.pos += 1
        return self.text[start : self.pos]

    def dollar(self) -> str:
        self.pos += 1  # the '$'
        if self.peek() != "{":
            name = self.name()
            if not name:
                return "$"
            value = self.getenv(name)
            if value is None:
                return "$" + name if self.lex.skip_unset_env else ""
            return value
        self.pos += 1  # the '{'
        ch = self.peek()
        if not ch:
            raise ShellWordError("syntax error: missing '}'")
        if ch in "{}:":
            raise ShellWordError("syntax error: bad substitution")
        name = self.name()
        op = self.next()
        if not op:
            raise ShellWordError("syntax error: missing '}'")
        if op == "}":
            value = self.getenv(name)
            if value is None:
                return "${" + name + "}" if self.lex.skip_unset_env else ""
            return value
        if op == "/":
            return self.replace(name)
        null_is_unset = op == ":"
        mod = op
        if null_is_unset:
            mod = self.next()
            op += mod
        if mod not in ("+", "-", "?", "#", "%"):
            raise ShellWordError(f"unsupported modifier ({op}) in substitution")
        raw = mod in "#%"
        if null_is_unset and raw:
            raise ShellWordError(f"unsupported modifier ({op}) in substitution")
        try:
            word, _ = self.stop_on("}", raw)
        except ShellWordError:
            if not self.peek():
                raise ShellWordError("syntax error: missing '}'") from None
            raise
        value = self.getenv(name)
        if value is None and self.lex.skip_unset_env:
            return "${" + name + op + word + "}"
        unset = value is None or (null_is_unset and value == "")
        if mod == "-":
            return word if unset else value or ""
        if mod == "+":
            return "" if unset else word
        if mod == "?":
            if value is None:
                raise ShellWordError(f"{name}: {word or 'is not allowed to be unset'}")
            if null_is_unset and value == "":
                raise ShellWordError(f"{name}: {word or 'is not allowed to be empty'}")
            return value
        greedy = word.startswith(mod)
        if greedy:
            word = word[1:]
        return _trim(value or "", word, greedy, suffix=mod == "%")

    def replace(self, name: str) -> str:
        replace_all = self.peek() == "/"
        if replace_all:
            self.pos += 1
        try:
            pattern, _ = self.stop_on("/", True)
        except ShellWordError:
            if not self.peek():
                raise ShellWordError("syntax error: missing '/' in ${}") from None
            raise
        try:
            repl, _ = self.stop_on("}", True)
        except ShellWordError:
            if not self.peek():
                raise ShellWordError("syntax error: missing '}'") from None
            raise
        value = self.getenv(name)
        if value is None and self.lex.skip_unset_env:
            return "${" + name + "/" + pattern + "/" + repl + "}"
        rx = _glob_regex(pattern, greedy=True)
        if replace_all:
            return rx.sub(lambda _m: repl, value or "")
        return rx.sub(lambda _m: repl, value or "", count=1)


def _glob_regex(pattern: str, *, greedy: bool) -> re.Pattern[str]:
    """A ``${var#pattern}`` pattern as a regular expression: ``*``, ``?`` and ``\\`` escapes only.

    As in BuildKit there are no bracket expressions (``[`` is literal); ``\\}`` and ``\\/`` stand
    for the character itself; ``\\`` may only escape ``*``, ``?`` and ``\\``.
    """
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        i += 1
        if ch == "*":
            out.append(".*" if greedy else ".*?")
        elif ch == "?":
            out.append(".")
        elif ch == "\\":
            nxt = pattern[i] if i < len(pattern) else ""
            if nxt in ("}", "/"):
                continue
            i += 1
            if nxt not in ("*", "?", "\\"):
                raise ShellWordError(
                    f"invalid pattern ({pattern}) in substitution: invalid escape '\\{nxt or chr(0xFFFD)}'"
                )
            out.append(re.escape(nxt))
        else:
            out.append(re.escape(ch))
    return re.compile("".join(out))


def _trim(value: str, pattern: str, greedy: bool, *, suffix: bool) -> str:
    """``${v#p}``/``${v##p}`` (prefix) and ``${v%p}``/``${v%%p}`` (suffix) removal."""
    rx = _glob_regex(pattern, greedy=True)
    n = len(value)
    if suffix:
        for cut in range(n + 1) if greedy else range(n, -1, -1):
            if rx.fullmatch(value[cut:]):
                return value[:cut]
    else:
        for cut in range(n, -1, -1) if greedy else range(n + 1):
            if rx.fullmatch(value[:cut]):
                return value[cut:]
    return value
