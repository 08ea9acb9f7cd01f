"""The Python base image for tests, made once with `skiff image bootstrap` (~1-4 min) and cached outside the
checkout as a docker-archive keyed by its inputs (suite, packages, mirror and the bootstrap code itself)."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REF = "python:3.11-slim"
SUITE = "bookworm"
INCLUDE = "python3,python3-pip,python3-venv"
CACHE = Path(os.environ.get("SKIFF_TEST_CACHE", "/var/cache/skiff-test"))
_SRC = Path(__file__).resolve().parents[2] / "src" / "skiff" / "engine" / "bootstrap.py"


def _skiff() -> str:
    return shutil.which("skiff", path=str(Path(sys.executable).parent)) or "skiff"


def cache_key() -> str:
    from skiff.engine.bootstrap import host_mirror

    inputs = {"ref": REF, "suite": SUITE, "include": INCLUDE, "mirror": host_mirror(),
              "code": hashlib.sha256(_SRC.read_bytes()).hexdigest()}
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:16]


def python_base_archive() -> Path:
    """The cached archive, bootstrapping it first when missing (one process at a time, under a lock)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    tar = CACHE / f"python-3.11-slim-{cache_key()}.tar"
    if tar.exists():
        return tar
    with open(CACHE / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if tar.exists():
            return tar
        with tempfile.TemporaryDirectory(prefix="skiff-bootstrap-") as tmp:
            base = [_skiff(), "--root", f"{tmp}/root", "--runroot", f"{tmp}/run"]
            subprocess.run([*base, "image", "bootstrap", REF, "--suite", SUITE, "--include", INCLUDE],
                           check=True, capture_output=True, timeout=1500)
            part = tar.with_suffix(".tar.part")
            subprocess.run([*base, "save", "-o", str(part), REF], check=True, capture_output=True, timeout=600)
            os.rename(part, tar)
        for old in CACHE.glob("python-3.11-slim-*.tar"):
            if old != tar:
                old.unlink()
    return tar
