""".dockerignore matching (data/dockerignore.txt) and the context walk."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skiff.build.dockerfile.errors import DockerfileError
from skiff.build.dockerfile.ignore import DockerIgnore, go_clean

DATA = Path(__file__).parent / "data"


def load_cases() -> list[tuple[str, list[str], list[tuple[str, bool]], str]]:
    cases = []
    text = (DATA / "dockerignore.txt").read_text(encoding="utf-8")
    for block in text.split("\n=== ")[1:]:
        name, _, rest = block.partition("\n")
        lines, _, checks = rest.partition("---")
        error = checks.strip()[len("error: ") :] if checks.startswith(" error: ") else ""
        expect = []
        if not error:
            for row in checks.strip("\n").splitlines():
                path, _, verdict = row.rpartition(" => ")
                expect.append((path, verdict == "excluded"))
        cases.append((name, lines.rstrip("\n").split("\n"), expect, error))
    return cases


CASES = load_cases()


@pytest.mark.parametrize(("name", "lines", "expect", "error"), CASES, ids=[c[0] for c in CASES])
def test_ignore_table(name: str, lines: list[str], expect: list[tuple[str, bool]], error: str) -> None:
    if error:
        with pytest.raises(DockerfileError, match=error):
            DockerIgnore.from_lines(lines)
        return
    ignore = DockerIgnore.from_lines(lines)
    assert [(path, ignore.excluded(path)) for path, _ in expect] == expect


def test_table_loaded() -> None:
    assert len(CASES) >= 15


@pytest.mark.parametrize(
    ("path", "clean"),
    [
        ("", "."),
        ("a//b/./c/..", "a/b"),
        ("/../a", "/a"),
        ("../../a", "../../a"),
        ("a/../..", ".."),
        ("//x/", "/x"),
    ],
)
def test_go_clean(path: str, clean: str) -> None:
    assert go_clean(path) == clean


def make_tree(root: Path, files: list[str]) -> None:
    for rel in files:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(rel)


@pytest.fixture
def scandir_log(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    seen: list[str] = []
    real = os.scandir

    def logging_scandir(path: os.PathLike[str] | str) -> object:
        seen.append(str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", logging_scandir)
    yield seen


def test_walk_prunes_only_when_no_exception_can_reach(tmp_path: Path, scandir_log: list[str]) -> None:
    make_tree(
        tmp_path,
        [
            "app.py",
            "node_modules/a/index.js",
            "node_modules/keep/x.js",
            ".git/HEAD",
            "docs/a.md",
            "docs/b.txt",
        ],
    )
    (tmp_path / "link").symlink_to("/etc")
    ignore = DockerIgnore.from_lines([".git", "node_modules", "!node_modules/keep", "*/*.md"])
    got = list(ignore.walk(tmp_path))
    assert got == [
        "app.py",
        "docs",
        "docs/b.txt",
        "link",
        "node_modules",
        "node_modules/keep",
        "node_modules/keep/x.js",
    ]
    visited = {os.path.relpath(p, tmp_path) for p in scandir_log}
    assert ".git" not in visited
    assert "node_modules/a" not in visited
    assert "node_modules" in visited
    assert list(ignore.walk(tmp_path, include_dirs=False)) == [
        "app.py",
        "docs/b.txt",
        "link",
        "node_modules/keep/x.js",
    ]


def test_walk_wildcard_exception_reaches_into_excluded_dir(tmp_path: Path) -> None:
    make_tree(tmp_path, ["vendor/a/keep.txt", "vendor/a/drop.txt", "vendor/b/c/keep.txt"])
    ignore = DockerIgnore.from_lines(["vendor", "!vendor/*/keep.txt", "!**/c/keep.txt"])
    assert list(ignore.walk(tmp_path, include_dirs=False)) == ["vendor/a/keep.txt", "vendor/b/c/keep.txt"]


def test_for_build_prefers_dockerfile_specific_file(tmp_path: Path) -> None:
    (tmp_path / ".dockerignore").write_text("a\n")
    (tmp_path / "sub").mkdir()
    dockerfile = tmp_path / "sub" / "Dockerfile"
    dockerfile.write_text("FROM x\n")
    assert DockerIgnore.for_build(tmp_path, dockerfile).excluded("a")
    Path(str(dockerfile) + ".dockerignore").write_text("\ufeffb\n")
    specific = DockerIgnore.for_build(tmp_path, dockerfile)
    assert specific.excluded("b") and not specific.excluded("a")
    assert not DockerIgnore.from_file(tmp_path / "missing").excluded("anything")


def test_walk_reaches_exception_through_character_class(tmp_path: Path) -> None:
    make_tree(tmp_path, ["logs/app1/keep.log", "logs/app1/x.log", "logs/appx/keep.log"])
    ignore = DockerIgnore.from_lines(["logs", "!logs/app[0-9]/keep.log"])
    assert list(ignore.walk(tmp_path, include_dirs=False)) == ["logs/app1/keep.log"]
    assert ignore.may_reinclude_under("logs/app1") and not ignore.may_reinclude_under("logs/appx")


_segment = st.text(alphabet="ab.*?![]\\-_/ #", min_size=1, max_size=12)
_part = st.text(alphabet="ab.c-_ ", min_size=1, max_size=5).filter(
    lambda p: p.strip(". ") != "" and p == p.strip()
)
_name = st.lists(_part, min_size=1, max_size=4).map("/".join)


@settings(max_examples=150, deadline=None)
@given(patterns=st.lists(_segment, max_size=5), path=_name)
def test_matcher_fails_only_with_dockerfile_error(patterns: list[str], path: str) -> None:
    try:
        ignore = DockerIgnore.from_lines(patterns)
    except DockerfileError:
        return
    result = ignore.excluded(path)
    assert result == ignore.excluded("./" + path) == ignore.excluded("/" + path)
    if result and path.count("/"):
        # an excluded directory excludes everything inside, unless a later "!" re-includes it
        assert ignore.excluded(path + "/x") or ignore.has_exclusions


@settings(max_examples=100, deadline=None)
@given(path=_name)
def test_literal_path_excludes_itself_and_children(path: str) -> None:
    literal = "".join("\\" + c if c in "*?[]\\" else c for c in path)
    ignore = DockerIgnore.from_lines([literal])
    assert ignore.excluded(path)
    assert ignore.excluded(path + "/child")
    assert not DockerIgnore.from_lines([literal, "!" + literal]).excluded(path)
