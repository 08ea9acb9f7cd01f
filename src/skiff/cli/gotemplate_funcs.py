"""Go's value printing (fmt's %v) and the template functions: Go's builtins plus Docker's additions."""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Callable
from typing import Any

from skiff import records
from skiff.units import go_quote as go_quote  # strconv.Quote, shared with the engine

NO_VALUE = "<no value>"


# ---- Go's typed values, for data that stands for Docker's Go structs ---------------------------------
class GoNil:
    """A typed nil: a struct field of slice, map or pointer type that is nil. Go prints it ``[]`` / ``map[]`` /
    ``<nil>`` (where a nil interface prints ``<no value>``); it is false, empty, and JSON ``null``."""

    __slots__ = ("kind",)

    def __init__(self, kind: str) -> None:
        self.kind = kind  # "slice", "map" or "ptr"

    def __len__(self) -> int:
        return 0

    def __bool__(self) -> bool:
        return False

    def __eq__(self, other: object) -> bool:
        return isinstance(other, GoNil) and other.kind == self.kind

    def __hash__(self) -> int:
        return hash(self.kind)

    def __repr__(self) -> str:
        return f"GoNil({self.kind!r})"


class GoMap(dict):  # type: ignore[type-arg]
    """A typed Go map (``map[string]string`` labels and the like): ``index`` of a missing key gives the element
    type's zero value (``""`` for strings) instead of ``<no value>``, and a missing ``.key`` stays
    ``<no value>`` even under ``missingkey=error`` (Docker runs the typed struct first)."""

    def __init__(self, items: Any = (), zero: Any = "") -> None:
        super().__init__(items)
        self.zero = zero


class GoStruct(dict):  # type: ignore[type-arg]
    """A Go struct given as a dict of its fields: naming a field it does not have is an error. With
    ``go_type`` the error is Go's for a struct (``can't evaluate field Foo in type *formatter.ContainerContext``);
    without, it is the one Docker's inspect shows after its map fallback (``map has no entry for key "Foo"``).
    ``omit``: fields JSON leaves out (omitempty fields the struct has only as their zero value)."""

    def __init__(self, items: Any = (), go_type: str | None = None, omit: frozenset[str] = frozenset()) -> None:
        super().__init__(items)
        self.go_type = go_type
        self.omit = omit

    def missing(self, name: str) -> str:
        if self.go_type:
            return f"can't evaluate field {name} in type {self.go_type}"
        return f"map has no entry for key {go_quote(name)}"


class GoMethod:
    """A method of a Go struct that takes arguments (ps's ``{{.Label "key"}}``): called with exactly ``nargs``
    arguments; naming it without them is Go's ``wrong number of args`` error, and JSON leaves it out."""

    __slots__ = ("fn", "name", "nargs")

    def __init__(self, name: str, fn: Callable[..., Any], nargs: int = 1) -> None:
        self.name = name
        self.fn = fn
        self.nargs = nargs

    def __call__(self, *args: Any) -> Any:
        return self.fn(*args)

    def arity_error(self, got: int) -> str:
        return f"wrong number of args for {self.name}: want {self.nargs} got {got}"


class GoContext(GoStruct):
    """A docker/cli list formatter's context (``*formatter.ContainerContext``...): a struct whose niladic
    methods are the fields. Its JSON (``{{json .}}``, ``--format json``) is its MarshalJSON: a map of those
    fields, so keys sorted, and ``<``, ``>``, ``&`` escaped as json.Marshal does; methods with arguments
    (:class:`GoMethod`) are left out."""

    def __init__(self, items: Any = (), go_type: str | None = None) -> None:
        super().__init__(items, go_type)
        self.omit = frozenset(k for k, v in self.items() if isinstance(v, GoMethod))
        self.json_view: dict[str, Any] | None = None  # what MarshalJSON shows, when not the fields themselves


def go_type_name(v: Any) -> str:
    """The Go type a Python value stands for, as Go's template errors name it."""
    if isinstance(v, GoStruct) and v.go_type:
        return v.go_type
    return _go_type(v)


def _go_float(f: float) -> str:
    if f != f:
        return "NaN"
    if f in (float("inf"), float("-inf")):
        return "+Inf" if f > 0 else "-Inf"
    if f.is_integer() and abs(f) < 1e21:
        return str(int(f))
    r = repr(f)
    if "e" in r:
        mant, exp = r.split("e")
        sign = "-" if exp.startswith("-") else "+"
        digits = exp.lstrip("+-").rjust(2, "0")
        return f"{mant}e{sign}{digits}"
    return r


def go_str(v: Any, top: bool = False) -> str:
    """``fmt.Sprint(v)``: maps as ``map[k:v]`` (sorted keys), lists as ``[a b]``, nil as ``<nil>``."""
    if v is None:
        return NO_VALUE if top else "<nil>"
    if isinstance(v, GoNil):
        return {"slice": "[]", "map": "map[]"}.get(v.kind, "<nil>")
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return _go_float(v)
    if isinstance(v, GoStruct):  # Go prints a struct's field values in order: {running true 0}
        return "{" + " ".join(go_str(x) for x in v.values()) + "}"
    if isinstance(v, dict):
        keys = sorted(v, key=lambda k: (type(k).__name__, k))
        return "map[" + " ".join(f"{go_str(k)}:{go_str(v[k])}" for k in keys) + "]"
    if isinstance(v, (list, tuple, set, frozenset)):
        return "[" + " ".join(go_str(x) for x in v) + "]"
    if isinstance(v, bytes):
        return "[" + " ".join(str(b) for b in v) + "]"
    if isinstance(v, _dt.datetime):
        return v.isoformat(sep=" ")
    if records.is_dataclass(v) and not isinstance(v, type):
        return "{" + " ".join(go_str(getattr(v, f.name)) for f in records.fields(v)) + "}"
    return str(v)


def go_print(v: Any) -> str:
    """How an action prints its value: nil and missing keys are ``<no value>``."""
    return go_str(v, top=True)


def to_json_obj(v: Any) -> Any:
    if isinstance(v, GoNil):
        return None
    if records.is_dataclass(v) and not isinstance(v, type):
        from skiff.oci import codec

        try:
            return codec.to_obj(v)
        except Exception:
            return {f.name: to_json_obj(getattr(v, f.name)) for f in records.fields(v)}
    if isinstance(v, GoStruct) and v.omit:
        return {str(k): to_json_obj(x) for k, x in v.items() if k not in v.omit}
    if isinstance(v, dict):
        return {str(k): to_json_obj(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, set, frozenset)):
        return [to_json_obj(x) for x in v]
    if isinstance(v, _dt.datetime):
        return v.isoformat().replace("+00:00", "Z")
    if isinstance(v, bytes):
        import base64

        return base64.b64encode(v).decode()
    return v


def f_json(v: Any) -> str:
    import json

    if isinstance(v, GoContext):
        fields = v.json_view if v.json_view is not None else v
        text = json.dumps({k: to_json_obj(x) for k, x in sorted(fields.items()) if k not in v.omit},
                          ensure_ascii=False, separators=(",", ":"))
        return go_html_escape(text)
    return json.dumps(to_json_obj(v), ensure_ascii=False, separators=(",", ":"))


def go_html_escape(text: str) -> str:
    """What Go's json.Marshal does to the JSON it writes: ``<``, ``>``, ``&``, U+2028 and U+2029 as \\u escapes."""
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"),
                    ("\u2029", "\\u2029")):
        text = text.replace(ch, esc)
    return text




_VERB = re.compile(r"%([-+# 0]*)(\d+)?(?:\.(\d+))?([a-zA-Z%])")


def _go_type(v: Any) -> str:
    return {str: "string", int: "int", float: "float64", bool: "bool", type(None): "<nil>"}.get(
        type(v), "map[string]interface {}" if isinstance(v, dict) else
        "[]interface {}" if isinstance(v, (list, tuple)) else type(v).__name__)


def _pad(text: str, flags: str, width: str | None, zero_ok: bool = False) -> str:
    if not width:
        return text
    w = int(width)
    if "-" in flags:
        return text.ljust(w)
    if "0" in flags and zero_ok:
        sign = text[0] if text[:1] in "+-" else ""
        return sign + text[len(sign):].rjust(w - len(sign), "0")
    return text.rjust(w)


def sprintf(fmt: str, *args: Any) -> str:
    """Go's fmt.Sprintf for the verbs templates use: %v %s %d %q %x %X %o %b %f %e %g %t %T %c %%."""
    out: list[str] = []
    pos = 0
    ai = 0
    for m in _VERB.finditer(fmt):
        out.append(fmt[pos:m.start()])
        pos = m.end()
        flags, width, prec, verb = m.groups()
        if verb == "%":
            out.append("%")
            continue
        if ai >= len(args):
            out.append(f"%!{verb}(MISSING)")
            continue
        a = args[ai]
        ai += 1
        is_int = isinstance(a, int) and not isinstance(a, bool)
        if verb in "vs":
            text = go_str(a)
            if prec is not None and verb == "s":
                text = text[: int(prec)]
            out.append(_pad(text, flags, width))
        elif verb == "q":
            out.append(_pad(go_quote(a if isinstance(a, str) else (chr(a) if is_int else go_str(a))), flags, width))
        elif verb in "dxXobc" and is_int:
            spec = {"d": "d", "x": "x", "X": "X", "o": "o", "b": "b"}.get(verb)
            text = chr(a) if verb == "c" else format(a, ("+" if "+" in flags else "") + (spec or "d"))
            out.append(_pad(text, flags, width, zero_ok=True))
        elif verb in "xX" and isinstance(a, (str, bytes)):
            raw = a.encode() if isinstance(a, str) else a
            text = raw.hex() if verb == "x" else raw.hex().upper()
            out.append(_pad(text, flags, width))
        elif verb in "feEgG" and isinstance(a, (int, float)) and not isinstance(a, bool):
            p = int(prec) if prec is not None else (6 if verb in "feE" else None)
            text = format(float(a), ("+" if "+" in flags else "") + (f".{p}" if p is not None else "") + verb)
            if verb in "gG" and p is None:
                text = _go_float(float(a))
            out.append(_pad(text, flags, width, zero_ok=True))
        elif verb == "t" and isinstance(a, bool):
            out.append(_pad("true" if a else "false", flags, width))
        elif verb == "T":
            out.append(_pad(_go_type(a), flags, width))
        else:
            out.append(f"%!{verb}({_go_type(a)}={go_str(a)})")
    out.append(fmt[pos:])
    if ai < len(args):
        out.append("%!(EXTRA " + ", ".join(f"{_go_type(a)}={go_str(a)}" for a in args[ai:]) + ")")
    return "".join(out)


def sprint(*args: Any) -> str:
    """fmt.Sprint: a space between operands when neither is a string."""
    out: list[str] = []
    for i, a in enumerate(args):
        if i and not isinstance(a, str) and not isinstance(args[i - 1], str):
            out.append(" ")
        out.append(go_str(a))
    return "".join(out)


def _truthy(v: Any) -> bool:
    from skiff.cli.gotemplate_exec import truth

    return truth(v)


def f_and(first: Any, *rest: Any) -> Any:
    v = first
    for v in (first, *rest):
        if not _truthy(v):
            return v
    return v


def f_or(first: Any, *rest: Any) -> Any:
    v = first
    for v in (first, *rest):
        if _truthy(v):
            return v
    return v


def f_index(item: Any, *keys: Any) -> Any:
    for k in keys:
        if item is None:
            raise IndexError("index of untyped nil")
        if isinstance(item, GoNil):
            if item.kind == "slice":
                raise IndexError(f"index out of range: {k}")
            item = None
        elif isinstance(item, GoMap):
            item = item.get(k, item.zero)
        elif isinstance(item, dict):
            item = item.get(k)
        elif isinstance(item, (list, tuple, str)):
            if not isinstance(k, int) or not 0 <= k < len(item):
                raise IndexError(f"index out of range: {k}")
            item = item[k]
        else:
            raise TypeError(f"can't index item of type {_go_type(item)}")
    return item


def f_slice(item: Any, *idx: int) -> Any:
    if len(idx) > 2:
        raise ValueError("too many slice indexes")
    start = idx[0] if idx else 0
    end = idx[1] if len(idx) > 1 else len(item)
    if not 0 <= start <= end <= len(item):
        raise IndexError(f"slice index out of range: {start}:{end}")
    return item[start:end]


def f_len(item: Any) -> int:
    if item is None or isinstance(item, (int, float, bool)):
        raise TypeError(f"len of type {_go_type(item)}")
    return len(item)


def f_eq(a: Any, *others: Any) -> bool:
    if not others:
        raise ValueError("missing argument for comparison")
    return any(a == b for b in others)


def _cmp(op: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def f(a: Any, b: Any) -> bool:
        if isinstance(a, str) != isinstance(b, str):
            raise TypeError("incompatible types for comparison")
        return op(a, b)
    return f


def f_join(items: Any, sep: str) -> str:
    return sep.join(go_str(x) for x in (items or []))


def f_title(s: str) -> str:
    return re.sub(r"(^|[^\w'])(\w)", lambda m: m.group(1) + m.group(2).upper(), go_str(s))


def f_truncate(s: Any, n: int) -> str:
    return go_str(s)[:n]


def f_pad(s: Any, prefix: int, suffix: int) -> str:
    text = go_str(s)
    return " " * prefix + text + " " * suffix if text else ""  # docker/cli padWithSpace leaves "" alone


FUNCS: dict[str, Callable[..., Any]] = {
    "and": f_and, "or": f_or, "not": lambda v: not _truthy(v), "len": f_len, "index": f_index,
    "slice": f_slice, "print": sprint, "printf": sprintf,
    "println": lambda *a: " ".join(go_str(x) for x in a) + "\n",
    "eq": f_eq, "ne": lambda a, b: a != b, "lt": _cmp(lambda a, b: a < b), "le": _cmp(lambda a, b: a <= b),
    "gt": _cmp(lambda a, b: a > b), "ge": _cmp(lambda a, b: a >= b),
    "json": f_json, "split": lambda s, sep: go_str(s).split(sep), "join": f_join, "title": f_title,
    "lower": lambda s: go_str(s).lower(), "upper": lambda s: go_str(s).upper(), "truncate": f_truncate,
    "pad": f_pad, "html": lambda s: go_str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"),
}
