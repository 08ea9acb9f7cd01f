"""The real `skiff` CLI of this checkout's venv, with a test store's --root/--runroot."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

VENV_BIN = Path(sys.executable).parent


def skiff_cmd(root: Path, runroot: Path, *args: str) -> list[str]:
    exe = shutil.which("skiff", path=str(VENV_BIN)) or "skiff"
    return [exe, "--root", str(root), "--runroot", str(runroot), *args]
