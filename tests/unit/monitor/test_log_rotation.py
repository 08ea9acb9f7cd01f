"""json-file rotation (max-size, max-file) by the Python monitor's writer, and the reader that `logs` and
`logs -f` use: every line kept is read once, in order, whatever the rotations between two reads."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from skiff.monitor.logs import JsonFileWriter, LogTail, read_entries, rotated


def _all(path: str) -> list[str]:
    return [e[2] for f in [*rotated(path), path] for e in read_entries(f)[0]]


def test_rotation_keeps_max_file_files(tmp_path: Path) -> None:
    log = str(tmp_path / "c-json.log")
    w = JsonFileWriter(log, max_size=500, max_file=3)
    for i in range(100):
        w.write("stdout", f"line-{i}\n".encode())
    w.close()
    assert sorted(os.listdir(tmp_path)) == ["c-json.log", "c-json.log.1", "c-json.log.2"]
    assert all(os.path.getsize(f"{log}.{n}") >= 500 for n in (1, 2))
    texts = _all(log)
    first = int(texts[0].split("-")[1])
    assert texts == [f"line-{i}\n" for i in range(first, 100)]


def test_one_file_is_cut_back(tmp_path: Path) -> None:
    log = str(tmp_path / "c-json.log")
    w = JsonFileWriter(log, max_size=300)
    for i in range(50):
        w.write("stderr", f"e{i}\n".encode())
    w.close()
    assert os.listdir(tmp_path) == ["c-json.log"] and os.path.getsize(log) < 300 + 80  # one line past at most
    assert _all(log)[-1] == "e49\n"  # checked before each write: the newest line is never cut away


def test_a_restarted_writer_appends_and_counts_what_is_there(tmp_path: Path) -> None:
    log = str(tmp_path / "c-json.log")
    JsonFileWriter(log, max_size=10**6).close()
    w = JsonFileWriter(log, max_size=400, max_file=2)
    w.write("stdout", b"a" * 400 + b"\n")
    w.close()
    assert not os.path.exists(log + ".1")
    w = JsonFileWriter(log, max_size=400, max_file=2)  # already past its size: the next line rotates it
    w.write("stdout", b"b\n")
    w.close()
    assert os.path.exists(log + ".1") and _all(log) == ["a" * 400 + "\n", "b\n"]
    assert read_entries(log)[0][0][2] == "b\n"


@settings(max_examples=40, deadline=None)
@given(sizes=st.lists(st.integers(min_value=1, max_value=30), min_size=1, max_size=25))
def test_follow_reads_every_line_once(tmp_path_factory, sizes: list[int]) -> None:  # type: ignore[no-untyped-def]
    """Batches of lines written between the follower's reads, with rotations inside a batch: nothing lost, nothing
    twice (max-file large enough that no file is dropped before it is read)."""
    d = tmp_path_factory.mktemp("logs")
    log = str(d / "c-json.log")
    w = JsonFileWriter(log, max_size=200, max_file=1000)
    tail = LogTail(log, 0)
    seen: list[str] = []
    n = 0
    for size in sizes:
        for _ in range(size):
            w.write("stdout", f"{n}\n".encode())
            n += 1
        seen += [e[2] for e in tail.read()]
    w.close()
    seen += [e[2] for e in tail.read()]
    tail.close()
    assert seen == [f"{i}\n" for i in range(n)]
