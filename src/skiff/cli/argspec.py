"""Command lines parsed without importing argparse, from a table that argparse itself described.

argparse and what it pulls in (re, enum, gettext, locale, shutil) cost ~15 ms of a command's start-up; a
`skiff images` budget is half of `podman images`. `python -m skiff.cli.argspec` (scripts/setup.sh) builds each
command's parser as usual and records, per command, its options (dest, action, const, int/float conversion,
choices), its positionals (nargs) and its defaults, with the size and mtime of every source file that
``configure`` ran, in ``__pycache__/argspec/`` next to this file (a file per command). At start-up :func:`lookup` returns a
command's table if those files are unchanged, and :func:`parse` reads the command line with it.

argparse stays the authority: :func:`parse` accepts only the plain forms whose meaning is certain (``--flag``,
``--flag=v``, ``--flag v``, ``-f v``, ``-fv``, ``-abc``, positionals in one run, REMAINDER) and returns None
for anything else (``--help``, an unknown or abbreviated flag, a value that needs a converter or fails
its choices, ``--``, a missing required positional), which sends the command line through argparse for its
result or its error. tests/unit/cli/test_argspec.py checks that both agree on generated command lines.
"""

from __future__ import annotations

import marshal
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Any

CACHE = os.path.join(os.path.dirname(__file__), "__pycache__", "argspec")  # one file per command
FORMAT = 1

# An option's entry: (dest, kind, const, conv, choices). Kinds: "true"/"false"/"const" (store a constant),
# "count", "store", "append", "complex" (anything else: its use falls back to argparse).
if TYPE_CHECKING:
    Option = tuple[str, str, Any, str | None, tuple[Any, ...] | None]


class Namespace:
    """argparse.Namespace without argparse: attributes from keywords, equal by attributes."""

    def __init__(self, **kw: Any) -> None:
        self.__dict__.update(kw)

    def __eq__(self, other: object) -> bool:
        return vars(self) == vars(other)

    def __contains__(self, key: str) -> bool:
        return key in self.__dict__

    def __repr__(self) -> str:
        return "Namespace(" + ", ".join(f"{k}={v!r}" for k, v in sorted(self.__dict__.items())) + ")"


def _file(key: tuple[str, ...], folder: str | None = None) -> str:
    return os.path.join(folder or CACHE, "-".join(key) + ".marshal")


def lookup(key: tuple[str, ...]) -> dict[str, Any] | None:
    """The command's table, or None when there is none or a source file it came from has changed."""
    try:
        with open(_file(key), "rb") as f:
            entry = marshal.loads(f.read())
    except (OSError, EOFError, ValueError, TypeError):
        return None
    if not isinstance(entry, tuple) or len(entry) != 4 or entry[0] != FORMAT or entry[1] != sys.version:
        return None
    for path, size, mtime_ns in entry[2]:
        try:
            st = os.stat(path)
        except OSError:
            return None
        if st.st_size != size or st.st_mtime_ns != mtime_ns:
            return None
    spec: dict[str, Any] = entry[3]
    return spec


def _is_negative_number(s: str) -> bool:
    t = s[1:]
    if not t:
        return False
    if t.isdigit():
        return True
    a, dot, b = t.partition(".")
    return bool(dot) and (a.isdigit() or not a) and b.isdigit()


def _convert(value: str, conv: str | None, choices: tuple[Any, ...] | None) -> tuple[bool, Any]:
    if conv == "int":
        try:
            v: Any = int(value)
        except ValueError:
            return False, None
    elif conv == "float":
        try:
            v = float(value)
        except ValueError:
            return False, None
    else:
        v = value
    if choices is not None and v not in choices:
        return False, None
    return True, v


def parse(spec: dict[str, Any], argv: list[str]) -> Namespace | None:
    """The Namespace argparse would return for ``argv``, or None to let argparse decide."""
    options: dict[str, Option] = spec["options"]
    positionals: list[tuple[str, Any]] = spec["positionals"]
    values: dict[str, Any] = {k: (list(v) if isinstance(v, list) else v) for k, v in spec["defaults"].items()}
    negatives_are_values = not spec["negative_options"]
    fixed = [p for p in positionals if p[1] != "..."]
    remainder = positionals[-1][0] if positionals and positionals[-1][1] == "..." else None
    if remainder is not None and any(p[1] not in (None,) for p in fixed):
        return None  # REMAINDER after an optional positional: argparse's matching is subtle there
    words: list[str] = []
    runs = 0
    last_was_word = False
    rest: list[str] | None = None

    def apply(opt: Option, value: str | None) -> bool:
        dest, kind, const, conv, choices = opt
        if kind in ("true", "false") and value is not None:  # pflag's --flag=false
            from skiff.cli.main import go_bool

            b = go_bool(value)
            if b is None:
                return False  # argparse's path gives the error
            values[dest] = b if kind == "true" else not b
            return True
        if kind in ("true", "false", "const", "count"):
            if value is not None:
                return False
            if kind == "count":
                values[dest] = (values[dest] or 0) + 1
            else:
                values[dest] = True if kind == "true" else False if kind == "false" else const
            return True
        if kind not in ("store", "append") or value is None or value == "--":
            return False  # argparse drops a "--" value (even -x=--); leave that to it
        ok, v = _convert(value, conv, choices)
        if not ok:
            return False
        if kind == "append":
            values[dest] = [*(values[dest] or []), v]
        else:
            values[dest] = v
        return True

    i = 0
    n = len(argv)
    while i < n:
        a = argv[i]
        i += 1
        if a == "--":
            return None
        if a.startswith("-") and a != "-" and not (negatives_are_values and _is_negative_number(a)):
            last_was_word = False
            if a.startswith("--"):
                name, eq, val = a.partition("=")
                opt = options.get(name)
                if opt is None:
                    return None
                if eq:
                    if not apply(opt, val):
                        return None
                elif opt[1] in ("store", "append"):
                    if i >= n or (argv[i].startswith("-") and argv[i] != "-"
                                  and not (negatives_are_values and _is_negative_number(argv[i]))):
                        return None
                    if not apply(opt, argv[i]):
                        return None
                    i += 1
                elif not apply(opt, None):
                    return None
                continue
            # short options: -a, -abc (flags), -fVALUE, -f=VALUE, -f VALUE
            j = 1
            while j < len(a):
                opt = options.get("-" + a[j])
                if opt is None:
                    return None
                if opt[1] in ("true", "false") and a.startswith("=", j + 1):  # -H=false
                    if not apply(opt, a[j + 2:]):
                        return None
                    break
                if opt[1] in ("store", "append"):
                    val = a[j + 1:]
                    if val.startswith("="):
                        val = val[1:]
                        if not val:
                            return None  # -f= : argparse wants a value there
                    elif not val:
                        if i >= n or (argv[i].startswith("-") and argv[i] != "-"
                                      and not (negatives_are_values and _is_negative_number(argv[i]))):
                            return None
                        val = argv[i]
                        i += 1
                    if not apply(opt, val):
                        return None
                    break
                if not apply(opt, None):
                    return None
                j += 1
            continue
        if not last_was_word:
            runs += 1
        last_was_word = True
        words.append(a)
        if remainder is not None and len(words) == len(fixed):
            rest = argv[i:]
            if "--" in rest:
                return None  # argparse takes a "--" out of the remainder in some versions
            break
    if runs > 1 and any(p[1] is not None for p in fixed):
        return None  # argparse matches '?', '*' and '+' per run of words (an early run may take none)
    k = 0
    for dest, nargs in fixed:
        if nargs is None:
            if k >= len(words):
                return None
            values[dest] = words[k]
            k += 1
        elif nargs == "?":
            if k < len(words):
                values[dest] = words[k]
                k += 1
        elif nargs in ("*", "+"):
            taken = words[k:]
            if nargs == "+" and not taken:
                return None
            values[dest] = taken if taken or nargs == "+" else (values[dest] if values[dest] is not None else [])
            k = len(words)
        else:
            return None
    if k < len(words):
        return None
    if remainder is not None:
        values[remainder] = rest if rest is not None else []
    return Namespace(**values)


# ---- building the tables (argparse imported here only) ----

_SIMPLE_TYPES = {None: None, str: None, int: "int", float: "float"}


def describe(p: argparse.ArgumentParser) -> dict[str, Any] | None:
    """The table for one parser, or None if it uses something :func:`parse` does not model."""
    import argparse

    if p._mutually_exclusive_groups or p.fromfile_prefix_chars or p.prefix_chars != "-":
        return None
    options: dict[str, Option] = {}
    positionals: list[tuple[str, Any]] = []
    defaults: dict[str, Any] = {}
    for act in p._actions:
        if isinstance(act, argparse._SubParsersAction):
            return None
        if act.dest == argparse.SUPPRESS or (act.default == argparse.SUPPRESS and act.option_strings):
            for s in act.option_strings:  # --help, --version: argparse handles them
                options[s] = (act.dest, "complex", None, None, None)
            continue
        if act.required and act.option_strings:
            return None
        default = act.default
        if default == argparse.SUPPRESS:
            return None
        if isinstance(default, str) and act.type not in (None, str):
            return None  # argparse would convert the default
        if act.dest in defaults and defaults[act.dest] != default:
            return None
        defaults[act.dest] = default
        try:
            conv = _SIMPLE_TYPES.get(act.type, "complex")  # type: ignore[arg-type]
        except TypeError:  # an unhashable type= callable
            conv = "complex"
        choices = tuple(act.choices) if act.choices is not None else None
        if not act.option_strings:
            if conv is not None or choices is not None:
                return None
            nargs = act.nargs
            if nargs == argparse.REMAINDER:
                nargs = "..."
            if nargs not in (None, "?", "*", "+", "..."):
                return None
            positionals.append((act.dest, nargs))
            continue
        if isinstance(act, argparse._StoreTrueAction):
            kind, const = "true", None
        elif isinstance(act, argparse._StoreFalseAction):
            kind, const = "false", None
        elif isinstance(act, argparse._StoreConstAction):
            kind, const = "const", act.const
        elif isinstance(act, argparse._CountAction):
            kind, const = "count", None
        elif isinstance(act, argparse.BooleanOptionalAction):
            for s in act.option_strings:
                options[s] = (act.dest, "const", not s.startswith("--no-"), None, None)
            continue
        elif type(act) is argparse._StoreAction and act.nargs is None and conv != "complex":
            kind, const = "store", None
        elif type(act) is argparse._AppendAction and act.nargs is None and conv != "complex":
            kind, const = "append", None
        else:
            kind, const = "complex", None
        for s in act.option_strings:
            if not s.startswith("--") and len(s) != 2:
                return None  # single-dash long options (-foo): argparse's rules, not ours
            options[s] = (act.dest, kind, const, conv if kind in ("store", "append") else None, choices)
    for k, v in p._defaults.items():
        defaults[k] = v
    if positionals and positionals[-1][1] != "..." and any(n == "..." for _, n in positionals):
        return None
    spec = {"options": options, "positionals": positionals, "defaults": defaults,
            "negative_options": bool(p._has_negative_number_optionals)}
    try:
        marshal.dumps(spec)
    except ValueError:
        return None
    return spec


def build(key: tuple[str, ...], module_name: str) -> tuple[dict[str, Any] | None, list[str]]:
    """Configure the command's parser as the CLI does; its table and the source files configure ran."""
    import importlib

    from skiff.cli.main import parser

    module = importlib.import_module(module_name)
    pkg = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    files = {os.path.abspath(module.__file__ or ""), os.path.abspath(__file__)}

    def profile(frame: Any, event: str, arg: Any) -> None:
        if event == "call":
            f = frame.f_code.co_filename
            if f.startswith(pkg):
                files.add(f)

    p = parser("skiff " + " ".join(key), None)
    sys.setprofile(profile)
    try:
        module.configure(p)
    finally:
        sys.setprofile(None)
    spec = describe(p)
    # A default read from the environment (or the clock) would be frozen into the table: configure again
    # with an empty environment and keep the table only if nothing differs.
    saved = dict(os.environ)
    os.environ.clear()
    try:
        again = parser("skiff " + " ".join(key), None)
        module.configure(again)
    finally:
        os.environ.update(saved)
    if describe(again) != spec:
        return None, sorted(files)
    return spec, sorted(files)


def warm(folder: str = CACHE) -> int:
    """Write the table of every command (one file each, written whole and renamed); the number written."""
    from skiff.cli.commands import COMMANDS

    os.makedirs(folder, exist_ok=True)
    written = 0
    for key, info in COMMANDS.items():
        spec, files = build(key, info.module)
        path = _file(key, folder)
        if spec is None:
            if os.path.exists(path):
                os.unlink(path)
            continue
        stamps = []
        for f in files:
            st = os.stat(f)
            stamps.append((f, st.st_size, st.st_mtime_ns))
        tmp = f"{path}.tmp{os.getpid()}"
        with open(tmp, "wb") as out:
            out.write(marshal.dumps((FORMAT, sys.version, stamps, spec)))
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
        written += 1
    return written


if __name__ == "__main__":
    print(f"{warm()} command tables written to {CACHE}/")
