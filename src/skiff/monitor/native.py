"""The native monitor (``cmonitor.c``): built once per source version with the host's C compiler into
``ROOT/bin``, then exec'ed in place of the Python monitor. ``binary()`` returns None when it cannot be built
(no compiler), and the engine falls back to :mod:`skiff.monitor.main`."""

from __future__ import annotations

import os
from pathlib import Path

from skiff.hashes import sha256

SOURCE = Path(__file__).with_name("cmonitor.c")


def binary(cache_dir: Path) -> str | None:
    if os.environ.get("SKIFF_MONITOR") == "python":
        return None
    try:
        src = SOURCE.read_bytes()
    except OSError:
        return None
    exe = Path(cache_dir) / f"skiff-monitor-{sha256(src).hexdigest()[:16]}"
    if exe.exists():
        return str(exe)
    import shutil  # the rest runs once per source version
    import subprocess

    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        return None
    exe.parent.mkdir(parents=True, exist_ok=True)
    tmp = exe.with_name(f".{exe.name}.{os.getpid()}.tmp")
    try:
        cp = subprocess.run([cc, "-O2", "-Wall", "-o", str(tmp), str(SOURCE)], capture_output=True)
        if cp.returncode != 0:
            return None
        try:  # it must run from here (a noexec ROOT cannot hold it): without arguments it exits 2
            if subprocess.run([str(tmp)], capture_output=True, timeout=10).returncode != 2:
                return None
        except (OSError, subprocess.SubprocessError):
            return None
        os.rename(tmp, exe)  # atomic: concurrent builders race harmlessly
    finally:
        tmp.unlink(missing_ok=True)
    return str(exe)
