"""A broken pipe is quiet only when it is our standard output whose reader stopped (`skiff ps | head`); one
anywhere else (a socket to a container's monitor) is an error, not a silent exit 0 (it once hid lost output
of `run -it`)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from skiff.cli import main as cli_main


def test_broken_pipe_elsewhere_is_an_error(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def run(argv: list[str]) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(cli_main, "run", run)
    with pytest.raises(SystemExit) as exc:
        cli_main.main(["version"])
    assert exc.value.code == 125
    assert capsys.readouterr().err.strip() == "Error: Broken pipe"


def test_reader_that_stops_early_ends_the_command_quietly() -> None:
    # the command writes far more than a pipe holds; its reader takes a few bytes and closes
    code = ("import sys; sys.argv = ['skiff']; from skiff.cli import main as m\n"
            "def run(argv):\n    for _ in range(10000): print('x' * 100)\n    return 0\n"
            "m.run = run; m.main([])")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert p.stdout is not None and p.stderr is not None
    p.stdout.read(10)
    p.stdout.close()
    err = p.stderr.read()
    assert p.wait(30) == 0 and err == b""
