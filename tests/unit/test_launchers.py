"""skiff.launchers: the -S launchers run skiff with the same search path that site would have built."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from skiff import launchers


def test_launcher_runs_without_site(tmp_path: Path) -> None:
    written = launchers.write(str(tmp_path))
    assert sorted(Path(p).name for p in written) == ["skiff", "skiff-runtime"]
    text = (tmp_path / "skiff").read_text()
    assert text.startswith(f"#!{sys.executable} -S\n")
    out = subprocess.run([str(tmp_path / "skiff"), "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("skiff version ")
    # the same modules are found as through site: skiff itself and a third-party dependency
    probe = text.replace("from skiff.cli.main import main\nfrom skiff.launchers import finish\nfinish(main)\n",
                         "import skiff, httpx; print(skiff.__file__, 'site' in sys.modules, gc.isenabled())\n")
    (tmp_path / "probe").write_text(probe)
    (tmp_path / "probe").chmod(0o755)
    got = subprocess.run([str(tmp_path / "probe")], capture_output=True, text=True, check=True).stdout.split()
    import skiff

    assert got == [skiff.__file__, "False", "False"], probe
    bad = subprocess.run([str(tmp_path / "skiff"), "frobnicate"], capture_output=True, text=True)
    assert bad.returncode == 125 and 'unknown command: "frobnicate"' in bad.stderr


FINISH = """
import atexit, sys, threading, time
from skiff.launchers import finish

def main():
    atexit.register(lambda: print("atexit ran", flush=False))
    def late():
        time.sleep(0.2)
        print("thread done", flush=False)
    threading.Thread(target=late).start()
    sys.stdout.write("buffered ")  # not flushed: finish must flush it
    {exit}

finish(main)
"""


def _finish(tmp_path: Path, exit: str) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "finish_probe.py"
    script.write_text(FINISH.format(exit=exit))
    src = str(Path(launchers.__file__).resolve().parent.parent)
    return subprocess.run([sys.executable, "-S", str(script)], capture_output=True, text=True,
                          env={"PYTHONPATH": src}, timeout=30)


def test_finish_leaves_as_the_interpreter_would(tmp_path: Path) -> None:
    """finish(): the non-daemon thread is joined, atexit handlers run, buffered output is flushed, and the
    exit status is SystemExit's, as on the interpreter's own way out."""
    for exit, status, err in [("return", 0, ""), ("sys.exit(3)", 3, ""), ("sys.exit(None)", 0, ""),
                              ("sys.exit(300)", 300 & 0xFF, ""), ("sys.exit('bad thing')", 1, "bad thing\n")]:
        out = _finish(tmp_path, exit)
        assert (out.returncode, out.stdout, out.stderr) == (status, "buffered thread done\natexit ran\n", err), exit


def test_finish_lets_other_exceptions_take_the_normal_path(tmp_path: Path) -> None:
    out = _finish(tmp_path, "raise RuntimeError('boom')")
    assert out.returncode == 1 and "RuntimeError: boom" in out.stderr
    assert out.stdout == "buffered thread done\natexit ran\n"
