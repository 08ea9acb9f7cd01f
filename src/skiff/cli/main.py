"""skiff's entry point: global flags, the lazy command table, and the only place errors become exit codes.

Start-up budget: this module imports only the standard library's argparse/os/sys and skiff's own light
modules; every command imports what it needs when it runs (``tests/unit/cli/test_startup.py`` checks).
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass

from skiff import __version__
from skiff.cli.commands import COMMANDS, groups, lookup
from skiff.errors import SkiffError


@dataclass(frozen=True)
class GlobalOptions:
    root: str
    runroot: str
    storage_driver: str | None
    runtime: str
    log_level: str
    config: str | None


class UsageError(SkiffError):
    exit_code = 125


class Parser(argparse.ArgumentParser):
    """argparse with Docker's error shape: one line, exit 125."""

    def error(self, message: str) -> None:  # type: ignore[override]
        if message.startswith("unrecognized arguments:"):
            flag = message.split(":", 1)[1].strip().split()[0]
            message = f"unknown flag: {flag}" if flag.startswith("-") else f"unexpected argument: {flag}"
        raise UsageError(f"{message}\nSee '{self.prog} --help'.")


_GLOBAL_VALUE_FLAGS = {"--root", "--runroot", "--storage-driver", "--runtime", "--log-level", "--config", "-l"}


def _split_globals(argv: list[str]) -> tuple[list[str], list[str]]:
    """Global flags come before the command words; return (global argv, the rest)."""
    i = 0
    while i < len(argv):
        a = argv[i]
        if not a.startswith("-") or a == "-":
            break
        if a in _GLOBAL_VALUE_FLAGS:
            i += 2
            continue
        i += 1
    return argv[:i], argv[i:]


def _global_parser() -> Parser:
    p = Parser(prog="skiff", add_help=False)
    p.add_argument("--root", default=os.environ.get("SKIFF_ROOT", "/var/lib/skiff"))
    p.add_argument("--runroot", default=os.environ.get("SKIFF_RUNROOT", "/run/skiff"))
    p.add_argument("--storage-driver", default=os.environ.get("SKIFF_STORAGE_DRIVER"))
    p.add_argument("--runtime", default=os.environ.get("SKIFF_RUNTIME", "skiff"))
    p.add_argument("--log-level", "-l", default="warn")
    p.add_argument("--config", default=os.environ.get("SKIFF_CONFIG"))
    p.add_argument("--debug", "-D", action="store_true")
    p.add_argument("--version", "-v", action="store_true")
    p.add_argument("--help", "-h", action="store_true")
    return p


def _usage() -> str:
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
    gargv, rest = _split_globals(argv)
    g = _global_parser().parse_args(gargv)
    if g.version:
        print(f"skiff version {__version__}")
        return 0
    if not rest:
        print(_usage())
        return 0
    found = lookup(rest)
    if found is None:
        word = rest[0]
        if word in groups():
            subs = ", ".join(" ".join(k) for k in groups()[word])
            raise UsageError(f"'skiff {word}' needs a subcommand: {subs}")
        raise UsageError(f"unknown command: \"{word}\"\nSee 'skiff --help'.")
    key, info = found
    import importlib

    module = importlib.import_module(info.module)
    parser = Parser(prog="skiff " + " ".join(key), description=info.summary)
    module.configure(parser)
    args = parser.parse_args(rest[len(key):])
    opts = GlobalOptions(root=os.path.abspath(g.root), runroot=os.path.abspath(g.runroot),
                         storage_driver=g.storage_driver, runtime=g.runtime, log_level=g.log_level,
                         config=g.config)
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
    sys.stdout.flush()
    raise SystemExit(code)


if __name__ == "__main__":
    main()
