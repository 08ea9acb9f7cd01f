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
    ("images",): CommandInfo(P + "images", "List images"),
    ("image", "ls"): CommandInfo(P + "images", "List images"),
    ("image", "list"): CommandInfo(P + "images", "List images"),
    ("image", "inspect"): CommandInfo(P + "image_inspect", "Display detailed information on one or more images"),
    ("image", "rm"): CommandInfo(P + "rmi", "Remove one or more images"),
    ("image", "remove"): CommandInfo(P + "rmi", "Remove one or more images"),
    ("rmi",): CommandInfo(P + "rmi", "Remove one or more images"),
    ("image", "tag"): CommandInfo(P + "tag", "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE"),
    ("tag",): CommandInfo(P + "tag", "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE"),
    ("image", "history"): CommandInfo(P + "image_history", "Show the history of an image"),
    ("history",): CommandInfo(P + "image_history", "Show the history of an image"),
    ("image", "prune"): CommandInfo(P + "image_prune", "Remove unused images"),
    ("image", "save"): CommandInfo(P + "save", "Save one or more images to a tar archive"),
    ("save",): CommandInfo(P + "save", "Save one or more images to a tar archive"),
    ("image", "load"): CommandInfo(P + "load", "Load an image from a tar archive or STDIN"),
    ("load",): CommandInfo(P + "load", "Load an image from a tar archive or STDIN"),
    ("image", "import"): CommandInfo(P + "import_", "Import a tarball to create a filesystem image"),
    ("import",): CommandInfo(P + "import_", "Import a tarball to create a filesystem image"),
    ("image", "bootstrap"): CommandInfo(P + "image_bootstrap", "Create a Debian base image with debootstrap"),
    ("info",): CommandInfo(P + "info", "Display system-wide information"),
    ("system", "info"): CommandInfo(P + "info", "Display system-wide information"),
    ("system", "df"): CommandInfo(P + "system_df", "Show skiff disk usage"),

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
