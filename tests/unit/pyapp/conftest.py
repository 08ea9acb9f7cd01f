from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "pyprojects"


@pytest.fixture
def sample(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A fresh copy of one sample project (tests write Dockerfiles into it)."""

    def _copy(name: str) -> Path:
        dst = tmp_path / name
        shutil.copytree(SAMPLES / name, dst)
        return dst

    return _copy


@pytest.fixture
def tree(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Write ``{relative path: text}`` into a fresh project folder and return it."""
    count = iter(range(1000))

    def _write(files: dict[str, str]) -> Path:
        root = tmp_path / f"proj{next(count)}"
        root.mkdir()
        for rel, text in files.items():
            p = root / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(text)
        return root

    return _write


@pytest.fixture
def netns():  # type: ignore[no-untyped-def]
    if os.geteuid() != 0:
        pytest.skip("creating a network namespace needs root")
    name = f"skiff-pyapp-{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)
