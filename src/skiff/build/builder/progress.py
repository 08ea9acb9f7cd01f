"""Build progress: BuildKit's plain lines (``#N [i/n] INSTR``, ``#N CACHED``, ``#N DONE 0.3s``), a live rich view
on a terminal (each step with CACHED or its time, and the last lines of the running step), or nothing."""

from __future__ import annotations

import time
from typing import TextIO

_TAIL = 6


class Plain:
    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.t0 = time.monotonic()

    def _w(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def begin(self, n: int, label: str) -> None:
        self._w(f"#{n} {label}")

    def cached(self, n: int) -> None:
        self._w(f"#{n} CACHED")

    def done(self, n: int, seconds: float) -> None:
        self._w(f"#{n} DONE {seconds:.1f}s")

    def log(self, n: int, line: str) -> None:
        self._w(f"#{n} {time.monotonic() - self.t0:.3f} {line}")

    def warn(self, text: str) -> None:
        self._w(text)

    def info(self, n: int, text: str) -> None:
        self._w(f"#{n} {text}")

    def close(self) -> None:
        pass


class Quiet(Plain):
    def _w(self, text: str) -> None:
        pass

    def warn(self, text: str) -> None:
        pass


class Tty(Plain):
    """A live view redrawn in place on each event (rich is imported only here). No refresh thread: the
    in-process runtime forks only while the process has a single thread."""

    def __init__(self, out: TextIO) -> None:
        super().__init__(out)
        from rich.console import Console
        from rich.live import Live

        self.console = Console(file=out, highlight=False)
        self.steps: dict[int, list[object]] = {}  # n -> [label, state, started, tail]
        self.footer: list[str] = []
        self.live = Live(console=self.console, auto_refresh=False,
                         get_renderable=self._render, transient=False)
        self.live.start()

    def _render(self):  # type: ignore[no-untyped-def]
        from rich.text import Text

        t = Text()
        t.append(f"[+] Building {time.monotonic() - self.t0:.1f}s\n", style="bold blue")
        for _n, (label, state, started, tail) in sorted(self.steps.items()):
            if state == "running":
                t.append(f" => {label}  {time.monotonic() - started:.1f}s\n")  # type: ignore[operator]
                for line in tail[-_TAIL:]:  # type: ignore[index]
                    t.append(f"    {line}\n", style="dim")
            else:
                t.append(f" => {label}  {state}\n", style="blue" if state == "CACHED" else "")
        for line in self.footer:
            t.append(f" => {line}\n")
        return t

    def begin(self, n: int, label: str) -> None:
        self.steps[n] = [label, "running", time.monotonic(), []]
        self.live.refresh()

    def cached(self, n: int) -> None:
        self.steps[n][1] = "CACHED"
        self.live.refresh()

    def done(self, n: int, seconds: float) -> None:
        self.steps[n][1] = f"{seconds:.1f}s"
        self.live.refresh()

    def log(self, n: int, line: str) -> None:
        tail = self.steps[n][3]
        tail.append(line)  # type: ignore[attr-defined]
        del tail[:-_TAIL]  # type: ignore[attr-defined]
        self.live.refresh()

    def info(self, n: int, text: str) -> None:
        self.footer.append(text)
        self.live.refresh()

    def warn(self, text: str) -> None:
        self.console.print(text, markup=False, highlight=False)

    def close(self) -> None:
        for st in self.steps.values():
            if st[1] == "running":
                st[1] = "done"
        self.live.refresh()
        self.live.stop()


def make(kind: str, out: TextIO) -> Plain:
    """``auto`` is the live view when ``out`` is a terminal, else plain."""
    if kind == "quiet":
        return Quiet(out)
    if kind == "tty" or (kind == "auto" and out.isatty()):
        return Tty(out)
    return Plain(out)
