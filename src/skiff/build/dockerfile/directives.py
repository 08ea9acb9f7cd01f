"""Reading the ``syntax`` and ``check`` directives from a Dockerfile header without parsing it.

BuildKit's ``DetectSyntax`` rules: a leading ``#!`` line is skipped, a UTF-8 BOM is ignored, the
directives must come before anything else (a blank line ends the header), ``syntax`` may also be
written ``//syntax=...``, and a file that is one JSON object may carry ``"syntax"``. The value's
first word is the frontend image; the rest (``// opts``) is kept in the full value.
"""

from __future__ import annotations

import json
import re

from skiff.records import dataclass

_LINE = re.compile(r"(#|//)[ \t]*([a-zA-Z][a-zA-Z0-9]*)[ \t]*=[ \t]*(.+?)[ \t]*\Z")
_KNOWN = frozenset({"syntax", "escape", "check"})


@dataclass(frozen=True)
class DetectedDirective:
    """``value`` is the first word (e.g. the frontend image), ``full`` the whole text; 1-based ``line``."""

    value: str
    full: str
    line: int


def _header(text: str, name: str) -> DetectedDirective | None:
    lines = text.removeprefix("\ufeff").split("\n")
    start = 1 if lines and lines[0].startswith("#!") else 0
    for number, raw in enumerate(lines[start:], start=start + 1):
        match = _LINE.match(raw.rstrip("\r"))
        if match is None or match.group(2).lower() not in _KNOWN:
            return None
        if match.group(2).lower() != name:
            continue
        if match.group(1) == "//" and name != "syntax":
            return None
        full = match.group(3)
        return DetectedDirective(full.split()[0], full, number)
    return None


def detect_syntax(text: str | bytes) -> DetectedDirective | None:
    """The ``# syntax=`` directive (or ``//syntax=``, or a JSON ``{"syntax": ...}`` file), if any."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    found = _header(text, "syntax")
    if found is not None:
        return found
    stripped = text.removeprefix("\ufeff").strip()
    if stripped.startswith("{"):
        try:
            obj = json.loads(stripped)
        except ValueError:
            return None
        value = obj.get("syntax") if isinstance(obj, dict) else None
        if isinstance(value, str) and value:
            return DetectedDirective(value.split()[0], value, 1)
    return None


def detect_check(text: str | bytes) -> DetectedDirective | None:
    """The ``# check=`` directive, if any (only with the ``#`` prefix)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return _header(text, "check")
