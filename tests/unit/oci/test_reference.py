"""Reference parsing, driven by tests/unit/oci/data/references.txt."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skiff.oci.reference import ReferenceError, parse

CASES = [
    tuple(part.strip() for part in line.split(" | ", 1))
    for line in (Path(__file__).parent / "data" / "references.txt").read_text().splitlines()
    if line.strip() and not line.startswith("#")
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_reference_cases(text: str, expected: str) -> None:
    if expected.startswith("ERROR: "):
        with pytest.raises(ReferenceError) as e:
            parse(text)
        assert expected[len("ERROR: "):] in str(e.value)
    else:
        assert str(parse(text)) == expected


def test_familiar() -> None:
    assert parse("busybox").familiar() == "busybox:latest"
    assert parse("user/app:1").familiar() == "user/app:1"
    assert parse("localhost:5000/a").familiar() == "localhost:5000/a:latest"


@given(st.text(max_size=80))
def test_parse_never_crashes_and_round_trips(text: str) -> None:
    try:
        ref = parse(text)
    except ReferenceError:
        return
    assert parse(str(ref)) == ref
