"""`skiff image bootstrap`: the recipe pieces on a fake rootfs (fast), and the real debootstrap image (slow).

The real one runs debootstrap (~50 s) only with SKIFF_TEST_BOOTSTRAP=1; its result is cached outside the checkout
as /var/cache/skiff-test/debootstrap-<hash of the inputs>.tar (a `skiff save` archive) and reused when present.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from skiff.engine import bootstrap as bs

SUITE, PACKAGES = "bookworm", "python3,python3-pip,python3-venv"
CACHE_DIR = Path("/var/cache/skiff-test")


def test_host_mirror_parsing(tmp_path: Path) -> None:
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d" / "debian.sources").write_text(
        "Types: deb\nURIs: http://deb.debian.org/debian-security\nSuites: bookworm-security\n\n"
        "Types: deb\nURIs: http://mirror.example/debian/\nSuites: bookworm\n")
    assert bs.host_mirror(tmp_path) == "http://mirror.example/debian"
    (tmp_path / "sources.list").write_text("# c\ndeb [arch=amd64] http://other.example/debian bookworm main\n")
    assert bs.host_mirror(tmp_path) == "http://other.example/debian"
    assert bs.host_mirror(tmp_path / "none") == bs.DEFAULT_MIRROR


def test_slim_and_python_setup(tmp_path: Path) -> None:
    r = tmp_path / "rootfs"
    for d in ("usr/share/doc/pkg", "usr/share/man/man1", "var/lib/apt/lists", "usr/bin", "usr/lib/python3.11"):
        (r / d).mkdir(parents=True)
    (r / "usr/share/doc/pkg/copyright").write_text("c")
    (r / "usr/share/doc/pkg/changelog.gz").write_text("x")
    (r / "usr/share/man/man1/ls.1.gz").write_text("x")
    (r / "var/lib/apt/lists/deb.debian.org_Packages").write_text("x")
    (r / "usr/bin/python3").write_text("")
    (r / "usr/bin/pip3").write_text("")
    (r / "usr/lib/python3.11/EXTERNALLY-MANAGED").write_text("x")
    bs._slim(r)
    assert os.listdir(r / "usr/share/doc/pkg") == ["copyright"]
    assert not (r / "usr/share/man/man1").exists()
    assert os.listdir(r / "var/lib/apt/lists") == ["partial"]
    assert "path-exclude /usr/share/doc/*" in (r / "etc/dpkg/dpkg.cfg.d/docker").read_text()
    assert bs._python_setup(r)
    assert os.readlink(r / "usr/local/bin/python") == "/usr/bin/python3"
    assert os.readlink(r / "usr/local/bin/pip") == "/usr/bin/pip3"
    assert not (r / "usr/lib/python3.11/EXTERNALLY-MANAGED").exists()


def test_bad_options(skiff: Any) -> None:
    for args, msg in [(["--suite", "Bad Suite"], "invalid --suite"), (["--include", "ok,no pe"], "invalid package"),
                      (["--mirror", "ftp://x"], "invalid --mirror")]:
        cp = skiff("image", "bootstrap", "x:1", *args, check=False)
        assert cp.returncode == 125 and msg in cp.stderr.decode(), cp.stderr


def _cache_file() -> Path:
    key = json.dumps([SUITE, PACKAGES, bs.host_mirror(), bs.RECIPE_VERSION]).encode()
    return CACHE_DIR / f"debootstrap-{hashlib.sha256(key).hexdigest()[:16]}.tar"


@pytest.mark.slow
def test_python_base_image(skiff: Any, tmp_path: Path) -> None:
    cache = _cache_file()
    if cache.exists():
        skiff("load", "-i", str(cache))
    elif os.environ.get("SKIFF_TEST_BOOTSTRAP") == "1":
        skiff("image", "bootstrap", "python:3.11-slim", "--suite", SUITE, "--include", PACKAGES, timeout=900)
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        skiff("save", "-o", str(cache), "python:3.11-slim")
    else:
        pytest.skip(f"set SKIFF_TEST_BOOTSTRAP=1 to run debootstrap (cache {cache} is absent)")
    (obj,) = json.loads(skiff("image", "inspect", "python:3.11-slim").stdout)
    cfg = obj["Config"]
    assert cfg["Cmd"] == ["python3"] and "PATH=" + bs.PATH in cfg["Env"]
    assert cfg["Labels"]["org.skiff.bootstrap.suite"] == SUITE
    assert cfg["Labels"]["org.skiff.bootstrap.packages"] == PACKAGES
    hist = skiff("history", "--no-trunc", "python:3.11-slim").stdout.decode()
    assert "debootstrap --variant=minbase" in hist and PACKAGES in hist
    # Run the image's own python in an overlay rootfs made by the storage driver (chroot: no runtime needed).
    from skiff.engine.context import EngineContext

    store = EngineContext(skiff.root, skiff.runroot).store
    rec = store.resolve_image("python:3.11-slim")
    drv = store.driver
    rootfs = drv.create_rw("bootstrap-test", store.layer_dirs(rec))
    try:
        drv.mount("bootstrap-test")
        script = ("set -e; export PATH=" + bs.PATH + "; command -v python pip; python --version; pip --version; "
                  "test ! -e /usr/lib/python3.11/EXTERNALLY-MANAGED; ls /var/lib/apt/lists; "
                  "mkdir /tmp/p && cd /tmp/p && printf 'from setuptools import setup\\nsetup(name=\"x\","
                  "version=\"1\")\\n' > setup.py && pip install -q --no-index --no-build-isolation . 2>/dev/null"
                  " && pip show x")
        cp = subprocess.run(["/usr/sbin/chroot", str(rootfs), "/bin/sh", "-c", script], capture_output=True, text=True,
                            env={"HOME": "/root", "LANG": "C.UTF-8"}, timeout=120)
        assert cp.returncode == 0, cp.stderr
        assert "/usr/local/bin/python" in cp.stdout and "Python 3.11" in cp.stdout and "Name: x" in cp.stdout
        changed = {c.path for c in drv.diff("bootstrap-test")}
        assert "/usr/local/lib/python3.11/dist-packages/x-1.dist-info" in changed or any(
            "x-1" in p for p in changed), sorted(changed)[:20]
    finally:
        drv.remove("bootstrap-test")
