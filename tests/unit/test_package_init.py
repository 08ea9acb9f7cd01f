"""skiff/__init__: pathlib loads without urllib.parse (and ipaddress) when skiff is imported first."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[2] / "src")


def test_pathlib_without_urllib_parse() -> None:
    code = "\n".join([
        f"import sys; sys.path.insert(0, {SRC!r})",
        "import skiff, pathlib",
        "assert 'urllib.parse' not in sys.modules and 'ipaddress' not in sys.modules",
        "assert skiff._PathlibFinder not in sys.meta_path",
        "assert pathlib.Path('/a b/ü').as_uri() == 'file:///a%20b/%C3%BC'",
        "import urllib.parse",
        "assert type(urllib.parse).__name__ == 'module' and urllib.parse.quote('a b') == 'a%20b'",
        "print('ok')",
    ])
    out = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True)
    assert out.stdout == "ok\n", out.stderr
