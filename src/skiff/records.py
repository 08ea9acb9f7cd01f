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

import abc as _abc  # noqa: E402
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
    if _capture is not None:
        _capture.append((name, code, tuple(locals)))
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


# -- whole classes ------------------------------------------------------------------------------------------
# Beyond the methods' compiling, ``dataclasses`` spends ~0.1 ms per class building their source text and
# inspecting annotations: ~8 ms of a `skiff run`, which creates ~60 classes. For a class of the plain kind
# skiff writes (annotations naming no ClassVar, InitVar or KW_ONLY; no methods of its own that
# dataclasses would generate; no __post_init__, slots or unsafe_hash), ``dataclass`` below collects the fields
# as dataclasses does and, when the memo holds a recipe recorded for exactly these fields and parameters (the
# key), makes the methods from the recorded code and local names without building any text. Anything else,
# or a key that differs, goes through dataclasses itself, which records the recipe for warm(). A test
# compares every skiff dataclass made both ways (tests/unit/test_records.py).
RECIPES = "\x00classes"  # the entry of a module's table that holds its classes' recipes
_capture: list[tuple[str, Any, tuple[str, ...]]] | None = None  # _create_fn's calls while a class is recorded
_CONSTANTS: dict[str, Any] = {}
_REPLAYABLE = False


def _setup_replay() -> bool:
    need = ("_process_class", "_recursive_repr", "_DataclassParams", "_FIELD", "_HAS_DEFAULT_FACTORY",
            "_fields_in_init_order", "FrozenInstanceError")
    code = getattr(getattr(_dc, "_process_class", None), "__code__", None)
    if (sys.version_info[:2] != (3, 11) or os.environ.get("SKIFF_NO_RECIPES") or _dc._create_fn is not _create_fn  # type: ignore[attr-defined]
            or not all(hasattr(_dc, n) for n in need) or code is None
            or code.co_varnames[:11] != ("cls", "init", "repr", "eq", "order", "unsafe_hash", "frozen",
                                         "match_args", "kw_only", "slots", "weakref_slot")):
        return False
    _CONSTANTS.update({"MISSING": MISSING, "_HAS_DEFAULT_FACTORY": _dc._HAS_DEFAULT_FACTORY,  # type: ignore[attr-defined]
                       "__dataclass_builtins_object__": object, "_return_type": None,
                       "FrozenInstanceError": _dc.FrozenInstanceError})
    return True


_REPLAYABLE = _setup_replay()
_OWN = frozenset(("__init__", "__repr__", "__eq__", "__hash__", "__setattr__", "__delattr__", "__lt__", "__le__",
                  "__gt__", "__ge__", "__match_args__", "__slots__"))


def _prepare(cls: type, params: tuple[bool, ...]) -> tuple[dict[str, Any], tuple[Any, ...]] | None:
    """The fields dataclasses would collect for ``cls`` (its ``_get_field`` steps for plain fields) and the
    recipe key, or None for a class outside the plain kind."""
    init, _repr, eq, order, unsafe_hash, frozen, _match_args, kw_only, slots, weakref_slot = params
    if not init or unsafe_hash or slots or weakref_slot or (order and not eq):
        return None
    d = cls.__dict__
    if not d.get("__doc__") or not _OWN.isdisjoint(d) or hasattr(cls, "__post_init__"):
        return None
    fields: dict[str, Any] = {}
    frozen_base = None
    for b in cls.__mro__[-1:0:-1]:
        base_fields = getattr(b, "__dataclass_fields__", None)
        if base_fields is not None:
            fields.update((f.name, f) for f in base_fields.values())
            frozen_base = bool(frozen_base) or b.__dataclass_params__.frozen  # type: ignore[attr-defined]
    if frozen_base is not None and frozen_base != frozen:
        return None  # dataclasses raises the error
    annotations = d.get("__annotations__", {})
    typing = sys.modules.get("typing")
    for name, ann in annotations.items():
        if type(ann) is str:
            if "ClassVar" in ann or "InitVar" in ann or "KW_ONLY" in ann:
                return None
        elif (ann is _dc.KW_ONLY or ann is _dc.InitVar or isinstance(ann, _dc.InitVar)
              or (typing is not None and (ann is typing.ClassVar or getattr(ann, "__origin__", None) is typing.ClassVar))):
            return None
        default = getattr(cls, name, MISSING)
        if type(default).__name__ == "member_descriptor":  # a __slots__ entry of a base
            return None
        if isinstance(default, _dc.Field):
            f = default
        else:
            f = field(default=default)  # type: ignore[arg-type]
        if f.default is not MISSING and f.default.__class__.__hash__ is None:
            return None  # a mutable default: dataclasses raises the error
        f.name, f.type, f._field_type = name, ann, _dc._FIELD  # type: ignore[attr-defined]
        if f.kw_only is MISSING:
            f.kw_only = kw_only
        fields[name] = f
    if any(isinstance(v, _dc.Field) and n not in annotations for n, v in d.items()):
        return None
    if any(f._field_type is not _dc._FIELD for f in fields.values()):  # type: ignore[attr-defined]
        return None
    # what the generated methods' text depends on (the types are locals of __init__, not part of its text)
    key = (params, tuple((f.name, f.init, f.repr, f.hash, f.compare, f.kw_only, f.default is not MISSING,
                          f.default_factory is not MISSING) for f in fields.values()))
    return fields, key


def _locals(cls: type, fields: dict[str, Any]) -> dict[str, Any]:
    """Every local name a generated method of ``cls`` may take (_create_fn's ``locals``), with its value."""
    env = dict(_CONSTANTS, cls=cls)
    for name, f in fields.items():
        env["_type_" + name] = f.type
        env["_dflt_" + name] = f.default_factory if f.default_factory is not MISSING else f.default
    return env


def _replay(cls: type, params: tuple[bool, ...], fields: dict[str, Any], key: tuple[Any, ...]) -> bool:
    module = sys.modules.get(cls.__module__)
    if module is None:
        return False
    recipes = _table(cls.__module__).get(RECIPES)
    recipe = recipes.get(cls.__qualname__) if isinstance(recipes, dict) else None
    if not isinstance(recipe, tuple) or len(recipe) != 2 or recipe[0] != key:
        return False
    globals = vars(module)
    env = _locals(cls, fields)
    made = []
    try:
        for name, code, local_names in recipe[1]:
            ns: dict[str, Any] = {}
            exec(code, globals, ns)
            fn = ns["__create_fn__"](**{n: env[n] for n in local_names})
            if name == "__repr__":
                fn = _dc._recursive_repr(fn)  # type: ignore[attr-defined]
            made.append((name, fn))
    except (KeyError, TypeError, ValueError):  # a recipe that does not fit: dataclasses makes the class
        return False
    init, repr_, eq, order, unsafe_hash, frozen, match_args, _kw_only, _slots, _weakref_slot = params
    cls.__dataclass_params__ = _dc._DataclassParams(init, repr_, eq, order, unsafe_hash, frozen)  # type: ignore
    for name in cls.__dict__.get("__annotations__", {}):  # noqa: RUF063  (inspect: see above)
        if isinstance(getattr(cls, name, None), _dc.Field):
            f = fields[name]
            if f.default is MISSING:
                delattr(cls, name)
            else:
                setattr(cls, name, f.default)
    cls.__dataclass_fields__ = fields  # type: ignore[attr-defined]
    for name, fn in made:
        fn.__qualname__ = f"{cls.__qualname__}.{fn.__name__}"
        setattr(cls, name, fn)
    if eq and not frozen:
        cls.__hash__ = None  # type: ignore[assignment]  # dataclasses' _hash_set_none
    if match_args:
        std, _ = _dc._fields_in_init_order([f for f in fields.values()])  # type: ignore[attr-defined]
        cls.__match_args__ = tuple(f.name for f in std)  # type: ignore[attr-defined,misc]
    _abc.update_abstractmethods(cls)
    _used.setdefault(cls.__module__, {}).setdefault(RECIPES, {})[cls.__qualname__] = recipe
    return True


def _record(cls: type, params: tuple[bool, ...], key: tuple[Any, ...] | None) -> type:
    global _capture
    init, repr_, eq, order, unsafe_hash, frozen, match_args, kw_only, slots, weakref_slot = params
    outer, _capture = _capture, []
    try:
        made: type = _dc.dataclass(cls, init=init, repr=repr_, eq=eq, order=order, unsafe_hash=unsafe_hash,
                             frozen=frozen, match_args=match_args, kw_only=kw_only, slots=slots,
                             weakref_slot=weakref_slot)
        captured = _capture
    finally:
        _capture = outer
    if key is not None and made is cls:
        _used.setdefault(cls.__module__, {}).setdefault(RECIPES, {})[cls.__qualname__] = (key, tuple(captured))
    return made


def _dataclass(cls: type | None = None, /, *, init: bool = True, repr: bool = True, eq: bool = True,
               order: bool = False, unsafe_hash: bool = False, frozen: bool = False, match_args: bool = True,
               kw_only: bool = False, slots: bool = False, weakref_slot: bool = False) -> Any:
    """``dataclasses.dataclass``, with the recipe replay described above."""

    def wrap(cls: type) -> type:
        params = (init, repr, eq, order, unsafe_hash, frozen, match_args, kw_only, slots, weakref_slot)
        prepared = _prepare(cls, params) if _REPLAYABLE else None
        if prepared is not None and _replay(cls, params, *prepared):
            return cls
        return _record(cls, params, prepared[1] if prepared is not None else None)

    return wrap if cls is None else wrap(cls)


if not TYPE_CHECKING:  # mypy keeps seeing dataclasses.dataclass
    dataclass = _dataclass

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
    from skiff import modpack

    modpack.write()  # last: every module is imported now
    return sum(len(t) - (RECIPES in t) + len(t.get(RECIPES, ())) for t in _used.values())


if __name__ == "__main__":  # run as a script this file is __main__, not skiff.records: use the real module
    from skiff import modpack, patterns, records

    print(f"skiff.records: {records.warm()} generated methods and classes cached in {records.CACHE}, "
          f"{len(patterns._used)} compiled patterns in {patterns.CACHE}, modules packed in {modpack.CACHE}")
