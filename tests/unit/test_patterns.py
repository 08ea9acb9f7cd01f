"""skiff.patterns: the memo in front of re's compiler gives the same patterns as re itself."""

from __future__ import annotations

import re
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import skiff.records  # noqa: F401  (installs the memo)
from skiff import patterns

pytestmark = pytest.mark.skipif(sys.version_info[:2] != (3, 11), reason="the memo is for CPython 3.11")


def _fresh(p: str | bytes, flags: int) -> re.Pattern:  # type: ignore[type-arg]
    return patterns._original(p, flags)  # type: ignore[no-any-return]


def test_installed_and_loaded() -> None:
    from re import _compiler  # type: ignore[attr-defined]

    assert _compiler.compile is patterns._compile
    assert patterns._table, "run `python -m skiff.records` (scripts/setup.sh does)"


def test_every_cached_pattern_is_what_re_compiles() -> None:
    for (p, flags) in list(patterns._table):
        got, want = patterns._compile(p, flags), _fresh(p, flags)
        assert (got.pattern, got.flags, got.groups, got.groupindex) == \
            (want.pattern, want.flags, want.groups, want.groupindex), p


PROBES = [r"^(?P<name>[a-z0-9]+(?:[._-][a-z0-9]+)*)(?::(?P<tag>[\w][\w.-]{0,127}))?$", r"(\d+)\s*(ms|s|m|h)",
          r"[^\n]*\n|[^\n]+\Z", r"(?i)^\s*ONBUILD\s*", r"\$\{?([A-Za-z_][A-Za-z0-9_]*)"]


@settings(max_examples=300)
@given(st.sampled_from(PROBES), st.sampled_from([0, re.I, re.M | re.S]), st.text(max_size=40))
def test_memo_matches_like_re(p: str, flags: int, text: str) -> None:
    patterns._table.pop((p, int(flags)), None)
    first = patterns._compile(p, int(flags))  # a miss: compiled and remembered
    patterns._table[(p, int(flags))] = patterns._used[(p, int(flags))]
    second = patterns._compile(p, int(flags))  # a hit: built from the memo
    want = _fresh(p, int(flags))
    for pat in (first, second):
        assert [m.groups() for m in pat.finditer(text)] == [m.groups() for m in want.finditer(text)]
        assert pat.sub("<\\g<0>>", text) == want.sub("<\\g<0>>", text)


def test_a_damaged_entry_is_compiled_again() -> None:
    key = (r"ab+c", 0)
    patterns._table[key] = (32, [99999, 1, 2], 0, {}, (None,))  # not a valid _sre program
    try:
        assert patterns._compile(*key).match("abbbc")
    finally:
        patterns._table.pop(key, None)
