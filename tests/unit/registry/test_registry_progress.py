"""The pull/push progress renderer: plain lines without a terminal, rich bars on one, nothing with -q."""

from __future__ import annotations

import io

from skiff.cli.commands.pull import LayerProgress

D1 = "sha256:" + "a" * 64
D2 = "sha256:" + "b" * 64


def _feed(p: LayerProgress) -> None:
    with p:
        p(D1, "exists", 10)
        p(D2, "start", 2_500_000)
        p(D2, "progress", 1_000_000)
        p(D2, "progress", 1_500_000)
        p(D2, "downloaded", 2_500_000)
        p(D2, "extracting", 2_500_000)
        p(D2, "done", 2_500_000)


def test_plain_lines_when_not_a_tty() -> None:
    out = io.StringIO()
    _feed(LayerProgress(False, stream=out))
    assert out.getvalue().splitlines() == [
        "aaaaaaaaaaaa: Already exists", "bbbbbbbbbbbb: Downloading (2.5MB)", "bbbbbbbbbbbb: Download complete",
        "bbbbbbbbbbbb: Extracting", "bbbbbbbbbbbb: Pull complete"]


def test_quiet_prints_nothing() -> None:
    out = io.StringIO()
    _feed(LayerProgress(True, stream=out))
    assert out.getvalue() == ""


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_rich_bars_on_a_terminal() -> None:
    out = _Tty()
    p = LayerProgress(False, stream=out)
    assert p.tty
    _feed(p)
    text = out.getvalue()
    assert "bbbbbbbbbbbb" in text and "Pull complete" in text and "2.5" in text
