from __future__ import annotations

import shutil
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
