"""Docker's literal list output compared with skiff's: what varies from run to run (IDs, times, ages, sizes,
store paths) replaced by placeholders, and table cells split where tabwriter padded them."""

from __future__ import annotations

import re

_SUBS = [
    (re.compile(r"\b[0-9a-f]{64}\b"), "<FULLID>"),
    (re.compile(r"\b[0-9a-f]{12}\b"), "<ID>"),
    (re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? [+-]\d{4} [A-Z]+"), "<TIME>"),
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)"), "<RFC3339>"),
    (re.compile(r"(Less than a second|About a minute|About an hour|\d+ (seconds?|minutes?|hours?))"), "<DUR>"),
    (re.compile(r'/[^\s"]*?/volumes/'), "<VOLUMES>/"),
    (re.compile(r"\b\d+(\.\d+)?(B|kB|MB|GB|KiB|MiB|GiB)\b"), "<SIZE>"),
]


def normalise(text: str) -> str:
    for rx, sub in _SUBS:
        text = rx.sub(sub, text)
    return text


def cells(text: str) -> list[str]:
    """A table's lines with the padding between cells (3 spaces or more) as " | "."""
    return [re.sub(r" {3,}", " | ", ln).rstrip() for ln in text.splitlines()]
