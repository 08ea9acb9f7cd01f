"""skiff's entry point: global flags, the lazy command table, and the only place errors become exit codes.

Start-up budget: `skiff --version` imports nothing but this module and ``skiff``; other commands import
argparse and what they need when they run (``tests/unit/cli/test_startup.py`` checks).
"""

from __future__ import annotations

import os
import sys

from skiff import __version__
from skiff.errors import SkiffError

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs start-up time (mypy knows this name)
if TYPE_CHECKING:
    import argparse
    from typing import Any


class GlobalOptions:
    """The global flags, passed to every command (and to EngineContext.from_options)."""

    __slots__ = ("config", "log_level", "root", "runroot", "runtime", "storage_driver")

    def __init__(self, root: str, runroot: str, storage_driver: str | None, runtime: str, log_level: str,
                 config: str | None) -> None:
        self.root = root
        self.runroot = runroot
        self.storage_driver = storage_driver
        self.runtime = runtime
        self.log_level = log_level
        self.config = config


class UsageError(SkiffError):
    exit_code = 125


def parser(prog: str, description: str | None = None) -> argparse.ArgumentParser:
    """argparse with Docker's error shape: one line, exit 125."""
    import argparse

    class Parser(argparse.ArgumentParser):
        def error(self, message: str) -> None:  # type: ignore[override]
            if message.startswith("unrecognized arguments:"):
                flag = message.split(":", 1)[1].strip().split()[0]
                message = f"unknown flag: {flag}" if flag.startswith("-") else f"unexpected argument: {flag}"
            raise UsageError(f"{message}\nSee '{self.prog} --help'.")

    return Parser(prog=prog, description=description)


_VALUE_FLAGS = {"--root": "root", "--runroot": "runroot", "--storage-driver": "storage_driver",
                "--runtime": "runtime", "--log-level": "log_level", "-l": "log_level", "--config": "config"}
_BOOL_FLAGS = {"--debug", "-D", "--version", "-v", "--help", "-h"}


def _parse_globals(argv: list[str]) -> tuple[dict[str, str], set[str], list[str]]:
    """Global flags come before the command words: (values, booleans, the rest)."""
    values: dict[str, str] = {}
    flags: set[str] = set()
    i = 0
    while i < len(argv):
        a = argv[i]
        if not a.startswith("-") or a == "-":
            break
        name, eq, val = a.partition("=")
        if name in _VALUE_FLAGS:
            if not eq:
                if i + 1 >= len(argv):
                    raise UsageError(f"flag needs an argument: {name}\nSee 'skiff --help'.")
                val = argv[i + 1]
                i += 1
            values[_VALUE_FLAGS[name]] = val
        elif a in _BOOL_FLAGS:
            flags.add(a)
        else:
            raise UsageError(f"unknown flag: {a}\nSee 'skiff --help'.")
        i += 1
    return values, flags, argv[i:]


def _usage() -> str:
    from skiff.cli.commands import COMMANDS

    lines = ["Usage:  skiff [OPTIONS] COMMAND", "", "A daemonless, Docker-compatible container engine", "",
             "Commands:"]
    for key, info in sorted(COMMANDS.items()):
        lines.append(f"  {' '.join(key):<22}{info.summary}")
    lines += ["", "Global options:",
              "      --root string        Store root (default /var/lib/skiff, env SKIFF_ROOT)",
              "      --runroot string     Run-state root (default /run/skiff, env SKIFF_RUNROOT)",
              "      --storage-driver s   overlay or vfs (default: chosen automatically)",
              "      --runtime string     skiff, crun or runc (default skiff)",
              "  -v, --version            Print version information and quit",
              "", "Run 'skiff COMMAND --help' for more information on a command."]
    return "\n".join(lines)


def run(argv: list[str]) -> int:
    values, flags, rest = _parse_globals(argv)
    if flags & {"--version", "-v"}:
        print(f"skiff version {__version__}")
        return 0
    if not rest:
        print(_usage())
        return 0
    from skiff.cli.commands import groups, lookup

    found = lookup(rest)
    if found is None:
        word = rest[0]
        if word in groups():
            subs = ", ".join(" ".join(k) for k in groups()[word])
            raise UsageError(f"'skiff {word}' needs a subcommand: {subs}")
        raise UsageError(f"unknown command: \"{word}\"\nSee 'skiff --help'.")
    key, info = found
    __import__(info.module)
    module = sys.modules[info.module]
    args: Any = None
    if not os.environ.get("SKIFF_NO_ARGSPEC"):  # argparse's table, read without argparse (cli/argspec.py)
        from skiff.cli import argspec

        spec = argspec.lookup(key)
        if spec is not None:
            args = argspec.parse(spec, rest[len(key):])
    if args is None:
        p = parser("skiff " + " ".join(key), info.summary)
        module.configure(p)
        args = p.parse_args(rest[len(key):])
    env = os.environ
    opts = GlobalOptions(
        root=os.path.abspath(values.get("root") or env.get("SKIFF_ROOT") or "/var/lib/skiff"),
        runroot=os.path.abspath(values.get("runroot") or env.get("SKIFF_RUNROOT") or "/run/skiff"),
        storage_driver=values.get("storage_driver") or env.get("SKIFF_STORAGE_DRIVER"),
        runtime=values.get("runtime") or env.get("SKIFF_RUNTIME") or "skiff",
        log_level=values.get("log_level", "warn"), config=values.get("config") or env.get("SKIFF_CONFIG"))
    rc: int = module.run(args, opts)
    return rc


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    try:
        code = run(argv)
    except SkiffError as e:
        print(f"Error: {e.message}", file=sys.stderr)
        if e.hint:
            print(f"Hint: {e.hint}", file=sys.stderr)
        code = e.exit_code
    except KeyboardInterrupt:
        code = 130
    except BrokenPipeError:
        code = 0
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        pass
    raise SystemExit(code)


if __name__ == "__main__":
    main()
