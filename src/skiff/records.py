"""``dataclasses`` for skiff, with the generated methods' byte-code cached between processes.

A ``@dataclass`` builds the source of ``__init__``, ``__setattr__``, ... and compiles it when the class is
created, at import: about half a millisecond per class, and a command such as ``skiff build`` creates over a
hundred classes before its first step. skiff's modules import ``dataclass``, ``field`` and ``replace`` from
here; on CPython 3.11/3.12 this module puts a memo in front of ``dataclasses._create_fn``'s compile step, keyed by
the full source text of the function (so an entry can only ever be the code that text compiles to: a stale
entry is never used, a missing one is compiled as before). ``python -m skiff.records`` (run by
scripts/setup.sh beside compileall) imports every skiff module and writes the memo next to the ``.pyc`` files;
nothing is written at run time. Elsewhere, or without the file, this is plain ``dataclasses``.
"""

from __future__ import annotations

import marshal
import os
import sys


class _InspectOnDemand:
    """Stands in for ``inspect`` inside ``dataclasses``, which imports it (with ast, dis, tokenize: ~10 ms here)
    only to write a signature into the ``__doc__`` of a class that has none; skiff's classes have docstrings.
    The real module is imported the first time ``dataclasses`` uses it. (importlib's LazyLoader does not help
    on 3.11: the ``import`` statement itself reads ``__spec__`` and so loads the module.)"""

    __spec__ = None  # what the import system looks at when the stand-in is in sys.modules

    def __getattr__(self, name: str) -> object:
        import inspect

        return getattr(inspect, name)


def _import_dataclasses() -> None:
    if "dataclasses" in sys.modules or "inspect" in sys.modules:
        return
    sys.modules["inspect"] = _InspectOnDemand()  # type: ignore[assignment]
    try:
        import dataclasses
    finally:
        del sys.modules["inspect"]  # any other importer gets the real module
    dataclasses.inspect = _InspectOnDemand()  # type: ignore[attr-defined]


_import_dataclasses()

import dataclasses as _dc  # noqa: E402  (after the stand-in)
from dataclasses import MISSING, asdict, dataclass, field, fields, is_dataclass, replace  # noqa: E402
from importlib._bootstrap_external import MAGIC_NUMBER  # noqa: E402

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["MISSING", "asdict", "dataclass", "field", "fields", "is_dataclass", "replace"]

CACHE = os.path.join(os.path.dirname(__file__), "__pycache__",
                     f"records.{sys.implementation.cache_tag}.fns")
# module name -> its methods' source text -> code. The file holds an index (module -> offset, length) and then
# each module's table marshalled on its own, so a command unmarshals only the tables of the modules it imports
# (all ~900 entries cost ~12 ms to load) and copies none of the others (the whole file is ~1 MB).
_HEADER = MAGIC_NUMBER + b"skiff.records 3\n"  # the interpreter's byte-code magic, then this file's format
_tables: dict[str, memoryview] = {}  # module -> its table, still marshalled (a view into the file's bytes)
_codes: dict[str, dict[str, Any]] = {}
_used: dict[str, dict[str, Any]] = {}  # what this process created: all that warm() keeps (stale texts drop out)


def _pack(blobs: dict[str, bytes]) -> bytes:
    """The file: header, the index's size and the index (module -> offset, length), then the tables."""
    index, offset = {}, 0
    for name, blob in blobs.items():
        index[name] = (offset, len(blob))
        offset += len(blob)
    head = marshal.dumps(index)
    return b"".join([_HEADER, len(head).to_bytes(8, "little"), head, *blobs.values()])


def _unpack(data: bytes) -> dict[str, memoryview]:
    """Each module's table (still marshalled) in a file made by :func:`_pack`; {} for any other content."""
    if not data.startswith(_HEADER):
        return {}
    view = memoryview(data)
    start = len(_HEADER) + 8
    size = int.from_bytes(view[len(_HEADER):start], "little")
    index = marshal.loads(view[start:start + size])
    base = start + size
    if not isinstance(index, dict):
        return {}
    return {k: view[base + v[0]:base + v[0] + v[1]] for k, v in index.items()
            if isinstance(k, str) and isinstance(v, tuple) and len(v) == 2 and all(isinstance(n, int) for n in v)
            and 0 <= v[0] and 0 <= v[1] and base + v[0] + v[1] <= len(data)}


def _load() -> None:
    try:
        with open(CACHE, "rb") as f:
            _tables.update(_unpack(f.read()))
    except (OSError, EOFError, ValueError, TypeError):
        pass


def _table(module: str) -> dict[str, Any]:
    table = _codes.get(module)
    if table is None:
        blob = _tables.pop(module, None)
        try:
            table = marshal.loads(blob) if blob is not None else {}
        except (EOFError, ValueError, TypeError):
            table = {}
        if not isinstance(table, dict):
            table = {}
        _codes[module] = table
    return table


def _create_fn(name: str, args: list[str], body: list[str], *, globals: dict[str, Any] | None = None,
               locals: dict[str, Any] | None = None, return_type: Any = MISSING) -> Any:
    """``dataclasses._create_fn`` of CPython 3.11/3.12, the same text, compiled once per text."""
    if locals is None:
        locals = {}
    return_annotation = ""
    if return_type is not MISSING:
        locals["_return_type"] = return_type
        return_annotation = "->_return_type"
    body_txt = "\n".join(f"  {b}" for b in body)
    txt = f" def {name}({','.join(args)}){return_annotation}:\n{body_txt}"
    txt = f"def __create_fn__({', '.join(locals.keys())}):\n{txt}\n return {name}"
    module = str((globals or {}).get("__name__", ""))
    table = _table(module)
    code = table.get(txt)
    if code is None:
        code = table[txt] = compile(txt, "<string>", "exec", dont_inherit=True)  # as exec(txt) in dataclasses
    _used.setdefault(module, {})[txt] = code
    ns: dict[str, Any] = {}
    exec(code, globals, ns)
    return ns["__create_fn__"](**locals)


def _patchable() -> bool:
    fn = getattr(_dc, "_create_fn", None)
    code = getattr(fn, "__code__", None)
    return (sys.implementation.name == "cpython" and sys.version_info[:2] in ((3, 11), (3, 12))
            and code is not None and code.co_varnames[:3] == ("name", "args", "body")
            and code.co_kwonlyargcount == 3)


if _patchable():
    _load()
    _dc._create_fn = _create_fn  # type: ignore[attr-defined]

from skiff import patterns  # noqa: E402  (dataclasses has loaded re: compiled patterns get their memo too)

patterns.install()


def warm() -> int:
    """Import every skiff module and write the memo (temp file, fsync, rename); -> the number of entries."""
    import importlib
    import pkgutil

    import skiff

    for mod in pkgutil.walk_packages(skiff.__path__, "skiff."):
        if mod.name.endswith("__main__"):
            continue
        try:
            importlib.import_module(mod.name)
        except Exception:  # an optional dependency missing: its classes are simply not cached
            continue
    if _dc._create_fn is not _create_fn:  # type: ignore[attr-defined]  # not CPython 3.11/3.12: nothing to cache
        return 0
    # Only what importing every module just used: entries for texts no longer in the code drop out.
    patterns.write_cache(CACHE, _pack({name: marshal.dumps(table) for name, table in _used.items() if table}))
    patterns.write()
    return sum(len(t) for t in _used.values())


if __name__ == "__main__":  # run as a script this file is __main__, not skiff.records: use the real module
    from skiff import patterns, records

    print(f"skiff.records: {records.warm()} generated methods cached in {records.CACHE}, "
          f"{len(patterns._used)} compiled patterns in {patterns.CACHE}")
