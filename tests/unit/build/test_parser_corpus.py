"""BuildKit's parser corpus (shared/testdata/dockerfile-parser) and official-image Dockerfiles."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from skiff.build.dockerfile.errors import DockerfileError
from skiff.build.dockerfile.parser import parse

# The shared corpus (BuildKit parser cases + official-image Dockerfiles); SKIFF_TESTDATA overrides.
# CI clones the repository with shared/ beside it, so look there first.
_BESIDE = Path(__file__).resolve().parents[3].parent / "shared" / "testdata"
TESTDATA = Path(os.environ.get("SKIFF_TESTDATA") or (_BESIDE if _BESIDE.is_dir() else "/work/shared/testdata"))
PARSER = TESTDATA / "dockerfile-parser"
POSITIVE = sorted(p for p in (PARSER / "testfiles").iterdir() if p.is_dir()) if PARSER.exists() else []
NEGATIVE = (
    sorted(p for p in (PARSER / "testfiles-negative").iterdir() if p.is_dir()) if PARSER.exists() else []
)
OFFICIAL = sorted(p.parent for p in (TESTDATA / "dockerfiles").glob("*/*/Dockerfile"))

NEGATIVE_ERRORS = {
    "empty_dockerfile": "file with no instructions",
    "only_comments": "file with no instructions",
    "env_no_value": "ENV must have two arguments",
    "shykes-nested-json": "when using JSON array syntax, arrays must be comprised of strings only",
}


def test_corpus_present() -> None:
    assert len(POSITIVE) == 33
    assert len(NEGATIVE) == 4
    assert len(OFFICIAL) >= 15


@pytest.mark.parametrize("case", POSITIVE + OFFICIAL, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_dump_matches_buildkit(case: Path) -> None:
    result = parse((case / "Dockerfile").read_bytes(), filename=str(case / "Dockerfile"))
    assert result.dump() + "\n" == (case / "result").read_bytes().decode("utf-8")


@pytest.mark.parametrize("case", NEGATIVE, ids=lambda p: p.name)
def test_negative_cases_fail(case: Path) -> None:
    with pytest.raises(DockerfileError) as info:
        parse((case / "Dockerfile").read_bytes())
    assert info.value.what == NEGATIVE_ERRORS[case.name]
    assert info.value.exit_code == 1


def test_line_ranges() -> None:
    result = parse((PARSER / "testfile-line" / "Dockerfile").read_bytes())
    assert [(n.start_line, n.end_line) for n in result.nodes] == [(5, 5), (11, 12), (17, 31)]
    assert (result.start_line, result.end_line) == (5, 31)
