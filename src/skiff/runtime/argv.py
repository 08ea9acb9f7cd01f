"""skiff-runtime's command line, declared once as a table: argparse is built from it, and a small direct reader
takes the common, well-formed command lines (``--root R run --bundle B ID``) without importing argparse.

argparse costs more than the rest of a ``state`` call (gettext look-ups per option, a help formatter that
imports shutil, bz2 and lzma), and a runtime is started for every container operation. The direct reader
gives up (returns None) on anything unusual: help, abbreviations, ``--``, combined short flags, an option after
a positional, a bad number, a wrong count. argparse then parses the same argv, so its messages and exit codes
stay the only ones a user sees; tests check that both readers agree.
"""

from __future__ import annotations

import os
import types

TYPE_CHECKING = False  # typing itself is not imported at run time: `state` and `kill` never need it
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence
    from typing import Any, TypeAlias

    _Arg: TypeAlias = tuple[tuple[str, ...], dict[str, Any]]  # (names, argparse keyword arguments)

DEFAULT_ROOT = "/run/skiff-runtime"
VERSION = "skiff-runtime 0.1.0\nspec: 1.2.0"
REMAINDER = "..."  # argparse.REMAINDER

_GLOBAL: list[_Arg] = [
    (("--root",), {"default": None}),  # default filled in at parse time (SKIFF_RUNTIME_ROOT)
    (("--log",), {"default": None}),
    (("--log-format",), {"default": "text"}),
    (("--debug",), {"action": "store_true"}),
    (("--systemd-cgroup",), {"action": "store_true"}),
]
_CREATE: list[_Arg] = [
    (("--bundle", "-b"), {"default": "."}),
    (("--pid-file",), {"default": None}),
    (("--console-socket",), {"default": None}),
    (("--preserve-fds",), {"type": int, "default": 0}),
    (("--no-pivot",), {"action": "store_true"}),
    (("--no-new-keyring",), {"action": "store_true"}),
]
_ID: list[_Arg] = [(("id",), {})]
COMMANDS: dict[str, list[_Arg]] = {
    "spec": [(("--bundle", "-b"), {"default": "."}), (("--rootless",), {"action": "store_true"})],
    "create": [*_CREATE, *_ID],
    "run": [*_CREATE, (("--detach", "-d"), {"action": "store_true"}), (("--keep",), {"action": "store_true"}),
            *_ID],
    "start": _ID, "state": _ID, "pause": _ID, "resume": _ID,
    "kill": [(("--all", "-a"), {"action": "store_true"}), *_ID,
             (("signal",), {"nargs": "?", "default": "SIGTERM"})],
    "delete": [(("--force", "-f"), {"action": "store_true"}), *_ID],
    "exec": [
        (("--process", "-p"), {"default": None}),
        (("--tty", "-t"), {"action": "store_true"}),
        (("--console-socket",), {"default": None}),
        (("--cwd",), {"default": None}),
        (("--env", "-e"), {"action": "append", "default": []}),
        (("--user", "-u"), {"default": None}),
        (("--additional-gids", "-g"), {"action": "append", "type": int, "default": []}),
        (("--cap", "-c"), {"action": "append", "default": []}),
        (("--no-new-privs",), {"action": "store_true"}),
        (("--detach", "-d"), {"action": "store_true"}),
        (("--pid-file",), {"default": None}),
        (("--preserve-fds",), {"type": int, "default": 0}),
        *_ID,
        (("args",), {"nargs": REMAINDER}),
    ],
    "list": [(("--format", "-f"), {"default": "table", "choices": ("table", "json")}),
             (("--quiet", "-q"), {"action": "store_true"})],
}


def _dest(names: tuple[str, ...]) -> str:
    return names[0].lstrip("-").replace("-", "_")


def _root_default() -> str:
    return os.environ.get("SKIFF_RUNTIME_ROOT", DEFAULT_ROOT)


def _options(table: list[_Arg], words: Sequence[str], out: dict[str, Any]) -> int | None:
    """Read leading options of ``table`` from ``words`` into ``out``; the index of the first other word, or
    None when argparse should decide (an unknown option, a missing or bad value)."""
    by_name = {n: (names, kw) for names, kw in table if names[0].startswith("-") for n in names}
    i = 0
    while i < len(words):
        word = words[i]
        if not word.startswith("-") or word == "-":
            return i
        name, eq, inline = word.partition("=")
        spec = by_name.get(name)
        if spec is None or word == "--":
            return None
        names, kw = spec
        action = kw.get("action")
        if action == "store_true":
            if eq:
                return None
            out[_dest(names)] = True
            i += 1
            continue
        if eq:
            value = inline
        elif i + 1 < len(words) and not words[i + 1].startswith("-"):
            value = words[i + 1]
            i += 1
        else:
            return None
        i += 1
        try:
            converted = kw.get("type", str)(value)
        except ValueError:
            return None
        if "choices" in kw and converted not in kw["choices"]:
            return None
        if action == "append":
            out[_dest(names)].append(converted)
        else:
            out[_dest(names)] = converted
    return i


def _defaults(table: list[_Arg]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for names, kw in table:
        default = kw.get("default", False if kw.get("action") == "store_true" else None)
        out[_dest(names)] = list(default) if isinstance(default, list) else default
    return out


def fast_parse(argv: Sequence[str]) -> types.SimpleNamespace | None:
    """``argv`` read directly when it is a plain, well-formed command line (the attributes argparse would
    give); None to let argparse decide."""
    if "--" in argv:
        return None
    values = _defaults(_GLOBAL)
    values["root"] = _root_default()
    i = _options(_GLOBAL, argv, values)
    if i is None or i >= len(argv) or argv[i] not in COMMANDS:
        return None
    command = argv[i]
    table = COMMANDS[command]
    values["command"] = command
    values.update(_defaults(table))
    rest = argv[i + 1:]
    j = _options(table, rest, values)
    if j is None:
        return None
    words = list(rest[j:])
    for names, kw in (a for a in table if not a[0][0].startswith("-")):
        nargs = kw.get("nargs")
        if nargs == REMAINDER:
            values[names[0]], words = words, []
        elif words and not words[0].startswith("-"):
            values[names[0]] = words.pop(0)
        elif nargs != "?":
            return None
    return types.SimpleNamespace(**values) if not words else None


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The argparse parser (with only ``only``'s sub-parser filled in when the command is known)."""
    import argparse

    p = argparse.ArgumentParser(prog="skiff-runtime", description="An OCI runtime (runc-compatible CLI)")
    for names, kw in _GLOBAL:
        p.add_argument(*names, **({**kw, "default": _root_default()} if names == ("--root",) else kw))
    p.add_argument("--version", "-v", action="version", version=VERSION)
    sub = p.add_subparsers(dest="command", required=True)
    for name, table in COMMANDS.items():
        cmd = sub.add_parser(name)
        if only is None or name == only:
            for names, kw in table:
                cmd.add_argument(*names, **kw)
    return p


def command_in(argv: Sequence[str]) -> str | None:
    """The command word of ``argv`` (skipping global options), so only its sub-parser gets built."""
    skip = False
    for word in argv:
        if skip:
            skip = False
        elif word in ("--root", "--log", "--log-format"):
            skip = True
        elif not word.startswith("-"):
            return word if word in COMMANDS else None
    return None


def parse(argv: Sequence[str]) -> Any:
    """The parsed command line: read directly when plain, else by argparse (which exits on errors)."""
    fast = fast_parse(argv)
    if fast is not None:
        return fast
    return build_parser(command_in(argv)).parse_args(argv)
