"""The codec's rules on small dataclasses: paths in errors, unions, empties, extras, postponed annotations."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

import pytest

from skiff.oci.codec import CodecError, JSONRecord, canonical, from_obj, jextra, jfield, to_obj


class Color(enum.Enum):
    RED = "red"


@dataclass(frozen=True)
class Leaf:
    n: int = jfield("n")
    ratio: float | None = jfield("ratio", default=None)
    extra: dict[str, Any] = jextra()


@dataclass(frozen=True)
class Tree:
    name: str = jfield("name")
    leaves: list[Leaf] = jfield("leaves", default_factory=list)
    by_name: dict[str, Leaf] = jfield("byName", default_factory=dict)
    tags: tuple[str, ...] = jfield("tags", default=())
    either: int | str | None = jfield("either", default=None)
    color: Color | None = jfield("color", default=None)
    kept: list[str] = jfield("kept", default_factory=list, keep_empty=True)
    child: Tree | None = jfield("child", default=None)
    labels: dict[str, str] = jfield("labels", default_factory=dict)
    extra: dict[str, Any] = jextra()


def test_round_trip_keeps_unknown_members_and_drops_empties() -> None:
    raw = {"name": "t", "leaves": [{"n": 1, "x-v": [1]}], "tags": ["a"], "either": "s", "color": "red",
           "kept": [], "child": {"name": "c", "kept": ["k"]}, "labels": {"a": "b"}, "vendor": True}
    t = from_obj(Tree, raw)
    assert t.leaves[0].extra == {"x-v": [1]} and t.tags == ("a",) and t.color is Color.RED
    assert t.child is not None and t.child.kept == ["k"]
    assert to_obj(t) == raw
    assert canonical(t) == canonical(from_obj(Tree, to_obj(t)))
    assert to_obj(Tree(name="e")) == {"name": "e", "kept": []}


def test_decoded_lists_are_copies() -> None:
    raw: dict[str, Any] = {"name": "t", "kept": ["a"], "labels": {"a": "b"}}
    t = from_obj(Tree, raw)
    raw["kept"].append("b")
    raw["labels"]["c"] = "d"
    assert t.kept == ["a"] and t.labels == {"a": "b"}


@pytest.mark.parametrize(("raw", "message"), [
    ({"name": "t", "leaves": [{"n": 1}, {"n": "2"}]}, r"^\$\.leaves\[1\]\.n: expected an integer, got '2'$"),
    ({"name": "t", "leaves": [{"n": True}]}, r"^\$\.leaves\[0\]\.n: expected an integer, got True$"),
    ({"name": "t", "byName": {"k": {}}}, r"^\$\.byName\.k\.n: required field is missing$"),
    ({"name": "t", "either": [1]}, r"^\$\.either: unexpected value \[1\]$"),
    ({"name": "t", "color": "blue"}, r"^\$\.color: unknown value 'blue'$"),
    ({"name": "t", "child": {"name": 3}}, r"^\$\.child\.name: expected a string, got 3$"),
    ({"name": "t", "labels": {"a": 1}}, r"^\$\.labels\.a: expected a string, got 1$"),
    ({"name": "t", "tags": "a"}, r"^\$\.tags: expected an array, got str$"),
    ({"name": "t", "leaves": [{"n": 1, "ratio": "x"}]}, r"^\$\.leaves\[0\]\.ratio: expected a number"),
    ([], r"^\$: expected an object, got list$"),
])
def test_errors_name_the_json_path(raw: Any, message: str) -> None:
    with pytest.raises(CodecError, match=message):
        from_obj(Tree, raw)


def test_nulls_and_numbers() -> None:
    t = from_obj(Tree, {"name": "t", "leaves": None, "byName": None, "tags": None, "either": None,
                        "kept": None, "child": None})
    assert t.leaves == [] and t.by_name == {} and t.tags == () and t.either is None and t.child is None
    leaf = from_obj(Leaf, {"n": 1, "ratio": 2})
    assert leaf.ratio == 2.0 and isinstance(leaf.ratio, float)
    assert from_obj(Tree, {"name": "t", "either": 5}).either == 5
    with pytest.raises(CodecError, match=r"^\$: expected an object"):
        from_obj(Leaf, None)
    with pytest.raises(CodecError, match=r"^x\.n: required"):
        from_obj(Leaf, {}, "x")


@dataclass(frozen=True, eq=False, repr=False)
class Shared(JSONRecord):
    a: int = jfield("a")
    b: list[str] = jfield("b", default_factory=list)
    extra: dict[str, Any] = jextra()


@dataclass(frozen=True)
class Generated:
    a: int = jfield("a")
    b: list[str] = jfield("b", default_factory=list)
    extra: dict[str, Any] = jextra()


def test_json_record_methods_match_the_generated_ones() -> None:
    s, g = Shared(a=1, b=["x"], extra={"k": 1}), Generated(a=1, b=["x"], extra={"k": 1})
    assert repr(s).replace("Shared", "Generated") == repr(g)
    assert s == Shared(a=1, b=["x"]) and s != Shared(a=2, b=["x"]) and s != g and (s == 1) is False
    assert hash(Shared(a=1, b=())) == hash(Generated(a=1, b=()))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="unhashable"):
        hash(s)
    assert from_obj(Shared, to_obj(s)) == s
