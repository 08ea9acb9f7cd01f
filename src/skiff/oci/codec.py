"""One codec between frozen dataclasses and JSON.

Every OCI/Docker structure is a frozen dataclass whose fields declare their JSON name with :func:`jfield`.
Rules:

* a field is omitted when it is ``None`` or an empty list/dict, unless declared with ``keep_empty=True``;
* unknown JSON members are kept in a field declared with ``jextra()`` (a ``dict[str, Any]``) and written back;
* :func:`canonical` gives deterministic bytes (sorted keys, no spaces), used for anything skiff digests.

Raw dicts stop here: the rest of skiff handles dataclasses.

Speed: each type is compiled once into a converter (a closure over its field table, with the type dispatch
decided at compile time), so decoding does no ``typing`` introspection per value. Converters raise
:class:`_Bad` carrying the JSON path segments below them; only the public entry points format the path, so the
happy path builds no path strings.
"""

from __future__ import annotations

import _thread
import builtins
import enum
import json
import sys
import types

from skiff import records
from skiff.errors import SkiffError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (~2 ms of every command)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar

    T = TypeVar("T")
    _Decode = Callable[[Any], Any]
    _Encode = Callable[[Any], Any]


class AnyValue:
    """What a field annotated ``Any`` decodes with (no conversion) when its module imports ``typing.Any`` for
    type checkers only; ``typing.Any`` itself means the same."""


def _is_any(tp: object) -> bool:
    if tp is AnyValue:
        return True
    typing = sys.modules.get("typing")
    return typing is not None and tp is typing.Any
_DECODERS: dict[Any, _Decode] = {}
_ENCODERS: dict[type, _Encode] = {}
_SCALARS = frozenset({str, int, float, bool, type(None)})


class CodecError(SkiffError):
    """JSON that does not fit the structure it is read into; the message names the JSON path."""


class _Bad(Exception):
    """A value that does not fit, with the path below the converter that raised it (innermost first)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.trail: list[str] = []

    def at(self, path: str) -> CodecError:
        return CodecError(f"{path}{''.join(reversed(self.trail))}: {self.message}")


def jfield(name: str, *, default: Any = records.MISSING, default_factory: Any = records.MISSING,
           keep_empty: bool = False) -> Any:
    """A dataclass field stored under the JSON member ``name``."""
    meta = {"json": name, "keep_empty": keep_empty}
    if default_factory is not records.MISSING:
        return records.field(default_factory=default_factory, metadata=meta)
    return records.field(default=default, metadata=meta)


def jextra() -> Any:
    """The field that keeps unknown JSON members (round-tripped as they were)."""
    return records.field(default_factory=dict, metadata={"extra": True}, compare=False)


class JSONRecord:
    """Base for codec types declared ``@dataclass(frozen=True, eq=False, repr=False)``: the ``__eq__``,
    ``__hash__`` and ``__repr__`` that dataclasses would generate (same results), shared instead of compiled
    per class. dataclasses compiles each generated method from source; the runtime-spec types are created on
    every ``skiff-runtime`` start, where those three methods were a third of the module's import time."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        key = _record_keys(type(self))[0]
        return key(self) == key(other)

    def __hash__(self) -> int:
        return hash(_record_keys(type(self))[0](self))

    def __repr__(self) -> str:
        guard = (id(self), _thread.get_ident())
        if guard in _REPR_ACTIVE:
            return "..."
        _REPR_ACTIVE.add(guard)
        try:
            names = _record_keys(type(self))[1]
            inner = ", ".join(f"{n}={getattr(self, n)!r}" for n in names)
        finally:
            _REPR_ACTIVE.discard(guard)
        return f"{type(self).__qualname__}({inner})"


_REPR_ACTIVE: set[tuple[int, int]] = set()
_RECORD_KEYS: dict[type, tuple[Callable[[Any], tuple[Any, ...]], tuple[str, ...]]] = {}


def _record_keys(cls: type) -> tuple[Callable[[Any], tuple[Any, ...]], tuple[str, ...]]:
    """(the tuple dataclasses compares and hashes, the field names its repr shows) for ``cls``."""
    keys = _RECORD_KEYS.get(cls)
    if keys is None:
        fields = records.fields(cls)
        compared = tuple(f.name for f in fields if f.compare)

        def key(obj: Any) -> tuple[Any, ...]:
            return tuple(getattr(obj, n) for n in compared)

        keys = (key, tuple(f.name for f in fields if f.repr))
        _RECORD_KEYS[cls] = keys
    return keys


# ---- encoding -------------------------------------------------------------------------------------------

def to_obj(value: Any) -> Any:
    """Dataclass (or list/dict of them) -> plain JSON-able Python objects."""
    t = type(value)
    if t in _SCALARS:
        return value
    enc = _ENCODERS.get(t)
    if enc is not None:
        return enc(value)
    if records.is_dataclass(t) and not isinstance(value, type):
        return _encoder(t)(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        return [to_obj(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_obj(v) for k, v in value.items()}
    return value


def _encoder(cls: type) -> _Encode:
    table = [(f.name, f.metadata.get("json", f.name), bool(f.metadata.get("keep_empty")),
              bool(f.metadata.get("extra"))) for f in records.fields(cls)]

    def encode(value: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for attr, name, keep_empty, extra in table:
            v = getattr(value, attr)
            if extra:
                for k, ev in v.items():
                    out.setdefault(k, ev)
                continue
            if v is None:
                continue
            t = type(v)
            if t in _SCALARS:
                out[name] = v
            elif not keep_empty and isinstance(v, (list, dict, tuple)) and not v:
                continue
            else:
                out[name] = to_obj(v)
        return out

    _ENCODERS[cls] = encode
    return encode


# ---- decoding -------------------------------------------------------------------------------------------

def _decoder(tp: Any) -> _Decode:
    """The converter for type ``tp`` (compiled once; dataclasses register before their fields compile, so
    recursive structures work)."""
    try:
        return _DECODERS[tp]
    except (KeyError, TypeError):  # TypeError: an unhashable annotation, compiled every time
        pass
    if isinstance(tp, type) and records.is_dataclass(tp):
        return _dataclass_decoder(tp)
    dec = _compile(tp)
    try:
        _DECODERS[tp] = dec
    except TypeError:
        pass
    return dec


def _compile(tp: Any) -> _Decode:
    if _is_any(tp):
        return _identity
    # typing.get_origin and get_args for the forms fields use (X | Y, list[X], dict[K, V], and typing's own
    # Optional and List when a module uses them), without importing typing
    origin = getattr(tp, "__origin__", None)
    args: tuple[Any, ...] = tuple(getattr(tp, "__args__", ()))
    typing = sys.modules.get("typing")
    if isinstance(tp, types.UnionType) or (typing is not None and origin is typing.Union):
        return _union([_decoder(a) for a in args if a is not type(None)], tp)
    if origin in (list, tuple):
        (item,) = args[:1] or (AnyValue,)
        return _sequence(_decoder(item), item, origin)
    if origin is dict:
        vt = args[1] if len(args) == 2 else AnyValue
        return _mapping(_decoder(vt), vt)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return _enum(tp)
    if tp is str or tp is int or tp is bool or tp is float:
        return _SCALAR_DECODERS[tp]
    if isinstance(tp, type):
        return _constructed(tp)
    return _identity


def _identity(data: Any) -> Any:
    return data


def _str(data: Any) -> Any:
    if not isinstance(data, str):
        raise _Bad(f"expected a string, got {data!r}")
    return data


def _int(data: Any) -> Any:
    if isinstance(data, bool) or not isinstance(data, int):
        raise _Bad(f"expected an integer, got {data!r}")
    return data


def _bool(data: Any) -> Any:
    if not isinstance(data, bool):
        raise _Bad(f"expected true or false, got {data!r}")
    return data


def _float(data: Any) -> Any:
    if isinstance(data, bool) or not isinstance(data, (int, float)):
        raise _Bad(f"expected a number, got {data!r}")
    return float(data)


_SCALAR_DECODERS: dict[type, _Decode] = {str: _str, int: _int, bool: _bool, float: _float}


def _union(alternatives: list[_Decode], tp: Any) -> _Decode:
    if len(alternatives) == 1:
        (only,) = alternatives

        def optional(data: Any) -> Any:
            return None if data is None else only(data)
        return optional

    def union(data: Any) -> Any:
        if data is None:
            return None
        for alt in alternatives:
            try:
                return alt(data)
            except (_Bad, CodecError):
                continue
        raise _Bad(f"unexpected value {data!r}")
    return union


def _sequence(item: _Decode, item_tp: Any, origin: type) -> _Decode:
    empty: Any = [] if origin is list else ()
    plain = type(item_tp) is type and item_tp in (str, int, bool)  # checked in C, copied as is

    def sequence(data: Any) -> Any:
        if data is None:
            return list(empty) if origin is list else empty
        if not isinstance(data, list):
            raise _Bad(f"expected an array, got {type(data).__name__}")
        if plain and all(type(v) is item_tp for v in data):
            return list(data) if origin is list else tuple(data)
        items: list[Any] = []
        for i, v in enumerate(data):
            try:
                items.append(item(v))
            except _Bad as e:
                e.trail.append(f"[{i}]")
                raise
        return items if origin is list else tuple(items)
    return sequence


def _mapping(value: _Decode, value_tp: Any) -> _Decode:
    plain = _is_any(value_tp) or value_tp is str

    def mapping(data: Any) -> Any:
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise _Bad(f"expected an object, got {type(data).__name__}")
        if plain and (_is_any(value_tp) or all(type(v) is str for v in data.values())):
            return dict(data)
        out: dict[str, Any] = {}
        for k, v in data.items():
            try:
                out[k] = value(v)
            except _Bad as e:
                e.trail.append(f".{k}")
                raise
        return out
    return mapping


def _enum(tp: type[enum.Enum]) -> _Decode:
    def decode(data: Any) -> Any:
        try:
            return tp(data)
        except ValueError:
            raise _Bad(f"unknown value {data!r}") from None
    return decode


def _constructed(tp: type) -> _Decode:
    def decode(data: Any) -> Any:
        if isinstance(data, tp):
            return data
        try:
            return tp(data)
        except (TypeError, ValueError) as e:
            raise _Bad(str(e)) from None
    return decode


def _dataclass_decoder(cls: type) -> _Decode:
    fields: list[tuple[str, str, bool]] = []  # (attribute, JSON name, required)
    known: set[str] = set()
    extra_field: str | None = None
    for f in records.fields(cls):
        if f.metadata.get("extra"):
            extra_field = f.name
            continue
        name = f.metadata.get("json", f.name)
        known.add(name)
        required = f.default is records.MISSING and f.default_factory is records.MISSING
        fields.append((f.name, name, required))
    converters: dict[str, _Decode] = {}

    def decode(data: Any) -> Any:
        if not isinstance(data, dict):
            raise _Bad(f"expected an object, got {type(data).__name__}")
        kwargs: dict[str, Any] = {}
        for attr, name, required in fields:
            if name in data:
                try:
                    kwargs[attr] = converters[attr](data[name])
                except _Bad as e:
                    e.trail.append(f".{name}")
                    raise
            elif required:
                missing = _Bad("required field is missing")
                missing.trail.append(f".{name}")
                raise missing
        if extra_field is not None:
            kwargs[extra_field] = {k: v for k, v in data.items() if k not in known}
        return cls(**kwargs)

    _DECODERS[cls] = decode  # before compiling the fields: a field may refer back to cls
    try:
        types_ = {f.name: f.type for f in records.fields(cls)}
        if any(isinstance(t, str) for t in types_.values()):  # postponed annotations: resolve them once
            types_ = _field_types(cls)
        for attr, _, _ in fields:
            converters[attr] = _decoder(types_[attr])
    except BaseException:
        del _DECODERS[cls]
        raise
    return decode


_ANNOTATIONS: dict[str, types.CodeType] = {}  # annotation text -> its compiled expression (the fallback)


def _split(text: str, sep: str) -> list[str]:
    """``text`` split at ``sep`` outside brackets."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return parts


def _annotation(text: str, namespace: dict[str, Any]) -> Any:
    """What ``eval(text, namespace)`` gives for the annotation forms fields use (a name, ``A | B``, ``A[B, C]``,
    ``...``), without compiling the text (a compile per distinct annotation was ~3 ms of a rebuild)."""
    alternatives = _split(text, "|")
    if len(alternatives) > 1:
        result = _annotation(alternatives[0], namespace)
        for alt in alternatives[1:]:
            result = result | _annotation(alt, namespace)
        return result
    if text.endswith("]") and "[" in text:
        head, _, inner = text[:-1].partition("[")
        args = tuple(_annotation(a, namespace) for a in _split(inner, ","))
        return _annotation(head.strip(), namespace)[args if len(args) > 1 else args[0]]
    if text == "...":
        return ...
    if text == "None":
        return None
    if text.isidentifier():
        if text in namespace:
            return namespace[text]
        if text == "Any":  # imported for type checkers only
            return AnyValue
        return getattr(builtins, text)  # AttributeError: not a name we know; the caller falls back
    code = _ANNOTATIONS.get(text)  # anything else (a dotted name, a literal): Python's own evaluation
    if code is None:
        code = _ANNOTATIONS[text] = compile(text, "<annotation>", "eval")
    return eval(code, namespace)  # noqa: S307  (our own classes' annotations)


def _field_types(cls: type) -> dict[str, Any]:
    """``typing.get_type_hints(cls)`` for the plain annotations dataclass fields use here (``X | None``,
    ``list[X]``, ``dict[str, X]``): each base's annotations evaluated in its own module. typing's version
    costs several times as much (a ForwardRef and a compile per field); anything this does not resolve
    goes to it."""
    out: dict[str, Any] = {}
    try:
        for base in reversed(cls.__mro__):
            ann = base.__dict__.get("__annotations__")  # noqa: RUF063  (inspect costs ~10 ms to import)
            if not ann:
                continue
            module = sys.modules.get(base.__module__)
            namespace = vars(module) if module is not None else {}
            for name, t in ann.items():
                if isinstance(t, str):
                    t = _annotation(t.strip(), namespace)
                out[name] = type(None) if t is None else t
    except Exception:
        import typing

        return typing.get_type_hints(cls)
    return out


def from_obj(cls: type[T], data: Any, path: str = "$") -> T:
    """Plain JSON objects -> dataclass ``cls``; errors name the JSON path (``$.process.args[0]``)."""
    try:
        result: T = _decoder(cls)(data)
    except _Bad as e:
        raise e.at(path) from None
    return result


def canonical(value: Any) -> bytes:
    """Deterministic JSON bytes: sorted keys, compact separators, UTF-8."""
    obj = to_obj(value)
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def pretty(value: Any) -> str:
    return json.dumps(to_obj(value), indent=4, ensure_ascii=False)


def loads(cls: type[T], raw: bytes | str, what: str = "JSON") -> T:
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CodecError(f"{what}: invalid JSON: {e}") from None
    return from_obj(cls, data)
