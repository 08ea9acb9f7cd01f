"""The Python base image for tests, made once with `skiff image bootstrap` (~1-4 min) and cached outside the
checkout as a docker-archive keyed by its inputs: suite, packages, mirror, and FORMAT, which is bumped whenever
`skiff image bootstrap` changes what it puts in the image (the bootstrap command has its own tests)."""

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
# The full (non-slim) image the seed's `FROM python:3.7` names, approximated for the benchmarks: the official
# python:3.11 is buildpack-deps:bookworm (compilers, headers, VCS tools) plus Python.
FULL_REF = "python:3.11"
FULL_INCLUDE = ("python3,python3-pip,python3-venv,python3-dev,build-essential,git,curl,wget,openssh-client,"
                "procps,unzip,xz-utils,libssl-dev,libffi-dev,zlib1g-dev,libbz2-dev,libsqlite3-dev,"
                "libreadline-dev,libncurses-dev,liblzma-dev,libxml2-dev,libxslt1-dev,libyaml-dev,libpq-dev,"
                "libjpeg-dev,libpng-dev")
CACHE = Path(os.environ.get("SKIFF_TEST_CACHE", "/var/cache/skiff-test"))
FORMAT = 1
_failed: list[str] = []


def _skiff() -> str:
    return shutil.which("skiff", path=str(Path(sys.executable).parent)) or "skiff"


def cache_key(ref: str = REF, include: str = INCLUDE) -> str:
    from skiff.engine.bootstrap import host_mirror

    inputs = {"ref": ref, "suite": SUITE, "include": include, "mirror": host_mirror(), "format": FORMAT}
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:16]


def python_base_archive(ref: str = REF, include: str = INCLUDE) -> Path:
    """The cached archive, bootstrapping it first when missing (one process at a time, under a lock)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    stem = ref.replace(":", "-")
    tar = CACHE / f"{stem}-{cache_key(ref, include)}.tar"
    if tar.exists():
        return tar
    if _failed:  # one attempt per test session: a failed bootstrap is not retried by every test
        raise RuntimeError(f"bootstrapping {ref} failed earlier in this session: {_failed[0]}")
    with open(CACHE / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if tar.exists():
            return tar
        with tempfile.TemporaryDirectory(prefix="skiff-bootstrap-") as tmp:
            base = [_skiff(), "--root", f"{tmp}/root", "--runroot", f"{tmp}/run"]
            r = subprocess.run([*base, "image", "bootstrap", ref, "--suite", SUITE, "--include", include],
                               capture_output=True, text=True, timeout=1500)
            if r.returncode != 0:
                _failed.append(r.stderr.strip()[-500:])
                raise RuntimeError(f"skiff image bootstrap {ref} failed: {r.stderr.strip()[-500:]}")
            part = tar.with_suffix(".tar.part")
            subprocess.run([*base, "save", "-o", str(part), ref], check=True, capture_output=True, timeout=600)
            os.rename(part, tar)
        # keep the three newest keys (several checkouts of different ages may share this cache)
        for old in sorted(CACHE.glob(f"{stem}-*.tar"), key=lambda p: p.stat().st_mtime)[:-3]:
            old.unlink()
    return tar
