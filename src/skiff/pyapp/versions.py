"""Which ``python:3.X-slim`` base a project asks for.

Sources, first found wins: ``.python-version`` (pyenv, uv), ``runtime.txt`` (``python-3.11.4``), then the
constraint from the dependency file (``requires-python``, Poetry's ``python = "^3.11"``, Pipfile's
``python_version``). A constraint picks the oldest maintained minor release that satisfies it: the one most
likely to suit pinned dependencies that predate newer releases.
"""

from __future__ import annotations

import re
from pathlib import Path

from skiff.errors import InvalidArgumentError

DEFAULT = (3, 11)  # Debian bookworm's python3, and skiff's bootstrap base
MAINTAINED = [(3, 11), (3, 12), (3, 13), (3, 14)]  # python:3.X-slim tags with upstream support
KNOWN = [(3, m) for m in range(6, 15)]  # tags that exist, oldest first

_VERSION = re.compile(r"^\d+(\.\d+)*(\.\*)?$")


def fmt(v: tuple[int, int]) -> str:
    return f"{v[0]}.{v[1]}"


def _parse(v: str, where: str) -> tuple[int, ...]:
    v = v.strip()
    if not _VERSION.match(v):
        raise InvalidArgumentError(f"{where}: cannot read Python version {v!r}")
    return tuple(int(p) for p in v.removesuffix(".*").split("."))


def _clause_ok(c: tuple[int, int], clause: str, where: str) -> bool:
    clause = clause.strip()
    if clause in ("", "*"):
        return True
    m = re.match(r"^(~=|==|!=|<=|>=|<|>|\^|~|=)?\s*(.+)$", clause)
    assert m is not None
    op, raw = m.group(1) or "==", m.group(2)
    wildcard = raw.strip().endswith(".*")
    v = _parse(raw, where)
    mm = (v[0], v[1] if len(v) > 1 else 0)
    patch = v[2] if len(v) > 2 else 0
    if op == "=":
        op = "=="
    if op == "^":  # Poetry: ^3.11 means >=3.11,<4
        return c >= mm and c[0] == v[0]
    if op == "~":  # Poetry: ~3.11 means >=3.11,<3.12 (~3 means >=3,<4)
        return c == mm if len(v) > 1 else c[0] == v[0]
    if op == "~=":  # PEP 440: ~=3.11 means >=3.11,<4; ~=3.11.2 means >=3.11.2,<3.12
        return c == mm if len(v) > 2 else (c >= mm and c[0] == v[0])
    if op == "==":
        return c == mm if (len(v) > 1 or wildcard) else c[0] == v[0]
    if op == "!=":
        return c != mm if (wildcard or len(v) == 2) else True
    if op == ">=":
        return c >= mm
    if op == ">":
        return c >= mm if len(v) > 2 else c > mm
    if op == "<=":
        return c <= mm
    # "<": <3.12 excludes 3.12; <3.12.4 still allows 3.12.0-3.12.3
    return c <= mm if patch > 0 else c < mm


def satisfies(c: tuple[int, int], constraint: str, where: str = "constraint") -> bool:
    """Does some release of minor version ``c`` satisfy a PEP 440 or Poetry constraint?"""
    for alternative in constraint.split("||"):
        clauses = [x for x in re.split(r"[,\s]+(?=[<>=!~^\d*])", alternative.strip()) if x.strip()]
        if all(_clause_ok(c, x, where) for x in clauses):
            return True
    return False


def choose(constraint: str, where: str) -> tuple[int, int]:
    """The oldest maintained minor satisfying ``constraint``, else the newest known one that does."""
    for c in MAINTAINED:
        if satisfies(c, constraint, where):
            return c
    older = [c for c in KNOWN if satisfies(c, constraint, where)]
    if older:
        return older[-1]
    raise InvalidArgumentError(f"{where}: no python:3.X-slim image satisfies Python {constraint!r}")


def resolve(root: Path, constraint: str | None, constraint_source: str | None) -> tuple[str, str]:
    """(``"3.11"``, where it came from) for the project at ``root``."""
    pv = root / ".python-version"
    if pv.is_file():
        for line in pv.read_text().splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                m = re.match(r"^(?:python-?|cpython-?)?(\d+)\.(\d+)", line)
                if not m:
                    raise InvalidArgumentError(f".python-version: cannot read Python version {line!r}")
                return f"{m.group(1)}.{m.group(2)}", ".python-version"
    rt = root / "runtime.txt"
    if rt.is_file():
        text = rt.read_text().strip()
        m = re.match(r"^python-(\d+)\.(\d+)", text)
        if not m:
            raise InvalidArgumentError(f"runtime.txt: expected python-3.X.Y, found {text!r}")
        return f"{m.group(1)}.{m.group(2)}", "runtime.txt"
    if constraint:
        where = constraint_source or "constraint"
        return fmt(choose(constraint, where)), where
    return fmt(DEFAULT), "default: the project names no Python version"
