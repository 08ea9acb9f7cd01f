"""The monitor's exit command (`skiff container cleanup ID`) runs once the container's status is recorded,
unless the ``unless=`` path exists: `rm -f` makes it before the kill and cleans up itself. Both monitors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import skiff
from skiff.monitor.native import binary

SRC = str(Path(skiff.__file__).resolve().parent.parent)


def _monitor(kind: str, tmp_path: Path) -> list[str]:
    if kind == "native":
        exe = binary(tmp_path / "bin")
        if exe is None:
            pytest.skip("no C compiler")
        return [exe]
    return [sys.executable, "-I", "-S", "-c",
            f"import sys;sys.path[0:0]=[{SRC!r}];from skiff.monitor.main import main;main()"]


@pytest.mark.parametrize("kind", ["native", "python"])
@pytest.mark.parametrize("marked", [False, True])
def test_exit_command_runs_unless_the_marker_exists(tmp_path: Path, kind: str, marked: bool) -> None:
    marker, ran, exit_file = tmp_path / "removing", tmp_path / "ran", tmp_path / "exit"
    if marked:
        marker.touch()
    mon = _monitor(kind, tmp_path)
    # this process starts the "container", then becomes the monitor, so that the container is the monitor's child
    argv = [*mon, f"exit={exit_file}", f"unless={marker}", "--", "/usr/bin/touch", str(ran)]
    starter = ("import os, sys; argv = sys.argv[1:]; "
               "pid = os.posix_spawn('/bin/sleep', ['sleep', '0.1'], os.environ); "
               "argv.insert(argv.index('--'), f'pid={pid}'); os.execv(argv[0], argv)")
    subprocess.run([sys.executable, "-c", starter, *argv], check=True, timeout=30)
    assert json.loads(exit_file.read_text())["ExitCode"] == 0
    assert ran.exists() is not marked
