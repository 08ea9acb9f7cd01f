"""The command table: words -> (module, summary). Modules are imported only when their command runs.

Each command module defines ``configure(parser)`` (add its flags) and ``run(args, opts) -> int``
(parse -> Engine -> render; no logic of its own).
"""

from __future__ import annotations


class CommandInfo:
    """Where a command lives and its one-line summary (a plain class: typing.NamedTuple costs start-up time)."""

    __slots__ = ("module", "summary")

    def __init__(self, module: str, summary: str) -> None:
        self.module = module
        self.summary = summary


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
    ("build",): CommandInfo(P + "build", "Build an image from a Dockerfile"),
    ("image", "build"): CommandInfo(P + "build", "Build an image from a Dockerfile"),
    ("builder", "build"): CommandInfo(P + "build", "Build an image from a Dockerfile"),
    ("builder", "prune"): CommandInfo(P + "builder_prune", "Remove build cache"),

    # ---- end build ----
    #
    #
    # ---- registry (issue 7): pull, push, login, logout, manifest inspect ----
    ("pull",): CommandInfo(P + "pull", "Download an image from a registry"),
    ("image", "pull"): CommandInfo(P + "pull", "Download an image from a registry"),
    ("push",): CommandInfo(P + "push", "Upload an image to a registry"),
    ("image", "push"): CommandInfo(P + "push", "Upload an image to a registry"),
    ("login",): CommandInfo(P + "login", "Log in to a registry"),
    ("logout",): CommandInfo(P + "logout", "Log out from a registry"),
    ("manifest", "inspect"): CommandInfo(P + "manifest_inspect", "Show an image's manifest or manifest list"),

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
