"""``.dockerignore`` with Docker's semantics (moby ``patternmatcher`` and ``ignorefile``).

- one pattern per line; lines starting with ``#`` are comments; blank lines are skipped;
- patterns are trimmed, cleaned like Go's ``filepath.Clean`` and a leading ``/`` is dropped, so
  every pattern is relative to the context root;
- ``*`` matches within one path element, ``?`` one character, ``[...]`` a class, ``\\`` escapes,
  ``**`` any number of elements (``**/x``, ``a/**``, ``a/**/b``);
- a pattern matches a path or any of its parent directories;
- ``!pattern`` re-includes; the last matching pattern wins.

A ``<name>.dockerignore`` next to the Dockerfile (``Dockerfile.dockerignore``) takes precedence
over the context's ``.dockerignore`` (:meth:`DockerIgnore.for_build`).
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path

from skiff.build.dockerfile.errors import DockerfileError
from skiff.records import dataclass


def go_clean(path: str) -> str:
    """Go's ``path.Clean`` (lexical: drops ``.``, resolves ``..``, collapses ``/``)."""
    if not path:
        return "."
    rooted = path.startswith("/")
    out: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if out and out[-1] != "..":
                out.pop()
            elif not rooted:
                out.append("..")
            continue
        out.append(part)
    cleaned = "/".join(out)
    if rooted:
        return "/" + cleaned
    return cleaned or "."


def _class_end(pattern: str, start: int) -> int:
    i = start
    if i < len(pattern) and pattern[i] == "^":
        i += 1
    if i < len(pattern) and pattern[i] == "]":
        return -1 if i + 1 >= len(pattern) else pattern.find("]", i + 1)
    while i < len(pattern):
        if pattern[i] == "\\":
            i += 2
            continue
        if pattern[i] == "]":
            return i
        i += 1
    return -1


def _check_syntax(pattern: str) -> None:
    """Reject what Go's ``filepath.Match`` rejects: a trailing ``\\``, an unclosed or empty ``[...]``."""
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            if i + 1 >= len(pattern):
                raise ValueError("syntax error in pattern")
            i += 2
            continue
        if ch == "[":
            end = _class_end(pattern, i + 1)
            if end < 0 or end == i + 1 or pattern[i + 1 : end] == "^":
                raise ValueError("syntax error in pattern")
            i = end
        i += 1


EXACT, PREFIX, SUFFIX, REGEXP = "exact", "prefix", "suffix", "regexp"


def _compile(pattern: str) -> tuple[str, re.Pattern[str] | None]:
    """Go patternmatcher's pattern kinds: exact text, ``prefix**``, ``**suffix`` or a regexp."""
    reg = ["^"]
    kind = EXACT
    pos, count, n = 0, 0, len(pattern)
    while pos < n:
        ch = pattern[pos]
        pos += 1
        if ch == "*" and pos < n and pattern[pos] == "*":
            pos += 1
            if pos < n and pattern[pos] == "/":
                pos += 1
            if pos >= n:
                if kind == EXACT:
                    kind = PREFIX
                else:
                    reg.append(".*")
                    kind = REGEXP
            else:
                reg.append("(.*/)?")
                kind = REGEXP
            if count == 0:
                kind = SUFFIX
        elif ch == "*":
            reg.append("[^/]*")
            kind = REGEXP
        elif ch == "?":
            reg.append("[^/]")
            kind = REGEXP
        elif ch in ".+()|{}$":
            reg.append("\\" + ch)
        elif ch == "\\" and pos < n:
            reg.append("\\" + pattern[pos])
            pos += 1
            kind = REGEXP
        elif ch in "[]":
            reg.append(ch)
            kind = REGEXP
        else:
            reg.append(ch)
        count += 1
    if kind != REGEXP:
        return kind, None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # "[[" is a literal "[" in a class, as in Go
        return kind, re.compile("".join(reg) + "\\Z")


@dataclass(frozen=True)
class Pattern:
    """One cleaned pattern; ``exclusion`` for ``!`` lines."""

    text: str
    exclusion: bool
    kind: str
    regex: re.Pattern[str] | None

    @property
    def parts(self) -> list[str]:
        return self.text.split("/")

    def matches(self, path: str) -> bool:
        if self.kind == EXACT:
            return path == self.text
        if self.kind == PREFIX:
            return path.startswith(self.text[:-2])
        if self.kind == SUFFIX:
            suffix = self.text[2:]
            return path.endswith(suffix) or (suffix.startswith("/") and path == suffix[1:])
        return self.regex is not None and self.regex.match(path) is not None


def _component_matches(pattern: str, name: str) -> bool:
    try:
        kind, regex = _compile(pattern)
    except re.error:
        return True
    return Pattern(pattern, False, kind, regex).matches(name)


class DockerIgnore:
    """A compiled ignore list. ``excluded(relpath)`` answers for paths relative to the context."""

    def __init__(self, patterns: Iterable[str], *, source: str = ".dockerignore") -> None:
        self.source = source
        self.patterns: list[Pattern] = []
        for raw in patterns:
            text = raw.strip()
            if not text:
                continue
            text = go_clean(text)
            exclusion = text.startswith("!")
            if exclusion:
                text = text[1:]
                if not text:
                    raise DockerfileError('illegal exclusion pattern: "!"', filename=source)
            try:
                _check_syntax(text)
                kind, regex = _compile(text)
            except (ValueError, re.error) as err:
                raise DockerfileError(f"{err}: {text!r}", filename=source) from None
            self.patterns.append(Pattern(text, exclusion, kind, regex))

    @classmethod
    def from_lines(cls, lines: Iterable[str], *, source: str = ".dockerignore") -> DockerIgnore:
        """Patterns from the lines of an ignore file (comments, blanks, ``/`` and ``!`` handled)."""
        out: list[str] = []
        for number, line in enumerate(lines):
            if number == 0:
                line = line.removeprefix("\ufeff")
            line = line.rstrip("\r\n")
            if line.startswith("#"):
                continue
            text = line.strip()
            if not text:
                continue
            invert = text.startswith("!")
            if invert:
                text = text[1:].strip()
            if text:
                text = go_clean(text)
                if len(text) > 1 and text.startswith("/"):
                    text = text[1:]
            out.append("!" + text if invert else text)
        return cls(out, source=source)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> DockerIgnore:
        """Read an ignore file (a missing file means "exclude nothing")."""
        try:
            data = Path(path).read_text(encoding="utf-8", errors="surrogateescape")
        except FileNotFoundError:
            return cls([], source=str(path))
        return cls.from_lines(data.split("\n"), source=str(path))

    @classmethod
    def for_build(
        cls, context_dir: str | os.PathLike[str], dockerfile: str | os.PathLike[str]
    ) -> DockerIgnore:
        """``<Dockerfile>.dockerignore`` beside the Dockerfile if present, else ``<context>/.dockerignore``."""
        specific = Path(str(dockerfile) + ".dockerignore")
        if specific.is_file():
            return cls.from_file(specific)
        return cls.from_file(Path(context_dir) / ".dockerignore")

    @property
    def has_exclusions(self) -> bool:
        return any(p.exclusion for p in self.patterns)

    def excluded(self, relpath: str) -> bool:
        """Whether ``relpath`` (``/``-separated, relative to the context) is left out of the build."""
        path = go_clean(relpath.replace(os.sep, "/")).lstrip("/")
        if path in (".", ""):
            return False
        parents = path.split("/")[:-1]
        matched = False
        for pat in self.patterns:
            if pat.exclusion != matched:
                continue
            hit = pat.matches(path) or any(
                pat.matches("/".join(parents[: i + 1])) for i in range(len(parents))
            )
            if hit:
                matched = not pat.exclusion
        return matched

    def may_reinclude_under(self, reldir: str) -> bool:
        """Whether some ``!`` pattern could match a path inside the (excluded) directory ``reldir``."""
        dirs = go_clean(reldir).split("/")
        for pat in self.patterns:
            if not pat.exclusion:
                continue
            parts = pat.parts
            for i, name in enumerate(dirs):
                if i >= len(parts) or "**" in parts[i]:
                    return True
                if not _component_matches(parts[i], name):
                    break
            else:
                return True
        return False

    def walk(self, context_dir: str | os.PathLike[str], *, include_dirs: bool = True) -> Iterator[str]:
        """Included paths under ``context_dir``, relative and ``/``-separated, parents before children.

        Symlinks are reported, never followed. An excluded directory is skipped without reading
        it unless a ``!`` pattern could re-include something inside; then it is read, and reported
        only if something inside is included.
        """
        root = Path(context_dir)

        def visit(rel: str) -> Iterator[str]:
            try:
                entries = sorted(os.scandir(root / rel if rel else root), key=lambda e: e.name)
            except (FileNotFoundError, NotADirectoryError):
                return
            for entry in entries:
                path = f"{rel}/{entry.name}" if rel else entry.name
                is_dir = entry.is_dir(follow_symlinks=False)
                if self.excluded(path):
                    if is_dir and self.may_reinclude_under(path):
                        inside = list(visit(path))
                        if inside:
                            if include_dirs:
                                yield path
                            yield from inside
                    continue
                if is_dir:
                    if include_dirs:
                        yield path
                    yield from visit(path)
                else:
                    yield path

        yield from visit("")
