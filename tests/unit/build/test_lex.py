"""The word lexer: table files (data/envvar.txt, data/words.txt) and hypothesis properties."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skiff.build.dockerfile.errors import ShellWordError
from skiff.build.dockerfile.lex import ShellLex

DATA = Path(__file__).parent / "data"


def load_table(name: str) -> list[tuple[str, str, str, dict[str, str]]]:
    """``(escape, input, expected, env)`` rows of a table file."""
    env: dict[str, str] = {}
    escape = "\\"
    rows = []
    for raw in (DATA / name).read_text(encoding="utf-8").splitlines():
        if not raw.strip() or raw.startswith("#"):
            continue
        if raw.startswith("env "):
            key, _, value = raw[4:].partition("=")
            env[key] = value
        elif raw.startswith("escape "):
            escape = raw[7:]
        else:
            word, _, expected = raw.rpartition(" => ")
            rows.append((escape, word, expected, dict(env)))
    return rows


ENVVAR = load_table("envvar.txt")
WORDS = load_table("words.txt")


@pytest.mark.parametrize(("escape", "word", "expected", "env"), ENVVAR, ids=[r[1] for r in ENVVAR])
def test_process_word_table(escape: str, word: str, expected: str, env: dict[str, str]) -> None:
    lex = ShellLex(escape)
    if expected.startswith("ERROR: "):
        with pytest.raises(ShellWordError, match=None) as info:
            lex.process_word(word, env)
        assert expected[7:] in str(info.value)
    else:
        assert lex.process_word(word, env) == ("" if expected == "<empty>" else expected)


@pytest.mark.parametrize(("escape", "word", "expected", "env"), WORDS, ids=[r[1] for r in WORDS])
def test_process_words_table(escape: str, word: str, expected: str, env: dict[str, str]) -> None:
    lex = ShellLex(escape)
    if expected.startswith("ERROR: "):
        with pytest.raises(ShellWordError) as info:
            lex.process_words(word, env)
        assert expected[7:] in str(info.value)
    else:
        assert lex.process_words(word, env) == json.loads(expected)


def test_tables_are_loaded() -> None:
    assert len(ENVVAR) > 90
    assert len(WORDS) > 15


def test_used_variables_are_reported() -> None:
    res = ShellLex().process("$a ${b:-x} ${c+y} '$d' \\$e \"$f\"", {"a": "1", "c": "3"})
    assert res.result == "1 x y $d $e "
    assert res.matched == {"a", "c"}
    assert res.unmatched == {"b", "f"}


def test_skip_unset_env_keeps_references() -> None:
    lex = ShellLex(skip_unset_env=True)
    assert lex.process_word("$a ${b} ${c:-x} ${d/x/y}", {}) == "$a ${b} ${c:-x} ${d/x/y}"


def test_raw_quotes_and_escapes() -> None:
    assert ShellLex(raw_quotes=True).process_word("'a b'\"c\"", {}) == "'a b'\"c\""
    assert ShellLex(raw_escapes=True).process_word("a\\ b", {}) == "a\\ b"


text = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=40)
weird = st.text(alphabet="ab $\\'\"{}:-+?#%/`*[] \t", max_size=30)
env = st.dictionaries(st.sampled_from(["a", "b", "PATH", "x_1"]), st.text(max_size=8), max_size=4)


@settings(max_examples=300, deadline=None)
@given(word=weird, env=env, escape=st.sampled_from(["\\", "`"]))
def test_lexer_fails_only_with_its_own_error(word: str, env: dict[str, str], escape: str) -> None:
    lex = ShellLex(escape)
    try:
        res = lex.process(word, env)
    except ShellWordError:
        return
    assert isinstance(res.result, str)
    assert all(w for w in res.words)


@settings(max_examples=200, deadline=None)
@given(value=text, escape=st.sampled_from(["\\", "`"]))
def test_escaping_every_character_round_trips(value: str, escape: str) -> None:
    word = "".join(escape + ch for ch in value)
    assert ShellLex(escape).process_word(word, {"a": "z"}) == value


@settings(max_examples=200, deadline=None)
@given(value=text)
def test_single_quoting_round_trips(value: str) -> None:
    if "'" in value:
        value = value.replace("'", "")
    assert ShellLex().process_word("'" + value + "'", {"a": "z"}) == value


@settings(max_examples=200, deadline=None)
@given(value=text, escape=st.sampled_from(["\\", "`"]))
def test_double_quoting_round_trips(value: str, escape: str) -> None:
    quoted = "".join(escape + ch if ch in ('"', "$", escape) else ch for ch in value)
    assert ShellLex(escape).process_word('"' + quoted + '"', {}) == value


@settings(max_examples=200, deadline=None)
@given(words=st.lists(text.filter(lambda s: s != "" and "'" not in s), max_size=5))
def test_quoted_words_split_back(words: list[str]) -> None:
    line = " ".join("'" + w + "'" for w in words)
    assert ShellLex().process_words(line, {}) == words
