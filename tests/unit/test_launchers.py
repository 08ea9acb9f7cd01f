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
    probe = text.replace("from skiff.cli.main import main\nsys.exit(main())\n",
                         "import skiff, httpx; print(skiff.__file__, 'site' in sys.modules, gc.isenabled())\n")
    (tmp_path / "probe").write_text(probe)
    (tmp_path / "probe").chmod(0o755)
    got = subprocess.run([str(tmp_path / "probe")], capture_output=True, text=True, check=True).stdout.split()
    import skiff

    assert got == [skiff.__file__, "False", "False"]
    bad = subprocess.run([str(tmp_path / "skiff"), "frobnicate"], capture_output=True, text=True)
    assert bad.returncode == 125 and 'unknown command: "frobnicate"' in bad.stderr
