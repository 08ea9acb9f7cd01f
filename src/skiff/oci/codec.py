"""One codec between frozen dataclasses and JSON.

Every OCI/Docker structure is a frozen dataclass whose fields declare their JSON name with :func:`jfield`.
Rules:

* a field is omitted when it is ``None`` or an empty list/dict, unless declared with ``keep_empty=True``;
* unknown JSON members are kept in a field declared with ``jextra()`` (a ``dict[str, Any]``) and written back;
* :func:`canonical` gives deterministic bytes (sorted keys, no spaces), used for anything skiff digests.

Raw dicts stop here: the rest of skiff handles dataclasses.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import types
import typing
from typing import Any, TypeVar

from skiff.errors import SkiffError

T = TypeVar("T")

_HINTS: dict[type, dict[str, Any]] = {}


class CodecError(SkiffError):
    """JSON that does not fit the structure it is read into; the message names the JSON path."""


def jfield(name: str, *, default: Any = dataclasses.MISSING, default_factory: Any = dataclasses.MISSING,
           keep_empty: bool = False) -> Any:
    """A dataclass field stored under the JSON member ``name``."""
    meta = {"json": name, "keep_empty": keep_empty}
    if default_factory is not dataclasses.MISSING:
        return dataclasses.field(default_factory=default_factory, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def jextra() -> Any:
    """The field that keeps unknown JSON members (round-tripped as they were)."""
    return dataclasses.field(default_factory=dict, metadata={"extra": True}, compare=False)


def _hints(cls: type) -> dict[str, Any]:
    h = _HINTS.get(cls)
    if h is None:
        h = typing.get_type_hints(cls)
        _HINTS[cls] = h
    return h


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, (list, dict, tuple)) and len(value) == 0)


def to_obj(value: Any) -> Any:
    """Dataclass (or list/dict of them) -> plain JSON-able Python objects."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Any] = {}
        for f in dataclasses.fields(value):
            v = getattr(value, f.name)
            if f.metadata.get("extra"):
                for k, ev in v.items():
                    out.setdefault(k, ev)
                continue
            name = f.metadata.get("json", f.name)
            if _is_empty(v) and not (f.metadata.get("keep_empty") and v is not None):
                continue
            out[name] = to_obj(v)
        return out
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        return [to_obj(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_obj(v) for k, v in value.items()}
    return value


def _convert(tp: Any, data: Any, path: str) -> Any:
    if tp is Any:
        return data
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if data is None:
            return None
        if len(args) == 1:
            return _convert(args[0], data, path)
        for a in args:
            try:
                return _convert(a, data, path)
            except CodecError:
                continue
        raise CodecError(f"{path}: unexpected value {data!r}")
    if origin in (list, tuple):
        if data is None:
            return [] if origin is list else ()
        if not isinstance(data, list):
            raise CodecError(f"{path}: expected an array, got {type(data).__name__}")
        (item,) = typing.get_args(tp)[:1] or (Any,)
        items = [_convert(item, v, f"{path}[{i}]") for i, v in enumerate(data)]
        return items if origin is list else tuple(items)
    if origin is dict:
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise CodecError(f"{path}: expected an object, got {type(data).__name__}")
        kv = typing.get_args(tp)
        vt = kv[1] if len(kv) == 2 else Any
        return {k: _convert(vt, v, f"{path}.{k}") for k, v in data.items()}
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return from_obj(tp, data, path)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        try:
            return tp(data)
        except ValueError:
            raise CodecError(f"{path}: unknown value {data!r}") from None
    if tp is float:
        if isinstance(data, bool) or not isinstance(data, (int, float)):
            raise CodecError(f"{path}: expected a number, got {data!r}")
        return float(data)
    if tp is int:
        if isinstance(data, bool) or not isinstance(data, int):
            raise CodecError(f"{path}: expected an integer, got {data!r}")
        return data
    if tp is bool:
        if not isinstance(data, bool):
            raise CodecError(f"{path}: expected true or false, got {data!r}")
        return data
    if tp is str:
        if not isinstance(data, str):
            raise CodecError(f"{path}: expected a string, got {data!r}")
        return data
    if isinstance(tp, type) and not isinstance(data, tp):
        try:
            return tp(data)
        except (TypeError, ValueError) as e:
            raise CodecError(f"{path}: {e}") from None
    return data


def from_obj(cls: type[T], data: Any, path: str = "$") -> T:
    """Plain JSON objects -> dataclass ``cls``; errors name the JSON path (``$.process.args[0]``)."""
    if not isinstance(data, dict):
        raise CodecError(f"{path}: expected an object, got {type(data).__name__}")
    hints = _hints(cls)
    kwargs: dict[str, Any] = {}
    known: set[str] = set()
    extra_field: str | None = None
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.metadata.get("extra"):
            extra_field = f.name
            continue
        name = f.metadata.get("json", f.name)
        known.add(name)
        if name in data:
            kwargs[f.name] = _convert(hints[f.name], data[name], f"{path}.{name}")
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise CodecError(f"{path}.{name}: required field is missing")
    if extra_field is not None:
        kwargs[extra_field] = {k: v for k, v in data.items() if k not in known}
    return cls(**kwargs)


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
