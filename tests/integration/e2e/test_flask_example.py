"""The README's main job, end to end: the seed's Flask example built on the bootstrapped Python base (pip
reaching PyPI from inside the build), run with a published port, answering on 127.0.0.1; then the cache
behaviour the seed promises (no-op rebuild all cached, app change keeps the pip layer)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from helpers.http import free_port as _free_port
from helpers.http import get_when_up as _get

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "flask-hello"
HOST_CA = "/etc/ssl/certs/ca-certificates.crt"

pytestmark = pytest.mark.slow


def test_flask_example_builds_runs_and_caches(skiff, python_base, tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = tmp_path / "flask-hello"
    shutil.copytree(EXAMPLE, app)
    cold = skiff("build", "--ca-bundle", HOST_CA, "-t", "flask-hello", str(app), timeout=1200)
    assert "Successfully installed" in cold.stderr.decode() or "Flask" in cold.stderr.decode()
    port = _free_port()
    cid = skiff("run", "-d", "-p", f"127.0.0.1:{port}:8000", "flask-hello").stdout.decode().strip()
    try:
        assert _get(f"http://127.0.0.1:{port}/", time.monotonic() + 60) == "Hello, World!"
    finally:
        skiff("rm", "-f", cid, check=False)
    noop = skiff("build", "--ca-bundle", HOST_CA, "-t", "flask-hello", str(app)).stderr.decode()
    assert noop.count("CACHED") >= 4 and "Collecting" not in noop
    (app / "app.py").write_text((app / "app.py").read_text().replace("Hello, World!", "Hello again!"))
    change = skiff("build", "--ca-bundle", HOST_CA, "-t", "flask-hello", str(app)).stderr.decode()
    assert "Collecting" not in change  # the pip layer came from the cache
    port2 = _free_port()
    cid2 = skiff("run", "-d", "-p", f"127.0.0.1:{port2}:8000", "flask-hello").stdout.decode().strip()
    try:
        assert _get(f"http://127.0.0.1:{port2}/", time.monotonic() + 60) == "Hello again!"
    finally:
        skiff("rm", "-f", cid2, check=False)
