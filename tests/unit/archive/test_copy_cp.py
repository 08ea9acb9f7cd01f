"""The pieces `skiff cp` is built from: the fd-based walk of a live tree (Walker.tree_at), whole-or-nothing
placement (place), and a tar stream extracted below a folder (fill_tar), whose member names never climb out."""

from __future__ import annotations

import io
import itertools
import os
import socket
import stat
import tarfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skiff.archive import ArchiveError, UnsafeEntryError
from skiff.archive.copy import fill_items, fill_tar, place
from skiff.archive.extract import ExtractOptions, Extractor
from skiff.archive.walk import Walker

from .treeutil import snapshot


def _tree(root: Path) -> None:
    (root / "d" / "sub").mkdir(parents=True)
    (root / "d" / "f").write_text("data\n")
    (root / "d" / "sub" / "g").write_text("g\n")
    os.symlink("/etc", root / "d" / "etc")
    os.mkfifo(root / "d" / "fifo")


def _walk(top: Path, prefix: str = "", **kw: object) -> list[str]:
    fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY)
    try:
        return [it.entry.name for it in Walker().tree_at(fd, prefix, **kw)]  # type: ignore[arg-type]
    finally:
        os.close(fd)


def test_tree_at_lists_like_tree_and_never_follows(tmp_path: Path) -> None:
    _tree(tmp_path)
    assert _walk(tmp_path / "d", "x") == ["x/etc", "x/f", "x/fifo", "x/sub", "x/sub/g"]
    assert _walk(tmp_path / "d") == sorted(str(p.relative_to(tmp_path / "d")) for p in (tmp_path / "d").rglob("*"))


def test_tree_at_skips_sockets_and_does_not_enter_skipped_devices(tmp_path: Path) -> None:
    _tree(tmp_path)
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(tmp_path / "d" / "sock"))
        assert "sock" not in _walk(tmp_path / "d")
    dev = os.stat(tmp_path / "d" / "sub").st_dev
    assert _walk(tmp_path, skip_devs={dev}) == ["d"]  # listed, not entered; its files left out


def test_tree_at_leaves_out_entries_that_vanish(tmp_path: Path) -> None:
    _tree(tmp_path)
    fd = os.open(tmp_path / "d", os.O_RDONLY | os.O_DIRECTORY)
    try:
        names = []
        for it in Walker().tree_at(fd):
            names.append(it.entry.name)
            if it.entry.name == "f":  # removed after the folder was listed: no error, no entry
                (tmp_path / "d" / "sub" / "g").unlink()
                (tmp_path / "d" / "sub").rmdir()
    finally:
        os.close(fd)
    assert names == ["etc", "f", "fifo"]


def _fill_from(src: Path):  # type: ignore[no-untyped-def]
    def fill(ex: Extractor, top: str) -> None:
        fd = os.open(src, os.O_RDONLY | os.O_DIRECTORY)
        try:
            w = Walker()
            top_entry = w.entry(top, f"/proc/self/fd/{fd}/.", os.fstat(fd))
            fill_items(ex, itertools.chain([top_entry], w.tree_at(fd, top)))  # lazy: sources live during the walk
        finally:
            os.close(fd)
    return fill


def test_place_writes_a_new_folder_whole_and_merges_into_an_existing_one(tmp_path: Path) -> None:
    _tree(tmp_path / "src")
    dest = tmp_path / "dest"
    dest.mkdir()
    place(dest, "new", _fill_from(tmp_path / "src" / "d"), is_dir=True, opts=ExtractOptions(), shown="new")
    assert snapshot(dest / "new") == snapshot(tmp_path / "src" / "d")
    (dest / "new" / "mine").write_text("kept")
    place(dest, "new", _fill_from(tmp_path / "src" / "d"), is_dir=True, opts=ExtractOptions(), shown="new")
    assert (dest / "new" / "mine").read_text() == "kept"
    assert os.listdir(dest) == ["new"]


def test_place_leaves_nothing_behind_on_failure(tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "old").write_text("old")

    def fill(ex: Extractor, top: str) -> None:
        from skiff.archive.tarfmt import Entry

        ex.add(Entry(name=top, size=10), io.BytesIO(b"short"))  # truncated content

    with pytest.raises(ArchiveError, match="truncated"):
        place(dest, "old", fill, is_dir=False, opts=ExtractOptions(), shown="old")
    with pytest.raises(ArchiveError, match="truncated"):
        place(dest, "new", fill, is_dir=False, opts=ExtractOptions(), shown="new")
    assert os.listdir(dest) == ["old"] and (dest / "old").read_text() == "old"


@pytest.mark.parametrize(("existing", "is_dir", "message"), [
    ("dir", False, 'cannot overwrite directory "x" with non-directory'),
    ("file", True, 'cannot overwrite non-directory "x" with directory'),
])
def test_place_never_swaps_a_folder_and_a_file(tmp_path: Path, existing: str, is_dir: bool, message: str) -> None:
    (tmp_path / "x").mkdir() if existing == "dir" else (tmp_path / "x").write_text("")
    with pytest.raises(ArchiveError, match=message):
        place(tmp_path, "x", lambda ex, top: None, is_dir=is_dir, opts=ExtractOptions(), shown="x")


def _tar(members: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_fill_tar_writes_below_top_and_keeps_whiteout_names(tmp_path: Path) -> None:
    (tmp_path / "c" / "top").mkdir(parents=True)
    with Extractor(tmp_path / "c", ExtractOptions(whiteouts=False)) as ex:
        fill_tar(ex, io.BytesIO(_tar([("./a/b", b"1"), (".wh.x", b"2")])), "top")
        ex.finish()
    assert (tmp_path / "c" / "top" / "a" / "b").read_bytes() == b"1"
    assert (tmp_path / "c" / "top" / ".wh.x").read_bytes() == b"2"


_part = st.sampled_from(["a", "b", "..", ".", "", "top"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names=st.lists(st.lists(_part, min_size=1, max_size=5).map("/".join), min_size=1, max_size=4))
def test_fill_tar_never_writes_outside_top(tmp_path: Path, names: list[str]) -> None:
    base = tmp_path / f"case{len(os.listdir(tmp_path))}"
    (base / "root" / "top").mkdir(parents=True)
    (base / "root" / "outside").write_text("x")
    before = {p.name for p in (base / "root").iterdir()}
    try:
        with Extractor(base / "root", ExtractOptions(whiteouts=False)) as ex:
            fill_tar(ex, io.BytesIO(_tar([(n, b"d") for n in names])), "top")
            ex.finish()
    except (UnsafeEntryError, ArchiveError):
        pass
    assert {p.name for p in (base / "root").iterdir()} == before
    assert (base / "root" / "outside").read_text() == "x"
    for p in (base / "root" / "top").rglob("*"):
        assert stat.S_ISDIR(p.lstat().st_mode) or stat.S_ISREG(p.lstat().st_mode)
