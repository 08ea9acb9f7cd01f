from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from skiff.store.lock import LockFile

PROBE = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
try:
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    print("free")
except BlockingIOError:
    print("held")
"""


def probe(path: Path) -> str:
    return subprocess.run([sys.executable, "-c", PROBE, str(path)], capture_output=True, text=True,
                          check=True).stdout.strip()


def test_exclusive_blocks_other_processes_and_is_reentrant(tmp_path: Path) -> None:
    lock = LockFile(tmp_path / "locks" / "images.lock")
    with lock.exclusive():
        with lock.exclusive(), lock.shared():
            assert probe(lock.path) == "held"
        assert probe(lock.path) == "held"
        assert str(__import__("os").getpid()) in lock.path.read_text()  # last writer recorded
    assert probe(lock.path) == "free"
    lock.close()


def test_lock_released_when_holder_dies(tmp_path: Path) -> None:
    path = tmp_path / "l.lock"
    path.touch()
    code = ("import fcntl,os,sys,signal; fd=os.open(sys.argv[1],os.O_RDWR); fcntl.flock(fd,fcntl.LOCK_EX); "
            "os.kill(os.getpid(), signal.SIGKILL)")
    subprocess.run([sys.executable, "-c", code, str(path)])
    assert probe(path) == "free"
