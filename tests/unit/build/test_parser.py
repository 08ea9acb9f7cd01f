"""Parser behaviour beyond the BuildKit corpus: directives, heredocs, warnings, errors, positions."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skiff.build.dockerfile.errors import DockerfileError, ShellWordError
from skiff.build.dockerfile.parser import parse
from skiff.build.dockerfile.splitters import go_quote, parse_heredoc_word, parse_words
from skiff.errors import SkiffError


def dump(text: str) -> str:
    return parse(text).dump()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("FOO bar", '(foo "")'),
        ("foo", '(foo "")'),
        ("CMD []", "(cmd)"),
        ("HEALTHCHECK", "(healthcheck)"),
        ("ONBUILD", "(onbuild)"),
        ("ARG", "(arg)"),
        ("STOPSIGNAL", "(stopsignal)"),
        ("EXPOSE", "(expose)"),
        ("FROM  a   b", '(from "a" "b")'),
        ("ONBUILD COPY --from=a x y", '(onbuild (copy ["--from=a"] "x" "y"))'),
        ('COPY --from=a --chown="1 2" x y', '(copy ["--from=a" "--chown=1 2"] "x" "y")'),
        ("COPY -- foo /tmp/", '(copy "foo" "/tmp/")'),
        ("RUN <<EOF\necho hi\nEOF", '(run "<<EOF")'),
        ('RUN ["a", "\\u00a0b\\u0007\\u007f\\u2028"]', '(run "a" "\\u00a0b\\a\\x7f\\u2028")'),
        ('LABEL "a b"=c d=', '(label "\\"a b\\"" "c" "=" "d" "" "=")'),
        ("CMD ['echo','x']", "(cmd \"['echo','x']\")"),
        ('CMD --doit [ "a", "b" ]', '(cmd ["--doit"] "a" "b")'),
        ('ARG abc="123 456" def', '(arg "abc=\\"123 456\\"" "def")'),
        ('ENV name="a\\"b"', '(env "name" "\\"a\\\\\\"b\\"" "=")'),
        ("HEALTHCHECK CONNECT x y", '(healthcheck "CONNECT" "x y")'),
        ("RUN echo hello\\\n  world", '(run "echo hello  world")'),
        ("RUN a\\\n# comment\n\n  b", '(run "a  b")'),
        ("RUN a \\\\", '(run "a \\\\\\\\")'),
    ],
)
def test_spot_checks(text: str, expected: str) -> None:
    assert dump(text) == expected


def test_invalid_utf8_is_dumped_as_bytes() -> None:
    assert parse(b"RUN a\xffb").dump() == '(run "a\\xffb")'


def test_bom_and_crlf() -> None:
    result = parse("\ufeffFROM a\r\nRUN b \\\r\n c\r\n".encode())
    assert result.dump() == '(from "a")\n(run "b  c")'
    assert [(n.start_line, n.end_line) for n in result.nodes] == [(1, 1), (2, 3)]


def test_directives() -> None:
    result = parse("# syntax=docker/dockerfile:1\n#  CHECK = skip=JSONArgsRecommended \n# escape=`\nFROM a\n")
    assert [(d.name, d.value, d.line) for d in result.directives] == [
        ("syntax", "docker/dockerfile:1", 1),
        ("check", "skip=JSONArgsRecommended", 2),
        ("escape", "`", 3),
    ]
    assert result.escape == "`"
    assert result.directive("check") == "skip=JSONArgsRecommended"


def test_unknown_directive_or_blank_line_ends_directives() -> None:
    assert parse("#escape=\\\n# key = FOO bar\n# escape=`\nFROM a").escape == "\\"
    assert parse("\n# escape=`\nFROM a").escape == "\\"
    assert parse("# a comment\n# escape=`\nFROM a").directives == ()


def test_backtick_escape() -> None:
    result = parse("# escape=`\nFROM a\nRUN dir c:\\ `\n  && echo x\nCOPY a\\b c\\d\\")
    assert result.dump() == '(from "a")\n(run "dir c:\\\\   && echo x")\n(copy "a\\\\b" "c\\\\d\\\\")'


def test_heredocs_are_read() -> None:
    text = "FROM a\nCOPY <<A <<'B' /dst/\nhello $x\nA\n\tworld\nB\nRUN <<-EOT sh\n\techo hi\n\tEOT\nUSER <<X\nRUN x\n"
    result = parse(text)
    copy, run = result.nodes[1], result.nodes[2]
    assert [(h.name, h.content, h.expand) for h in copy.heredocs] == [
        ("A", "hello $x\n", True),
        ("B", "\tworld\n", False),
    ]
    assert (copy.start_line, copy.end_line) == (2, 6)
    assert [(h.name, h.content, h.chomp) for h in run.heredocs] == [("EOT", "\techo hi\n", True)]
    assert [n.keyword for n in result.nodes] == ["from", "copy", "run", "user", "run"]


def test_heredoc_keeps_line_endings_and_variables_in_names() -> None:
    result = parse(b"FROM a\r\nRUN <<EOF\r\nx\r\ny\nEOF\r\nCOPY <<$NAME /x\nbody\n$NAME")
    assert result.nodes[1].heredocs[0].content == "x\r\ny\n"
    assert [(h.name, h.content) for h in result.nodes[2].heredocs] == [("$NAME", "body\n")]
    assert (result.nodes[2].start_line, result.nodes[2].end_line) == (6, 8)


def test_json_form_and_quoted_word_are_not_heredocs() -> None:
    result = parse('FROM a\nRUN ["<<EOF"]\nRUN echo "<<EOF"\nRUN x')
    assert [n.heredocs for n in result.nodes] == [(), (), (), ()]
    assert len(result.nodes) == 4


def test_onbuild_heredoc() -> None:
    result = parse("FROM a\nONBUILD RUN <<EOF\necho\nEOF\n")
    trigger = result.nodes[1].trigger
    assert trigger is not None
    assert [h.content for h in trigger.heredocs] == ["echo\n"]


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("<<EOF", ("EOF", True, False, 0)),
        ("<<-EOF", ("EOF", True, True, 0)),
        ("<<'EOF'", ("EOF", False, False, 0)),
        ('<<"EOF"', ("EOF", False, False, 0)),
        ('<<EO"F"', ("EOF", False, False, 0)),
        ("3<<EOF", ("EOF", True, False, 3)),
        ("<< EOF", ("EOF", True, False, 0)),
        ("<< -EOF", ("-EOF", True, False, 0)),
    ],
)
def test_heredoc_words(word: str, expected: tuple[str, bool, bool, int]) -> None:
    doc = parse_heredoc_word(word)
    assert doc is not None
    assert (doc.name, doc.expand, doc.chomp, doc.file_descriptor) == expected


@pytest.mark.parametrize("word", ["", "EOF", "<<", "<<-", "<EOF", "<<<EOF", "<<EOF sh"])
def test_not_heredoc_words(word: str) -> None:
    assert parse_heredoc_word(word) is None


@pytest.mark.parametrize("word", ["<<'EOF", '<<"EOF', "<<EOF'", '<<EOF"'])
def test_unbalanced_heredoc_words(word: str) -> None:
    with pytest.raises(ShellWordError):
        parse_heredoc_word(word)


def test_empty_continuation_lines_warn() -> None:
    text = "FROM a\nRUN something \\\n\n    following \\\n\n    more\n\nRUN another \\\n\n    thing\nRUN x \\\n# c\n  y\n"
    result = parse(text)
    assert len(result.warnings) == 2
    assert (
        "Empty continuation line found in: RUN something     following     more" in result.warnings[0].short
    )
    assert "will become errors in a future release" in result.warnings[0].detail


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("foo", ["foo"]),
        ("foo bar", ["foo", "bar"]),
        ("foo\\ bar", ["foo\\ bar"]),
        ("foo=bar", ["foo=bar"]),
        ("foo bar 'abc xyz'", ["foo", "bar", "'abc xyz'"]),
        ('foo bar "abc xyz"', ["foo", "bar", '"abc xyz"']),
        ("àöû", ["àöû"]),
        ('föo bàr "âbc xÿz"', ["föo", "bàr", '"âbc xÿz"']),
        ('a ""', ["a", '""']),
    ],
)
def test_parse_words(words: str, expected: list[str]) -> None:
    assert parse_words(words, "\\") == expected


def test_long_line() -> None:
    with pytest.raises(DockerfileError, match="dockerfile line greater than max allowed size of 65535"):
        parse("FROM a\nLABEL test=" + "a" * 65536)
    parse("FROM a\nLABEL t=" + "a" * 65000)


def test_error_format_and_attributes() -> None:
    with pytest.raises(DockerfileError) as info:
        parse("FROM a\nRUN x\nCMD [1]\n", filename="path/to/Dockerfile")
    err = info.value
    assert isinstance(err, SkiffError)
    assert err.exit_code == 1
    assert (
        str(err)
        == "path/to/Dockerfile:3: when using JSON array syntax, arrays must be comprised of strings only"
    )
    assert err.line == 3
    assert err.source_line == "CMD [1]"


def test_go_quote() -> None:
    assert go_quote('" \\ / \b \f \n \r \t \x00') == '"\\" \\\\ / \\b \\f \\n \\r \\t \\x00"'
    assert go_quote("♥☃à\U0001f600") == '"♥☃à\U0001f600"'
    assert go_quote("\U000e0001") == '"\\U000e0001"'


_pieces = [*"FROM RUN COPY ENV ARG LABEL ONBUILD HEALTHCHECK".split(), *"abc=\"'\\`$[]{},:<>-# \t\r\n"]
dockerfile_alphabet = st.lists(
    st.sampled_from([*_pieces, "<<EOF", "\nEOF", "# escape=`\n", "\\\n"]), max_size=60
).map("".join)


@settings(max_examples=400, deadline=None)
@given(text=dockerfile_alphabet)
def test_parser_fails_only_with_dockerfile_error(text: str) -> None:
    try:
        result = parse(text)
    except DockerfileError:
        return
    assert result.nodes
    for node in result.nodes:
        assert 1 <= node.start_line <= node.end_line
        assert node.dump().startswith("(")


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=200))
def test_parser_on_arbitrary_bytes(data: bytes) -> None:
    try:
        parse(data)
    except DockerfileError:
        pass


json_text = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=12)


@settings(max_examples=200, deadline=None)
@given(
    items=st.lists(json_text, max_size=5),
    ascii_only=st.booleans(),
    keyword=st.sampled_from(["CMD", "RUN", "COPY"]),
)
def test_json_arrays_round_trip(items: list[str], ascii_only: bool, keyword: str) -> None:
    import json

    node = parse(f"{keyword} {json.dumps(items, ensure_ascii=ascii_only)}").nodes[0]
    assert node.json
    assert list(node.args) == items
    assert node.dump() == "(" + " ".join([keyword.lower(), *(go_quote(i) for i in items)]) + ")"
