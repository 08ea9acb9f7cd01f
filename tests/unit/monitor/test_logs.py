"""The json-file writer: Docker's line shape, partial lines kept until their newline, timestamps."""

from __future__ import annotations

import json
from pathlib import Path

from skiff.monitor.logs import JsonFileWriter, parse_rfc3339, read_entries, rfc3339_nano


def test_lines_and_partials(tmp_path: Path) -> None:
    p = tmp_path / "c-json.log"
    w = JsonFileWriter(str(p))
    w.write("stdout", b"one\ntw")
    w.write("stderr", b"err \"quoted\" \xff\n")
    w.write("stdout", b"o\n")
    w.write("stdout", b"tail without newline")
    w.close()
    objs = [json.loads(line) for line in p.read_text().splitlines()]
    assert [(o["stream"], o["log"]) for o in objs] == [
        ("stdout", "one\n"), ("stderr", 'err "quoted" \ufffd\n'), ("stdout", "two\n"),
        ("stdout", "tail without newline")]
    assert all(o["time"].endswith("Z") and len(o["time"]) == 30 for o in objs)
    entries, off = read_entries(str(p))
    assert len(entries) == 4 and off == p.stat().st_size
    assert read_entries(str(p), off) == ([], off)


def test_long_line_split(tmp_path: Path) -> None:
    p = tmp_path / "l.log"
    w = JsonFileWriter(str(p))
    w.write("stdout", b"x" * 20000)
    w.close()
    assert len(p.read_text().splitlines()) == 1


def test_timestamps_round_trip() -> None:
    ns = 1_700_000_000_123_456_789
    text = rfc3339_nano(ns)
    assert text == "2023-11-14T22:13:20.123456789Z"
    assert parse_rfc3339(text) == ns
