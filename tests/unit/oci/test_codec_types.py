"""codec._field_types gives what typing.get_type_hints gives, for every dataclass in skiff."""

from __future__ import annotations

import importlib
import pkgutil
import typing

import skiff
from skiff import records
from skiff.oci import codec


def _dataclasses() -> list[type]:
    out = []
    for mod in pkgutil.walk_packages(skiff.__path__, "skiff."):
        if mod.name.endswith("__main__"):
            continue
        try:
            m = importlib.import_module(mod.name)
        except Exception:
            continue
        out += [c for c in vars(m).values()
                if isinstance(c, type) and records.is_dataclass(c) and c.__module__ == m.__name__]
    return out


def test_field_types_match_get_type_hints() -> None:
    classes = _dataclasses()
    assert len(classes) > 150
    checked = 0
    for cls in classes:
        try:
            want = typing.get_type_hints(cls)
        except Exception:  # annotations only a type checker can resolve: not decodable either way
            continue
        got = codec._field_types(cls)
        assert {k: got[k] for k in want} == want, cls
        checked += 1
    assert checked > 150
