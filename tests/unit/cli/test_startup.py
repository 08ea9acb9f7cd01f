"""The start-up budget: `skiff --version` imports no heavy module."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("httpx", "rich", "pyroute2", "yaml", "zstandard", "isal", "json")


def test_version_imports_nothing_heavy() -> None:
    code = ("import sys; from skiff.cli import main; "
            "sys.argv=['skiff','--version'];\n"
            "try:\n main.main()\nexcept SystemExit: pass\n"
            f"print([m for m in {HEAVY!r} if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().endswith("[]"), out


def test_version_output_and_unknown_command() -> None:
    out = subprocess.run([sys.executable, "-m", "skiff.cli.main", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("skiff version ")
    bad = subprocess.run([sys.executable, "-m", "skiff.cli.main", "frobnicate"], capture_output=True, text=True)
    assert bad.returncode == 125
    assert 'unknown command: "frobnicate"' in bad.stderr
