"""`skiff COMMAND --help` in docker/cli's layout (cobra's usage template, pflag's flag table).

Imported only when a help is printed (argparse's ``--help`` action calls the parser's ``format_help``, which
``skiff.cli.main.parser`` points here), so it costs no command its start-up time.

The shape, as `docker rm --help` prints it::

    Usage:  skiff rm [OPTIONS] CONTAINER [CONTAINER...]

    Remove one or more containers

    Aliases:
      skiff container rm, skiff container remove, skiff rm

    Options:
      -f, --force     Force the removal of a running container
      -v, --volumes   Remove anonymous volumes

The Usage line is Docker's synopsis: ``[OPTIONS]`` when the command lists options, then its positionals
(``NAME``, ``[NAME]``, ``NAME [NAME...]``, ``[NAME...]``), or Docker's literal text where that cannot be derived
(:data:`SYNOPSIS`). A command reached through a group shows the group's canonical name (`skiff container list`
prints ``skiff container ls``), as cobra's CommandPath does. Aliases are the other words that lead to the same
module with the same summary, group forms first. Options are pflag's FlagUsages: sorted by long name, the
type word (:data:`TYPE_WORDS`, else derived from the action), the help column two spaces past the longest
left column, wrapped as pflag wraps to the terminal's width, and pflag's ``(default ...)`` suffix.
"""

from __future__ import annotations

import argparse
import os

from skiff.cli.commands import COMMANDS, CommandInfo

PROG = "skiff"

# Docker's synopsis where the parser's positionals cannot give it, keyed by the canonical command words (the
# first alias). The text follows "skiff WORDS "; "{prog}" is the program name (cp's second line names `cp`).
SYNOPSIS: dict[str, str] = {
    "container run": "[OPTIONS] IMAGE [COMMAND] [ARG...]",
    "container create": "[OPTIONS] IMAGE [COMMAND] [ARG...]",
    "container exec": "[OPTIONS] CONTAINER COMMAND [ARG...]",
    "container cp": "[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\t{prog} cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH",
    "container commit": "[OPTIONS] CONTAINER [REPOSITORY[:TAG]]",
    "container port": "CONTAINER [PRIVATE_PORT[/PROTO]]",
    "container top": "CONTAINER [ps OPTIONS]",
    "container rename": "CONTAINER NEW_NAME",
    "image ls": "[OPTIONS] [REPOSITORY[:TAG]]",
    "image tag": "SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
    "image import": "[OPTIONS] file|URL|- [REPOSITORY[:TAG]]",
    "image pull": "[OPTIONS] NAME[:TAG|@DIGEST]",
    "image push": "[OPTIONS] NAME[:TAG]",
    "image build": "[OPTIONS] PATH | URL | -",
    "inspect": "[OPTIONS] NAME|ID [NAME|ID...]",
    "login": "[OPTIONS] [SERVER]",
    "volume create": "[OPTIONS] [VOLUME]",
    "container inspect": "[OPTIONS] CONTAINER [CONTAINER...]",
    "network rm": "NETWORK [NETWORK...]",  # Docker's Use lines, [OPTIONS] left out though -f exists
    "builder prune": "",
    "manifest inspect": "[OPTIONS] [MANIFEST_LIST] MANIFEST",
    "manifest create": "MANIFEST_LIST MANIFEST [MANIFEST...]",
}

# The order Docker lists an alias set in, where it is not "group forms first (table order), then the short
# form" (the first entry is the canonical name, shown on the Usage line of every group form).
ALIAS_ORDER: tuple[tuple[str, ...], ...] = (
    ("container ls", "container list", "container ps", "ps"),
    ("image build", "build", "builder build"),
)

# pflag's type word where the action does not tell it (docker/cli's opts types: MemBytes is "bytes", NanoCPUs
# "decimal", ListOpts "list", ...): keyed by the long option name, or by "words --name" for one command only.
TYPE_WORDS: dict[str, str] = {
    # docker/cli's own value types
    "memory": "bytes", "memory-swap": "bytes", "memory-reservation": "bytes", "shm-size": "bytes",
    "kernel-memory": "bytes", "io-maxbandwidth": "bytes", "cpus": "decimal", "mount": "mount",
    "ulimit": "ulimit", "sysctl": "map", "annotation": "map", "network": "network", "blkio-weight": "uint16",
    "io-maxiops": "uint", "filter": "filter", "gpus": "gpu-request", "health-interval": "duration",
    "health-timeout": "duration", "health-start-period": "duration", "health-start-interval": "duration",
    "cache-from": "strings", "alias": "strings",
    # integers parsed by skiff's own converters (pflag's int)
    "cpu-shares": "int", "pids-limit": "int", "stop-timeout": "int", "oom-score-adj": "int", "cpu-count": "int",
    "cpu-percent": "int", "cpu-period": "int", "cpu-quota": "int", "cpu-rt-period": "int", "cpu-rt-runtime": "int",
    "memory-swappiness": "int", "health-retries": "int", "limit": "int",
    # one command's flag
    "volume create --opt": "map", "network create --subnet": "strings", "network create --gateway": "strings",
    "network create --ip-range": "strings", "network create --opt": "map", "network create --aux-address": "map",
    "network create --ipam-opt": "map", "network connect --link-local-ip": "strings",
    "network connect --driver-opt": "strings", "image build --network": "string",
    "builder prune --keep-storage": "bytes", "builder prune --max-used-space": "bytes",
    "builder prune --reserved-space": "bytes", "builder prune --min-free-space": "bytes",
    "image push --chunk-size": "bytes", "manifest annotate --os-features": "strings",
}

# Options whose default pflag would show but Docker's flag has none (its value is the daemon's default).
NO_DEFAULT: frozenset[str] = frozenset({
    "container kill --signal", "container run --network", "container create --network",
    "container run --memory-swappiness", "container create --memory-swappiness",
})


def _words(key: tuple[str, ...]) -> str:
    return " ".join(key)


def aliases(key: tuple[str, ...]) -> list[tuple[str, ...]]:
    """Every command that is ``key`` under another name, in Docker's order (one entry: no aliases)."""
    info = COMMANDS[key]
    same = [k for k, i in COMMANDS.items() if i.module == info.module and i.summary == info.summary]
    names = {_words(k) for k in same}
    for order in ALIAS_ORDER:
        if names <= set(order) and _words(key) in order:
            return [tuple(w.split()) for w in order if w in names]
    return [k for k in same if len(k) > 1] + [k for k in same if len(k) == 1]


def canonical(key: tuple[str, ...]) -> tuple[str, ...]:
    """The words the Usage line names: a group form shows its group's first alias (cobra's CommandPath)."""
    if len(key) == 1:
        return key
    for k in aliases(key):
        if k[0] == key[0]:
            return k
    return key


def _visible(p: argparse.ArgumentParser) -> list[argparse.Action]:
    return [a for a in p._actions if a.option_strings and a.help != argparse.SUPPRESS
            and not isinstance(a, argparse._HelpAction)]


def _positional(a: argparse.Action) -> str:
    name = a.metavar if isinstance(a.metavar, str) else a.dest.upper()
    if a.nargs is None:
        return name
    if a.nargs == "?":
        return f"[{name}]"
    if a.nargs == "+":
        return f"{name} [{name}...]"
    if a.nargs == "*":
        return f"[{name}...]"
    if a.nargs == argparse.REMAINDER:
        return "[COMMAND] [ARG...]"
    if isinstance(a.nargs, int):
        return " ".join([name] * a.nargs)
    return f"[{name}...]"


def synopsis(p: argparse.ArgumentParser, key: tuple[str, ...]) -> str:
    """What follows ``skiff WORDS`` on the Usage line."""
    fixed = SYNOPSIS.get(_words(aliases(key)[0]))
    if fixed is not None:
        return fixed.format(prog=PROG)
    parts = ["[OPTIONS]"] if _visible(p) else []
    parts += [_positional(a) for a in p._actions if not a.option_strings]
    return " ".join(parts)


def long_name(a: argparse.Action) -> str | None:
    """pflag's one name per flag: the longest of the long forms (`--net` and `--time` are Docker's hidden
    spellings of `--network` and `--timeout`)."""
    longs = [s[2:] for s in a.option_strings if s.startswith("--")]
    return max(longs, key=len) if longs else None


def _short(a: argparse.Action) -> str | None:
    for s in a.option_strings:
        if len(s) == 2 and s[0] == "-" and s[1] != "-":
            return s[1]
    return None


def _is_flag(a: argparse.Action) -> bool:
    return a.nargs == 0


def type_word(a: argparse.Action, key: tuple[str, ...]) -> str:
    """pflag's value word: the table, else an explicit metavar, else the action's kind and type."""
    name = long_name(a) or ""
    for k in (f"{_words(aliases(key)[0])} --{name}", f"{_words(key)} --{name}", name):
        if k in TYPE_WORDS:
            return TYPE_WORDS[k]
    if _is_flag(a):
        return ""
    if isinstance(a.metavar, str):
        return a.metavar.lower()
    if isinstance(a, argparse._AppendAction):
        return "list"
    if a.type is int:
        return "int"
    if a.type is float:
        return "float"
    return "string"


def _go_quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


_EMPTY_DEFAULTS = {"map": "map[]", "ulimit": "[]"}


def default_suffix(a: argparse.Action, key: tuple[str, ...]) -> str:
    """pflag's " (default ...)" for a flag whose default is not its type's zero value."""
    name = long_name(a) or ""
    if f"{_words(aliases(key)[0])} --{name}" in NO_DEFAULT or "(default" in (a.help or ""):
        return ""
    d = a.default
    word = type_word(a, key)
    if word in _EMPTY_DEFAULTS and not d:
        return f" (default {_EMPTY_DEFAULTS[word]})"  # docker/cli's MapOpts and UlimitOpt are never "zero"
    if d is None or d is False or d == argparse.SUPPRESS or d == "" or d == 0 or d == [] or d == ():
        return ""
    if _is_flag(a):
        if isinstance(a, argparse._StoreConstAction) and a.const is True and d is True:
            return " (default true)"  # store_true with default True: a pflag boolean that starts true
        return ""
    if isinstance(d, bool):
        return f" (default {'true' if d else 'false'})"
    if isinstance(d, str):
        return f" (default {_go_quote(d)})"
    if isinstance(d, (list, tuple)):
        return " (default [" + " ".join(str(x) for x in d) + "])"
    return f" (default {d})"


def _wrap_n(i: int, slop: int, s: str) -> tuple[str, str]:
    """pflag's wrapN."""
    if i + slop > len(s):
        return s, ""
    head = s[:i]
    w = max(head.rfind(" "), head.rfind("\t"), head.rfind("\n"))
    if w <= 0:
        return s, ""
    nl = head.rfind("\n")
    if 0 < nl < w:
        return s[:nl], s[nl + 1:]
    return s[:w], s[w + 1:]


def _wrap(i: int, w: int, s: str) -> str:
    """pflag's wrap: ``s`` in lines of at most ``w`` columns, the later ones indented by ``i``."""
    if w == 0:
        return s.replace("\n", "\n" + " " * i)
    width = w - i
    r = ""
    if width < 24:
        i = 16
        width = w - i
        r += "\n" + " " * i
    if width < 24:
        return s.replace("\n", r)
    slop = 5
    width -= slop
    line, s = _wrap_n(width, slop, s)
    r += line.replace("\n", "\n" + " " * i)
    while s:
        line, s = _wrap_n(width, slop, s)
        r += "\n" + " " * i + line.replace("\n", "\n" + " " * i)
    return r


def terminal_width() -> int:
    """docker/cli's width: the terminal on stdin, else 80."""
    try:
        return os.get_terminal_size(0).columns
    except OSError:
        return 80


def flag_usages(p: argparse.ArgumentParser, key: tuple[str, ...], cols: int) -> list[str]:
    """pflag's FlagUsagesWrapped(cols) for the parser's visible options."""
    rows: list[tuple[str, str, str]] = []
    for a in _visible(p):
        name = long_name(a)
        short = _short(a)
        if name is None:
            left = f"  -{short}"
            sort = short or ""
        else:
            left = f"  -{short}, --{name}" if short else f"      --{name}"
            sort = name
        word = type_word(a, key)
        if word:
            left += " " + word
        rows.append((sort, left, (a.help or "") + default_suffix(a, key)))
    rows.sort(key=lambda r: r[0])
    maxlen = max((len(left) + 1 for _, left, _ in rows), default=0)
    out = []
    for _, left, text in rows:
        pad = " " * (maxlen - len(left))  # pflag's deliberate off-by-one: three spaces after the longest
        out.append(f"{left} {pad} {_wrap(maxlen + 2, cols, text)}".rstrip())
    return out


def format_help(p: argparse.ArgumentParser, cols: int | None = None) -> str:
    """The whole help of the command ``p`` was configured for (its prog is "skiff WORDS")."""
    key = tuple(p.prog.split()[1:])
    info: CommandInfo | None = COMMANDS.get(key)
    if info is None:
        return p.format_usage()
    words = _words(canonical(key))
    syn = synopsis(p, key)
    lines = [f"Usage:  {PROG} {words}" + (f" {syn}" if syn else ""), "", info.summary]
    names = aliases(key)
    if len(names) > 1:
        lines += ["", "Aliases:", "  " + ", ".join(f"{PROG} {_words(k)}" for k in names)]
    usages = flag_usages(p, key, (terminal_width() if cols is None else cols) - 1)
    if usages:
        lines += ["", "Options:", *usages]
    return "\n".join(lines) + "\n"


def group_help(group: str) -> str:
    """`docker network` with no subcommand: the group's commands, one line each (aliases left out)."""
    subs: dict[str, str] = {}
    seen: set[tuple[str, str]] = set()
    for key, info in COMMANDS.items():
        if len(key) != 2 or key[0] != group or info.summary.endswith("(internal)"):
            continue  # cobra leaves hidden commands out
        first = canonical(key)
        if (info.module, info.summary) in seen or first != key:
            continue
        seen.add((info.module, info.summary))
        subs[key[1]] = info.summary
    width = max([len(s) for s in subs] + [11])  # cobra's NamePadding (at least 11)
    lines = [f"Usage:  {PROG} {group} COMMAND", "", f"Manage {_GROUP_NOUNS.get(group, group + 's')}", "",
             "Commands:"]
    lines += [f"  {s:<{width}} {t}" for s, t in sorted(subs.items())]
    lines += ["", f"Run '{PROG} {group} COMMAND --help' for more information on a command."]
    return "\n".join(lines) + "\n"


_GROUP_NOUNS = {"system": "skiff", "builder": "builds", "manifest": "image manifests and manifest lists"}
