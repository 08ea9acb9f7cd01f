"""The parser's small text splitters: keyword/flags, words, JSON arrays, heredoc words, Go quoting.

These give each instruction's raw arguments exactly as BuildKit's parser does
(``line_parsers.go``, ``split_command.go``); see ``shared/testdata/dockerfile-parser/README.md``.
"""

from __future__ import annotations

import json
import re

from skiff.build.dockerfile.errors import ShellWordError
from skiff.build.dockerfile.lex import ShellLex, is_space
from skiff.records import dataclass

WS_RE = re.compile(r"[\t\v\f\r ]+")
_HEREDOC_RE = re.compile(r"([0-9]*)<<(-?)[\t\n\f\r ]*([^<]*)\Z")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
NOT_STRING_ARRAY = "when using JSON array syntax, arrays must be comprised of strings only"


class NotStringArray(ValueError):
    """A JSON array holding something other than strings (a parse error, never a fallback)."""


def go_strip(text: str) -> str:
    """Go's ``strings.TrimSpace`` (Unicode white space on both ends)."""
    start, end = 0, len(text)
    while start < end and is_space(text[start]):
        start += 1
    while end > start and is_space(text[end - 1]):
        end -= 1
    return text[start:end]


def go_lstrip(text: str) -> str:
    start = 0
    while start < len(text) and is_space(text[start]):
        start += 1
    return text[start:]


_QUOTE_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}


def go_quote(text: str) -> str:
    """Go's ``strconv.Quote``. Undecodable bytes (surrogate escapes) print as ``\\xNN``."""
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch == '"' or ch == "\\":
            out.append("\\" + ch)
        elif 0xDC80 <= code <= 0xDCFF:
            out.append(f"\\x{code - 0xDC00:02x}")
        elif ch == " " or (ch.isprintable() and not 0xD800 <= code <= 0xDFFF):
            out.append(ch)
        elif ch in _QUOTE_ESCAPES:
            out.append(_QUOTE_ESCAPES[ch])
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


def split_command(line: str, escape: str) -> tuple[str, list[str], str]:
    """``(keyword as written, flags, rest)`` of one joined instruction line."""
    parts = WS_RE.split(go_strip(line), maxsplit=1)
    if len(parts) < 2:
        return parts[0], [], ""
    rest, flags = extract_flags(parts[1], escape)
    return parts[0], flags, go_strip(rest)


def extract_flags(line: str, escape: str) -> tuple[str, list[str]]:
    """Leading ``--name[=value]`` words (quotes removed, escapes applied) and the rest of the line."""
    flags: list[str] = []
    pos = 0
    n = len(line)
    while True:
        while pos < n and is_space(line[pos]):
            pos += 1
        if pos == n:
            return "", flags
        if not line.startswith("--", pos):
            return line[pos:], flags
        word: list[str] = []
        blank_ok = False
        quote = ""
        while pos < n:
            ch = line[pos]
            if quote:
                if ch == quote:
                    quote = ""
                elif ch == escape:
                    if pos + 1 == n:
                        quote = ""
                    else:
                        pos += 1
                        word.append(line[pos])
                else:
                    word.append(ch)
            elif is_space(ch):
                break
            elif ch in "'\"":
                quote = ch
                blank_ok = True
            elif ch == escape:
                if pos + 1 < n:
                    pos += 1
                    word.append(line[pos])
            else:
                word.append(ch)
            pos += 1
        text = "".join(word)
        if text == "--":
            return line[pos:], flags
        if blank_ok or text:
            flags.append(text)


def parse_words(rest: str, escape: str) -> list[str]:
    """Words for ARG/ENV/LABEL: quotes and escapes kept, white space outside quotes splits."""
    words: list[str] = []
    word: list[str] = []
    in_word = False
    blank_ok = False
    quote = ""
    pos = 0
    n = len(rest)
    while pos < n:
        ch = rest[pos]
        if not in_word:
            if is_space(ch):
                pos += 1
                continue
            in_word = True
        if quote:
            if ch == quote:
                quote = ""
            elif ch == escape and quote != "'":
                if pos + 1 == n:
                    pos += 1
                    continue
                word.append(ch)
                pos += 1
                ch = rest[pos]
            word.append(ch)
        elif is_space(ch):
            if blank_ok or word:
                words.append("".join(word))
            word, in_word, blank_ok = [], False, False
        else:
            if ch in "'\"":
                quote = ch
                blank_ok = True
            if ch == escape:
                if pos + 1 == n:
                    pos += 1
                    continue
                word.append(ch)
                pos += 1
                ch = rest[pos]
            word.append(ch)
        pos += 1
    if in_word and (blank_ok or word):
        words.append("".join(word))
    return words


def _no_constants(name: str) -> object:
    raise ValueError(f"not JSON: {name}")


_JSON = json.JSONDecoder(parse_constant=_no_constants)


def parse_json_array(rest: str) -> list[str] | None:
    """The elements of a JSON array of strings, or ``None`` when ``rest`` is not a JSON array.

    Raises :class:`NotStringArray` for a valid array holding anything but strings.
    """
    rest = go_lstrip(rest)
    if not rest.startswith("["):
        return None
    try:
        value, end = _JSON.raw_decode(rest)
    except (ValueError, RecursionError):
        return None
    if rest[end:].strip(" \t\n\r") or not isinstance(value, list):
        return None
    if not all(isinstance(v, str) for v in value):
        raise NotStringArray(NOT_STRING_ARRAY)
    return [_SURROGATE_RE.sub("\ufffd", v) for v in value]


@dataclass(frozen=True)
class HeredocWord:
    """A heredoc opener found in an instruction line (``<<EOF``, ``<<-"EOF"``, ``3<<EOF``)."""

    name: str
    expand: bool
    chomp: bool
    file_descriptor: int


def parse_heredoc_word(word: str) -> HeredocWord | None:
    """The heredoc opened by one word, or ``None`` when the word is not a heredoc.

    Raises :class:`ShellWordError` for unbalanced quotes in the name.
    """
    match = _HEREDOC_RE.match(word)
    if match is None:
        return None
    fd = int(match.group(1)) if match.group(1) else 0
    chomp = match.group(2) == "-"
    rest = match.group(3)
    if not rest:
        return None
    plain = ShellLex("\\", skip_unset_env=True).process_words(rest, {})
    if len(plain) != 1:
        return None
    raw = ShellLex("\\", skip_unset_env=True, raw_quotes=True).process_words(rest, {})
    if len(raw) != 1:
        raise ShellWordError(f"internal lexing of heredoc produced inconsistent results: {rest}")
    quotes = plain[0].count("'") + plain[0].count('"')
    raw_quotes = raw[0].count("'") + raw[0].count('"')
    return HeredocWord(plain[0], quotes == raw_quotes, chomp, fd)


def heredocs_in_line(line: str) -> list[HeredocWord]:
    """Every heredoc opened on a joined instruction line, in order (always ``\\`` as escape)."""
    try:
        words = ShellLex("\\", raw_quotes=True, raw_escapes=True, skip_unset_env=True).process_words(line, {})
    except ShellWordError:
        return []
    docs = []
    for word in words:
        doc = parse_heredoc_word(word)
        if doc is not None:
            docs.append(doc)
    return docs


def chomp_heredoc(content: str) -> str:
    """Remove leading tabs from every line (``<<-EOF``)."""
    return re.sub(r"(?m)^\t+", "", content)
