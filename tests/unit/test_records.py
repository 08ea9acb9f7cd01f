"""skiff.records: dataclasses whose generated methods' byte-code is cached, and inspect loaded on demand."""

from __future__ import annotations

import importlib
import inspect
import marshal
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import skiff
from skiff import records
from skiff.records import dataclass, field, fields, replace

pytestmark = pytest.mark.skipif(records._dc._create_fn is not records._create_fn,  # type: ignore[attr-defined]
                                reason="not CPython 3.11/3.12: plain dataclasses")


def _make() -> type:
    @dataclass(frozen=True)
    class Point:
        """A point."""

        x: int
        y: int = 0
        tags: list[str] = field(default_factory=list)

    return Point


def test_cached_methods_behave_like_compiled_ones() -> None:
    first, second = _make(), _make()  # the second class is made from the in-memory table
    for cls in (first, second):
        p = cls(1, tags=["a"])
        assert (p.x, p.y, p.tags) == (1, 0, ["a"])
        assert p == cls(1, 0, ["a"]) and p != cls(2)
        assert repr(p).endswith("Point(x=1, y=0, tags=['a'])")
        assert replace(p, y=5).y == 5 and [f.name for f in fields(cls)] == ["x", "y", "tags"]
        with pytest.raises(AttributeError):
            p.x = 3  # type: ignore[misc]
        with pytest.raises(TypeError):
            cls()  # x is required
        assert str(inspect.signature(cls.__init__)) == "(self, x: 'int', y: 'int' = 0, tags: 'list[str]' = <factory>) -> None"
    assert second.__init__ is not first.__init__  # fresh functions (with their own defaults), shared byte-code


def test_the_memo_file_is_written_and_read_back(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(skiff.__file__).parent.parent)}
    script = ("import skiff.records as r, sys; r.CACHE = sys.argv[1]; r._tables.clear(); r._load(); "
              "assert 'skiff.oci.runtime' in r._tables; print(r.warm())")
    cache = tmp_path / "fns"
    stale = {"skiff.oci.runtime": marshal.dumps({"def gone(): pass": compile("0", "<string>", "exec")})}
    cache.write_bytes(records._pack(stale))  # a text the code no longer has
    out = subprocess.run([sys.executable, "-c", script, str(cache)], capture_output=True, text=True, env=env,
                         check=True)
    assert int(out.stdout) > 100 and cache.read_bytes().startswith(records._HEADER)
    tables = records._unpack(cache.read_bytes())
    assert "skiff.oci.runtime" in tables and "skiff.records" not in tables
    code = marshal.loads(tables["skiff.oci.runtime"])
    assert code and "def gone(): pass" not in code  # warm keeps only what was used


def test_a_damaged_or_foreign_memo_is_ignored(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(skiff.__file__).parent.parent)}
    probe = ("import skiff.records as r, sys; r._tables.clear(); r.CACHE = sys.argv[1]; r._load(); "
             "print(len(r._tables))")
    head = marshal.dumps({"m": (0, 10**6), 7: (0, 1), "n": "x", "o": (-5, 1)})  # out of range, foreign keys/values
    for content in (b"", b"garbage", records._HEADER + b"\xff\x00", b"\x00\x00\x00\x00" + marshal.dumps({"m": b"x"}),
                    records._HEADER + marshal.dumps({"m": 5, 7: b"x"}),
                    records._HEADER + len(head).to_bytes(8, "little") + head + b"xx"):
        bad = tmp_path / "bad"
        bad.write_bytes(content)
        out = subprocess.run([sys.executable, "-c", probe, str(bad)], capture_output=True, text=True, env=env,
                             check=True)
        assert out.stdout.strip() == "0", content
    # A table that is not valid marshal data falls back to compiling.
    records._tables["m"] = memoryview(b"not marshal")
    assert records._table("m") == {}


def test_hot_paths_do_not_import_inspect() -> None:
    code = ("import sys, skiff.runtime.cli, skiff.runtime.container, skiff.runtime.process, skiff.oci.runtime, "
            "skiff.oci.image, skiff.engine.containers, skiff.build.builder.executor; "
            "print('ast' in sys.modules, type(sys.modules.get('inspect')).__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(Path(skiff.__file__).parent.parent)})
    assert out.stdout.split() == ["False", "NoneType"], out.stdout


def test_every_skiff_dataclass_has_a_docstring() -> None:
    """A docless dataclass makes `dataclasses` load `inspect` at import (see skiff.records)."""
    missing = []
    for mod in pkgutil.walk_packages(skiff.__path__, "skiff."):
        if mod.name.endswith("__main__"):
            continue
        module = importlib.import_module(mod.name)
        for value in vars(module).values():
            if (isinstance(value, type) and records.is_dataclass(value) and value.__module__ == module.__name__
                    and (value.__doc__ or "").startswith(value.__name__ + "(")):
                missing.append(f"{module.__name__}.{value.__name__}")
    assert missing == []
