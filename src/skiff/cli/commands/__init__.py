"""The command table: words -> (module, summary). Modules are imported only when their command runs.

Each command module defines ``configure(parser)`` (add its flags) and ``run(args, opts) -> int``
(parse -> Engine -> render; no logic of its own).
"""

from __future__ import annotations

from typing import NamedTuple


class CommandInfo(NamedTuple):
    module: str
    summary: str


P = "skiff.cli.commands."

# Aliases point at the same module, as Docker's do (`images` = `image ls`, `ps` = `container ls`).
COMMANDS: dict[tuple[str, ...], CommandInfo] = {
    ("version",): CommandInfo(P + "version", "Show the skiff version information"),
    # ---- images and store (issue 2): images, image *, rmi, tag, save, load, import, info, system df ----

    # ---- end images ----
    #
    #
    # ---- containers (issue 4): run, create, start, ps, logs, exec, stop, rm, ... ----

    # ---- end containers ----
    #
    #
    # ---- networks (issue 5): network *, port ----

    # ---- end networks ----
    #
    #
    # ---- build (issue 6): build, builder prune ----

    # ---- end build ----
    #
    #
    # ---- registry (issue 7): pull, push, login, logout, manifest inspect ----

    # ---- end registry ----
    #
    #
    # ---- python (issue 8): init, check ----
    ("init",): CommandInfo(P + "init", "Write a Dockerfile and .dockerignore for a Python project"),
    ("check",): CommandInfo(P + "check", "Check a Python project and its Dockerfile for unreachable-port mistakes"),

    # ---- end python ----
}


def lookup(words: list[str]) -> tuple[tuple[str, ...], CommandInfo] | None:
    """The longest command in the table that ``words`` starts with."""
    for n in (3, 2, 1):
        key = tuple(words[:n])
        if len(key) == n and key in COMMANDS:
            return key, COMMANDS[key]
    return None


def groups() -> dict[str, list[tuple[str, ...]]]:
    out: dict[str, list[tuple[str, ...]]] = {}
    for key in COMMANDS:
        out.setdefault(key[0], []).append(key)
    return out
