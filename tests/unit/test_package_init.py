"""skiff/__init__: pathlib loads without urllib.parse (and ipaddress) when skiff is imported first."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[2] / "src")


def test_pathlib_without_urllib_parse() -> None:
    code = (
        "import sys; sys.path.insert(0, %r)\n"
        "import skiff, pathlib\n"
        "assert 'urllib.parse' not in sys.modules and 'ipaddress' not in sys.modules\n"
        "assert not any(type(f).__name__ == '_PathlibFinder' or f is skiff._PathlibFinder for f in sys.meta_path)\n"
        "assert pathlib.Path('/a b/ü').as_uri() == 'file:///a%%20b/%%C3%%BC'\n"
        "import urllib.parse\n"
        "assert type(urllib.parse).__name__ == 'module' and urllib.parse.quote('a b') == 'a%%20b'\n"
        "print('ok')\n" % SRC)
    out = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True)
    assert out.stdout == "ok\n", out.stderr
