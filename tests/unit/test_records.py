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


FINGERPRINT = r"""
import importlib, json, pkgutil, re, sys, types
import skiff
from skiff import records
OWN = sorted(records._OWN) + ["__doc__"]

def show(v):
    if isinstance(v, (type, types.FunctionType, types.BuiltinFunctionType)):
        return "<" + getattr(v, "__qualname__", repr(v)) + ">"
    return re.sub(" at 0x[0-9a-f]+", "", repr(v))

def function(fn):
    code = fn.__code__
    consts = [c if not isinstance(c, types.CodeType) else c.co_name for c in code.co_consts]
    cells = [show(c.cell_contents) for c in (fn.__closure__ or ())]
    wrapped = getattr(fn, "__wrapped__", None)
    return [fn.__qualname__, fn.__name__, code.co_code.hex(), repr(consts), code.co_names, code.co_varnames,
            code.co_freevars, cells, show(fn.__defaults__), show(fn.__kwdefaults__), repr(fn.__annotations__),
            function(wrapped) if wrapped is not None else None]

out = {}
for mod in pkgutil.walk_packages(skiff.__path__, "skiff."):
    if mod.name.endswith("__main__"):
        continue
    try:
        module = importlib.import_module(mod.name)
    except Exception:
        continue
    for cls in vars(module).values():
        if not (isinstance(cls, type) and "__dataclass_fields__" in cls.__dict__ and cls.__module__ == mod.name):
            continue
        fp = {"params": repr(cls.__dataclass_params__), "mro": [c.__qualname__ for c in cls.__mro__]}
        fp["fields"] = [[f.name, show(f.type), show(f.default), show(f.default_factory), f.init, f.repr, f.hash,
                         f.compare, f.kw_only, repr(dict(f.metadata)), str(f._field_type)]
                        for f in cls.__dataclass_fields__.values()]
        for name in OWN:
            v = cls.__dict__.get(name, "<absent>")
            fp[name] = function(v) if isinstance(v, types.FunctionType) else show(v)
        fp["attrs"] = {n: show(cls.__dict__.get(n, "<absent>")) for n in cls.__dataclass_fields__}
        fp["dict"] = sorted(cls.__dict__)
        out[f"{mod.name}.{cls.__qualname__}"] = fp
print(json.dumps({"replayed": sum(len(t.get(records.RECIPES, {})) for t in records._used.values()), "classes": out}))
"""


@pytest.mark.skipif(not records._REPLAYABLE, reason="class recipes are replayed on CPython 3.11 only")
def test_replayed_classes_are_the_classes_dataclasses_makes() -> None:
    """Every skiff dataclass, made from the memo's recipes and made by dataclasses itself, in two fresh
    interpreters: the same fields, parameters, class attributes and generated methods (byte-code, constants,
    names, closures, defaults, qualnames)."""
    import json

    env = {**os.environ, "PYTHONPATH": str(Path(skiff.__file__).parent.parent)}
    got = {}
    for off in ("", "1"):
        out = subprocess.run([sys.executable, "-c", FINGERPRINT], capture_output=True, text=True, check=True,
                             env={**env, "SKIFF_NO_RECIPES": off})
        got[off] = json.loads(out.stdout)
    assert got[""]["replayed"] > 150  # the memo written at set-up holds the recipes (scripts/setup.sh)
    fast, slow = got[""]["classes"], got["1"]["classes"]
    assert len(fast) > 170 and fast.keys() == slow.keys()
    for name in fast:
        assert fast[name] == slow[name], name


def test_a_recipe_that_does_not_fit_is_not_used() -> None:
    """A class whose fields differ from the recorded ones (an edited class under an old memo) is made by
    dataclasses, and so is one outside the plain kind."""
    @dataclass(frozen=True)
    class Probe:
        """v1."""

        a: int
        b: str = "x"

    module = records._table(__name__)
    recipes = module.setdefault(records.RECIPES, {})
    recipe = records._used[__name__][records.RECIPES][Probe.__qualname__]
    recipes[Probe.__qualname__] = recipe

    @dataclass(frozen=True)  # same qualname, replayed from the recipe
    class Probe:  # type: ignore[no-redef]
        """v1 again."""

        a: int
        b: str = "x"

    assert Probe(1) == Probe(1, "x") and repr(Probe(2)).endswith("Probe(a=2, b='x')") and hash(Probe(1))

    @dataclass(frozen=True)  # a field more: the recipe's key differs, dataclasses makes it
    class Probe:  # type: ignore[no-redef]
        """v2."""

        a: int
        b: str = "x"
        c: list[int] = field(default_factory=list)

    p = Probe(1)
    assert (p.a, p.b, p.c) == (1, "x", []) and [f.name for f in fields(Probe)] == ["a", "b", "c"]
    with pytest.raises(ValueError, match="mutable default"):
        @dataclass
        class Bad:
            """A mutable default: dataclasses' own error."""

            x: list[int] = []  # noqa: RUF008
