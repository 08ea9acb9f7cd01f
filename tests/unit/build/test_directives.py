"""Header-only detection of the syntax and check directives."""

from __future__ import annotations

import pytest

from skiff.build.dockerfile.directives import detect_check, detect_syntax


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "# syntax = dockerfile:experimental // opts\nFROM a",
            ("dockerfile:experimental", "dockerfile:experimental // opts", 1),
        ),
        ("#!/usr/bin/env buildctl\n# syntax=foo\nFROM a", ("foo", "foo", 2)),
        ("//syntax=foo\nFROM a", ("foo", "foo", 1)),
        ("#!/x\n//syntax=foo\n", ("foo", "foo", 2)),
        (
            "# escape=`\n# syntax=docker/dockerfile:1\nFROM a",
            ("docker/dockerfile:1", "docker/dockerfile:1", 2),
        ),
        ("\ufeff# syntax=bom\n", ("bom", "bom", 1)),
        ('{"syntax": "foo", "x": 1}', ("foo", "foo", 1)),
        ("\n# syntax=foo\n", None),
        ("FROM a\n# syntax=foo\n", None),
        ("# hello\n# syntax=foo\n", None),
        ('{"syntax": "foo"', None),
        ('{"syntax": "foo"}\nFROM a', None),
    ],
)
def test_detect_syntax(text: str, expected: tuple[str, str, int] | None) -> None:
    found = detect_syntax(text)
    assert (found and (found.value, found.full, found.line)) == expected


def test_detect_check() -> None:
    found = detect_check("#check = skip=all // opts\nFROM a")
    assert found is not None and (found.value, found.full) == ("skip=all", "skip=all // opts")
    assert detect_check("//check=skip=all\nFROM a") is None
    assert detect_check(b"# syntax=x\n# check=skip=A,B\n") is not None
