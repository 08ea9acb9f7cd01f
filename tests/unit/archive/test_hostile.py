"""Hostile layers (SECURITY.md #1, #2, #6, #32, #33): refused with an error naming the entry, and nothing is
ever written outside the target."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skiff.archive import ArchiveError, LayerTooLargeError, UnsafeEntryError, apply_layer
from skiff.archive.tarfmt import CHR, Entry

from .treeutil import dirent, hard, raw_tar, reg, snapshot, sym


@pytest.fixture
def sandbox(tmp_path: Path) -> tuple[Path, Path]:
    """(root to extract into, a sibling folder that must stay untouched)."""
    root = tmp_path / "box" / "root"
    outside = tmp_path / "box" / "outside"
    root.mkdir(parents=True)
    outside.mkdir()
    (outside / "secret").write_text("keep")
    return root, outside


def apply(data: bytes, root: Path, **kw: object) -> None:
    apply_layer(io.BytesIO(data), root, **kw)  # type: ignore[arg-type]


def test_dotdot_refused_naming_entry(sandbox: tuple[Path, Path]) -> None:
    root, outside = sandbox
    with pytest.raises(UnsafeEntryError, match=r"\.\./outside/evil"):
        apply(raw_tar(reg("../outside/evil")), root)
    assert sorted(os.listdir(outside)) == ["secret"]


def test_absolute_names_are_made_relative(sandbox: tuple[Path, Path]) -> None:
    root, _ = sandbox
    apply(raw_tar(reg("/etc/abs", b"in")), root)
    assert (root / "etc/abs").read_bytes() == b"in"


@pytest.mark.parametrize("link", ["/", "..", "../..", "../outside", "/../../outside"])
def test_symlink_parent_stays_inside(sandbox: tuple[Path, Path], link: str) -> None:
    """A symlink to a place outside, then a file through it: the write lands inside the root."""
    root, outside = sandbox
    apply(raw_tar(sym("esc", link), reg("esc/outside/secret", b"pwned"), reg("esc/newfile", b"n")), root)
    assert (outside / "secret").read_text() == "keep"
    assert sorted(os.listdir(outside)) == ["secret"]
    assert os.path.islink(root / "esc")


def test_symlink_then_overwrite_same_name_does_not_follow(sandbox: tuple[Path, Path]) -> None:
    root, outside = sandbox
    apply(raw_tar(sym("f", str(outside / "secret")), reg("f", b"pwned")), root)
    assert (outside / "secret").read_text() == "keep"
    assert (root / "f").read_bytes() == b"pwned" and not os.path.islink(root / "f")


def test_hardlink_escape_refused(sandbox: tuple[Path, Path]) -> None:
    root, outside = sandbox
    with pytest.raises(UnsafeEntryError, match="hl"):
        apply(raw_tar(hard("hl", "../outside/secret")), root)
    # through a symlinked folder: resolved inside the root, so the target is simply missing
    with pytest.raises(ArchiveError, match="not found"):
        apply(raw_tar(sym("up", "../outside"), hard("hl2", "up/secret")), root)
    assert os.stat(outside / "secret").st_nlink == 1


def test_hardlink_to_symlink_links_the_symlink_itself(sandbox: tuple[Path, Path]) -> None:
    root, outside = sandbox
    apply(raw_tar(sym("s", str(outside / "secret")), hard("h", "s"), reg("h", b"x")), root)
    assert (outside / "secret").read_text() == "keep"


@pytest.mark.parametrize("name", [".wh.", "d/.wh.", ".wh..", ".wh...", "d/.wh.."])
def test_bad_whiteouts_refused(sandbox: tuple[Path, Path], name: str) -> None:
    root, outside = sandbox
    (root / "d").mkdir()
    (root / "d/keep").write_text("k")
    with pytest.raises(UnsafeEntryError, match="whiteout"):
        apply(raw_tar(reg(name, b"")), root)
    assert (root / "d/keep").exists() and (outside / "secret").exists()


def test_whiteout_through_symlink_stays_inside(sandbox: tuple[Path, Path]) -> None:
    root, outside = sandbox
    apply(raw_tar(sym("l", "../outside"), reg("l/.wh.secret", b"")), root)
    assert (outside / "secret").exists()
    with pytest.raises(UnsafeEntryError):
        apply(raw_tar(reg("../outside/.wh.secret", b"")), root)
    assert (outside / "secret").exists()


@pytest.mark.parametrize("target", ["/", "..", "."])
def test_opaque_whiteout_in_a_linked_folder_is_not_followed(sandbox: tuple[Path, Path], target: str) -> None:
    """Found by the property test below: a link to the root itself with an opaque whiteout "in" it made the
    walk remove the link while listing through it (Docker's walk does not descend into a link at all)."""
    root, outside = sandbox
    (root / "keep").write_text("lower layer")
    apply(raw_tar(sym("a", target), reg("a/.wh..wh..opq", b"")), root)
    assert os.readlink(root / "a") == target
    assert (root / "keep").read_text() == "lower layer"
    assert (outside / "secret").exists()


def test_decompression_bomb_bounded(tmp_path: Path) -> None:
    import zstandard

    data = raw_tar(reg("zeros", bytes(64 << 20)))
    blob = zstandard.ZstdCompressor().compress(data)
    assert len(blob) < 1 << 20
    (tmp_path / "r").mkdir()
    with pytest.raises(LayerTooLargeError, match="exceeds the limit"):
        apply(blob, tmp_path / "r", max_bytes=8 << 20)


def test_devices_skipped_unless_allowed(tmp_path: Path) -> None:
    dev = Entry(name="null", type=CHR, mode=0o666, devmajor=1, devminor=3)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    res = apply_layer(io.BytesIO(raw_tar(dev)), tmp_path / "a")
    assert res.skipped == ["null"] and not (tmp_path / "a/null").exists()
    if os.geteuid() == 0:
        apply(raw_tar(dev), tmp_path / "b", allow_devices=True)
        assert os.stat(tmp_path / "b/null").st_rdev == os.makedev(1, 3)


def test_corrupt_and_truncated(tmp_path: Path) -> None:
    good = raw_tar(reg("f", b"a" * 2000))
    with pytest.raises(ArchiveError, match="checksum"):
        apply(b"x" * 1024, tmp_path)
    with pytest.raises(ArchiveError, match="truncated"):
        apply(good[:1000], tmp_path)
    with pytest.raises(ArchiveError, match="not supported"):
        apply(b"BZh91AY&SY" + bytes(100), tmp_path)


def test_file_over_existing_folder_and_back(tmp_path: Path) -> None:
    apply(raw_tar(dirent("x"), reg("x/y", b"1")), tmp_path)
    apply(raw_tar(reg("x", b"file")), tmp_path)
    assert (tmp_path / "x").read_bytes() == b"file"
    apply(raw_tar(dirent("x"), reg("x/z", b"2")), tmp_path)
    assert (tmp_path / "x/z").read_bytes() == b"2"


_part = st.sampled_from(["..", ".", "", "a", "b", "l", "/", ".wh.a", ".wh..wh..opq", ".wh.", "outside", "secret"])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(members=st.lists(st.tuples(st.sampled_from(["reg", "dir", "sym", "hard"]),
                                  st.lists(_part, min_size=1, max_size=5).map("/".join),
                                  st.sampled_from(["/", "..", "../outside", "../../box/outside", "a", "l/..",
                                                   "/outside/secret", "../outside/secret", "b/../.."])),
                        min_size=1, max_size=8))
def test_random_hostile_names_never_escape(tmp_path_factory: pytest.TempPathFactory,
                                           members: list[tuple[str, str, str]]) -> None:
    box = tmp_path_factory.mktemp("box")
    root, outside = box / "root", box / "outside"
    root.mkdir()
    outside.mkdir()
    (outside / "secret").write_text("keep")
    before = snapshot(box / "outside")
    ents = []
    for kind, name, target in members:
        if kind == "reg":
            ents.append(reg(name, b"pwned"))
        elif kind == "dir":
            ents.append(dirent(name))
        elif kind == "sym":
            ents.append(sym(name, target))
        else:
            ents.append(hard(name, target))
    try:
        apply(raw_tar(*ents), root)
    except ArchiveError:
        pass
    assert snapshot(box / "outside") == before
    assert sorted(os.listdir(box)) == ["outside", "root"]


def test_no_worker_thread_outlives_a_call(tmp_path: Path) -> None:
    """The runtime forks only while single-threaded: readers and writers must stop their workers."""
    import threading

    import zstandard

    from skiff.archive import create_layer

    before = threading.active_count()
    blob = zstandard.ZstdCompressor().compress(raw_tar(reg("zeros", bytes(4 << 20))))
    with pytest.raises(LayerTooLargeError):
        apply(blob, tmp_path, max_bytes=1 << 20)
    with pytest.raises(UnsafeEntryError):
        apply(raw_tar(reg("a", b"1"), reg("../b", b"2"), reg("c", bytes(3 << 20))), tmp_path)
    (tmp_path / "src").mkdir()
    (tmp_path / "src/f").write_bytes(b"x")

    class Broken(io.RawIOBase):
        def write(self, b: object) -> int:
            raise OSError(28, "No space left on device")

    with pytest.raises(ArchiveError, match="No space left"):
        create_layer(tmp_path / "src", Broken(), compression="none")  # type: ignore[arg-type]
    assert threading.active_count() == before


def test_very_deep_paths_and_symlink_chains(tmp_path: Path) -> None:
    import subprocess

    deep = "/".join(["d"] * 1200) + "/f"  # deeper than Python's recursion limit
    try:
        apply(raw_tar(reg(deep, b"deep")), tmp_path)
        assert (tmp_path / deep).read_bytes() == b"deep"
    finally:
        subprocess.run(["rm", "-rf", str(tmp_path / "d")], check=True)  # pytest's own cleanup recurses
    chain = [sym(f"l{i}", f"l{i + 1}") for i in range(60)]
    with pytest.raises(UnsafeEntryError, match="symbolic links"):
        apply(raw_tar(*chain, reg("l0/x", b"")), tmp_path)
