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

    from skiff.cli.commands import CommandInfo


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


# Docker's exit codes: 125 is for `run`/`create` failures (the docker/cli wraps them in StatusError 125) and
# for flag errors of any command; every other command's error exits 1. Explicit codes (126, 127, 64, ...)
# pass through, and skiff's own commands keep the codes their help documents.
_ENGINE_CODE_COMMANDS = {("run",), ("create",), ("container", "run"), ("container", "create"),
                         ("check",), ("init",), ("image", "bootstrap")}


def exit_code(key: tuple[str, ...] | None, e: SkiffError) -> int:
    """The exit code of ``e`` raised by the command ``key`` (None: before a command was found)."""
    if key is None or isinstance(e, UsageError) or key in _ENGINE_CODE_COMMANDS or e.exit_code != 125:
        return e.exit_code
    return 1


def parser(prog: str, description: str | None = None) -> argparse.ArgumentParser:
    """argparse with Docker's error shape: one line, exit 125."""
    import argparse

    class Parser(argparse.ArgumentParser):
        def error(self, message: str) -> None:  # type: ignore[override]
            if message.startswith("unrecognized arguments:"):
                flag = message.split(":", 1)[1].strip().split()[0]
                if not flag.startswith("-"):
                    raise too_many_arguments(self)
                message = f"unknown flag: {flag}"
            elif message.startswith("the following arguments are required:"):
                raise missing_arguments(self)
            elif message.startswith("argument ") and ': invalid argument "' in message:
                # a converter's pflag-worded error: without argparse's "argument -c/--cpu-shares: " and with
                # the flag named as pflag names it ("-c, --cpu-shares")
                names, _, message = message[len("argument "):].partition(": ")
                long = names.split("/")[-1]
                message = message.replace(f' for "{long}" flag', f' for "{names.replace("/", ", ")}" flag', 1)
            raise UsageError(f"{message}\nSee '{self.prog} --help'.")

        def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
            words = list(sys.argv[1:] if args is None else args)
            words, late = bool_values(self, words)
            ns, extras = super().parse_known_args(words, namespace)
            for dest, value in late.items():
                setattr(ns, dest, value)
            return ns, extras

        def format_help(self) -> str:  # docker/cli's layout (argparse's --help action prints this)
            from skiff.cli import helpfmt

            return helpfmt.format_help(self)

    return Parser(prog=prog, description=description)


def requires_arguments(prog: str, count: int, *, exactly: bool = False) -> UsageError:
    """docker/cli's RequiresMinArgs/ExactArgs error (exit 1, a plain error there, not a flag error)."""
    how = "exactly" if exactly else "at least"
    return UsageError(f'"{prog}" requires {how} {count} argument{"" if count == 1 else "s"}.\n'
                      f"See '{prog} --help'.", exit_code=1)


def too_many_arguments(p: argparse.ArgumentParser) -> UsageError:
    """More positionals than the command takes: docker/cli's ExactArgs, RequiresMaxArgs or RequiresRangeArgs
    error (exit 1)."""
    pos = [a for a in p._actions if not a.option_strings]
    least = sum(a.nargs is None for a in pos) + sum(a.nargs for a in pos if isinstance(a.nargs, int))
    most = least + sum(a.nargs == "?" for a in pos)

    def words(n: int) -> str:
        return f'{n} argument{"" if n == 1 else "s"}'

    if most == 0:
        text = "accepts no arguments"
    elif least == most:
        text = f"requires exactly {words(least)}"
    elif least == 0:
        text = f"accepts at most {words(most)}"
    else:
        text = f"requires at least {least} and at most {words(most)}"
    return UsageError(f'"{p.prog}" {text}.\nSee \'{p.prog} --help\'.', exit_code=1)


def missing_arguments(p: argparse.ArgumentParser) -> UsageError:
    """The error for missing positionals: ``min_args`` set by the command's configure(), else one per
    positional that takes a value (REMAINDER, ``*`` and ``?`` take none; ``+`` makes it "at least")."""
    import argparse

    pos = [a for a in p._actions if not a.option_strings]
    count = getattr(p, "min_args", None) or sum(a.nargs not in ("?", "*", argparse.REMAINDER) for a in pos)
    exactly = all(a.nargs is None or isinstance(a.nargs, int) for a in pos)
    return requires_arguments(p.prog, count, exactly=exactly)


_GO_BOOLS = {"1": True, "t": True, "T": True, "TRUE": True, "true": True, "True": True,
             "0": False, "f": False, "F": False, "FALSE": False, "false": False, "False": False}


def go_bool(value: str) -> bool | None:
    """strconv.ParseBool: what a pflag boolean accepts after ``=`` (``--all=false``, ``-H=0``); else None."""
    return _GO_BOOLS.get(value)


def bool_values(p: argparse.ArgumentParser, words: list[str]) -> tuple[list[str], dict[str, bool]]:
    """pflag booleans take ``=VALUE`` (``-H=false``, ``--human=false``), which argparse refuses: take those
    words out and return the values they set (a later bare ``--flag`` wins again). Words after ``--``, after
    a REMAINDER's first word (`run IMAGE CMD...`) and the values of other flags are left alone."""
    import argparse

    remainder = any(a.nargs == argparse.REMAINDER for a in p._actions if not a.option_strings)
    kept: list[str] = []
    late: dict[str, bool] = {}
    i = 0
    while i < len(words):
        w = words[i]
        i += 1
        if w == "--" or (remainder and p._parse_optional(w) is None):  # argparse's own word classifier
            kept.extend(words[i - 1:])
            break
        name, eq, value = w.partition("=")
        act = p._option_string_actions.get(name) if w.startswith("-") else None
        if act is not None and eq and isinstance(act, argparse._StoreConstAction) and \
                isinstance(act.const, bool):
            b = go_bool(value)
            if b is None:
                flags = ", ".join(act.option_strings)
                raise UsageError(f'invalid argument "{value}" for "{flags}" flag: strconv.ParseBool: parsing '
                                 f'"{value}": invalid syntax\nSee \'{p.prog} --help\'.')
            late[act.dest] = act.const if b else not act.const
            continue
        if act is not None and not eq:
            late.pop(act.dest, None)
            if act.nargs is None and not isinstance(act, argparse._StoreConstAction) and i < len(words):
                kept.append(w)
                w = words[i]  # the flag's value
                i += 1
        kept.append(w)
    return kept, late


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
        if word in groups() and rest[1:] in ([], ["--help"], ["-h"]):  # `docker network`: the group's usage
            from skiff.cli import helpfmt

            print(helpfmt.group_help(word), end="")
            return 0
        if word in groups():
            subs = ", ".join(" ".join(k) for k in groups()[word])
            raise UsageError(f"'skiff {word}' needs a subcommand: {subs}")
        raise UsageError(f"unknown command: \"{word}\"\nSee 'skiff --help'.")
    key, info = found
    try:
        return _dispatch(key, info, rest[len(key):], values)
    except SkiffError as e:
        e.exit_code = exit_code(key, e)
        raise


def glue_values(p: Any, argv: list[str]) -> list[str]:
    """pflag's rule, which argparse lacks: a flag that takes a value takes the next word even when it starts
    with "-" (``--health-interval -1s``, ``-e -x``); argparse would read that word as an option. Such pairs
    are joined (``--flag=-1s``, ``-e-x``), up to the first positional (after it, run's and exec's words are the
    container's command)."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--" or not a.startswith("-") or a == "-":
            return out + argv[i:]
        act = p._option_string_actions.get(a)
        if act is not None and act.nargs is None and i + 1 < len(argv):
            value = argv[i + 1]
            out.append((f"{a}={value}" if a.startswith("--") else a + value) if value.startswith("-") else a)
            if not value.startswith("-"):
                out.append(value)
            i += 2
            continue
        out.append(a)
        i += 1
    return out


def _dispatch(key: tuple[str, ...], info: CommandInfo, argv: list[str], values: dict[str, str]) -> int:
    __import__(info.module)
    module = sys.modules[info.module]
    args: Any = None
    if not os.environ.get("SKIFF_NO_ARGSPEC"):  # argparse's table, read without argparse (cli/argspec.py)
        from skiff.cli import argspec

        spec = argspec.lookup(key)
        if spec is not None:
            args = argspec.parse(spec, argv)
    if args is None:
        p = parser("skiff " + " ".join(key), info.summary)
        module.configure(p)
        args = p.parse_args(glue_values(p, argv))
    env = os.environ
    opts = GlobalOptions(
        root=os.path.abspath(values.get("root") or env.get("SKIFF_ROOT") or "/var/lib/skiff"),
        runroot=os.path.abspath(values.get("runroot") or env.get("SKIFF_RUNROOT") or "/run/skiff"),
        storage_driver=values.get("storage_driver") or env.get("SKIFF_STORAGE_DRIVER"),
        runtime=values.get("runtime") or env.get("SKIFF_RUNTIME") or "skiff",
        log_level=values.get("log_level", "warn"), config=values.get("config") or env.get("SKIFF_CONFIG"))
    rc: int = module.run(args, opts)
    return rc


def _stdout_gone() -> bool:
    """Whether standard output is a pipe or socket whose reader has gone (poll reports an error on it)."""
    import select

    p = select.poll()
    p.register(1, select.POLLOUT)
    return any(ev & (select.POLLERR | select.POLLHUP) for _, ev in p.poll(0))


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
    except BrokenPipeError as e:
        # a reader of our output that stopped early (`skiff ps | head`) ends the command quietly, as SIGPIPE
        # ends docker's; a broken pipe anywhere else (a socket to a monitor, a helper's pipe) is an error
        if _stdout_gone():
            code = 0
        else:
            print(f"Error: {e.strerror or e}", file=sys.stderr)
            code = 125
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        pass
    raise SystemExit(code)


if __name__ == "__main__":
    main()
