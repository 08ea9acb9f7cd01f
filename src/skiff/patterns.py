"""Compiled regular expressions cached between processes, as ``.pyc`` files cache byte-code.

``re.compile`` parses a pattern and compiles it to the ``_sre`` engine's program every time a process starts:
29 patterns cost ~7 ms of an ~100 ms cached rebuild, most of them compiled at import by module-level
constants. :func:`install` (called by :mod:`skiff.records`, which every command loads before its first
pattern) puts a memo in front of ``re._compiler.compile``: keyed by the pattern and its flags, it keeps the
program, the flags and the group tables, and hands them to ``_sre.compile`` (which validates the program).
``python -m skiff.records`` imports every skiff module and writes the memo next to the ``.pyc`` files;
nothing is written at run time. The file's header holds the interpreter's byte-code magic and ``_sre``'s
magic, so a memo from another interpreter is never used. On an interpreter other than CPython 3.11, or
without the file, ``re`` is left alone.
"""

from __future__ import annotations

import marshal
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

CACHE = os.path.join(os.path.dirname(__file__), "__pycache__", f"patterns.{sys.implementation.cache_tag}.rx")
_table: dict[tuple[str | bytes, int], tuple[Any, ...]] = {}
_used: dict[tuple[str | bytes, int], tuple[Any, ...]] = {}  # what this process compiled: all that warm() keeps
_original: Any = None
_sre: Any = None
_compiler: Any = None
_parser: Any = None


def _header() -> bytes:
    import _sre
    from importlib._bootstrap_external import MAGIC_NUMBER

    return MAGIC_NUMBER + f"skiff.patterns 1 {_sre.MAGIC} {_sre.CODESIZE}\n".encode()


def _load() -> None:
    try:
        with open(CACHE, "rb") as f:
            data = f.read()
        head = _header()
        if data.startswith(head):
            table = marshal.loads(memoryview(data)[len(head):])
            if isinstance(table, dict):
                _table.update(table)
    except (OSError, EOFError, ValueError, TypeError):
        pass


def _compile(p: Any, flags: int = 0) -> Any:
    """``re._compiler.compile`` of CPython 3.11, with the memo (patterns given as text only)."""
    if not isinstance(p, (str, bytes)) or flags & _compiler.SRE_FLAG_DEBUG:
        return _original(p, flags)
    key = (p, int(flags))
    entry = _table.get(key)
    if entry is not None:
        try:
            pattern = _sre.compile(p, *entry)
        except (RuntimeError, TypeError, ValueError):  # "invalid SRE code": compile it again below
            pass
        else:
            _used[key] = entry
            return pattern
    parsed = _parser.parse(p, flags)
    code = _compiler._code(parsed, flags)
    groupindex = parsed.state.groupdict
    indexgroup: list[str | None] = [None] * parsed.state.groups
    for name, i in groupindex.items():
        indexgroup[i] = name
    # plain ints: the program holds named opcode constants (an int subclass marshal cannot write)
    entry = (int(flags | parsed.state.flags), [int(op) for op in code], int(parsed.state.groups - 1),
             {name: int(i) for name, i in groupindex.items()}, tuple(indexgroup))
    _used[key] = entry
    return _sre.compile(p, *entry)


def _patchable() -> bool:
    compiler = sys.modules.get("re._compiler")
    fn = getattr(compiler, "compile", None)
    code = getattr(fn, "__code__", None)
    return (sys.implementation.name == "cpython" and sys.version_info[:2] == (3, 11) and code is not None
            and code.co_varnames[:2] == ("p", "flags") and hasattr(compiler, "_code"))


def install() -> None:
    """Put the memo in front of ``re._compiler.compile`` (once; only where ``re`` is already loaded)."""
    global _original, _sre, _compiler, _parser
    if _original is not None or not _patchable():
        return
    import _sre
    from re import _compiler, _parser  # type: ignore[attr-defined]

    _load()
    _original = _compiler.compile
    _compiler.compile = _compile


def write() -> int:
    """Write what this process compiled (temp file, fsync, rename); -> the number of patterns."""
    if _original is None:
        return 0
    write_cache(CACHE, _header() + marshal.dumps(_used))
    return len(_used)


def write_cache(path: str, data: bytes) -> None:
    """A set-up time cache file beside the ``.pyc`` files (this memo, and skiff.records'): temp file, fsync,
    rename."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
