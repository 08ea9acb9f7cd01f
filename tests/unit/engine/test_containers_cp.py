"""`skiff cp` argument and path rules, as Docker's: CONTAINER:PATH splitting, lexical cleaning ('..' stops at
the root in both directions), the trailing '/' and '/.' claims, and the kernel mounts a copy does not enter."""

from __future__ import annotations

import os
import posixpath

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skiff.engine.containers_cp import CpPath, parse_path, pseudo_mount_devs, split_arg


@pytest.mark.parametrize(("text", "expected"), [
    ("c1:/etc/hosts", ("c1", "/etc/hosts")),
    ("c1:", ("c1", "")),
    ("/abs/file:name", (None, "/abs/file:name")),
    ("./file:name", (None, "./file:name")),
    ("plain", (None, "plain")),
    ("-", (None, "-")),
])
def test_split_arg(text: str, expected: tuple[str | None, str]) -> None:
    assert split_arg(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("", CpPath("/", False, False)),
    ("/", CpPath("/", False, True)),
    (".", CpPath("/", True, True)),
    ("../../x2", CpPath("/x2", False, False)),
    ("/d/esc/..", CpPath("/d", False, False)),
    ("/d/../../..", CpPath("/", False, False)),
    ("/d/f1/", CpPath("/d/f1", False, True)),
    ("/d/.", CpPath("/d", True, True)),
    ("/d/./", CpPath("/d", True, True)),
    ("//d//f", CpPath("/d/f", False, False)),
])
def test_parse_path(text: str, expected: CpPath) -> None:
    assert parse_path(text) == expected


def test_parse_path_relative_to_cwd() -> None:
    assert parse_path("out/x", "/home/u") == CpPath("/home/u/out/x", False, False)
    assert parse_path("../../../x", "/home/u") == CpPath("/x", False, False)


@given(st.lists(st.sampled_from(["a", "b", "..", ".", ""]), max_size=8).map("/".join))
def test_parse_path_is_absolute_clean_and_clamped(text: str) -> None:
    p = parse_path(text)
    assert p.path.startswith("/") and not p.path.startswith("//")
    assert ".." not in p.path.split("/") and "." not in p.path.split("/")
    assert p.path == posixpath.normpath("/" + text).replace("//", "/")
    assert parse_path(p.path).path == p.path


def test_pseudo_mount_devs_of_this_process_hold_proc() -> None:
    assert os.stat("/proc").st_dev in pseudo_mount_devs("self")
    assert os.stat("/").st_dev not in pseudo_mount_devs("self")
    assert pseudo_mount_devs(2**30) == frozenset()
