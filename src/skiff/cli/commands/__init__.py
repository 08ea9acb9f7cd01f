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
    ("run",): CommandInfo(P + "container_run", "Create and run a new container from an image"),
    ("container", "run"): CommandInfo(P + "container_run", "Create and run a new container from an image"),
    ("create",): CommandInfo(P + "container_run", "Create a new container"),
    ("container", "create"): CommandInfo(P + "container_run", "Create a new container"),
    ("start",): CommandInfo(P + "container_lifecycle", "Start one or more stopped containers"),
    ("container", "start"): CommandInfo(P + "container_lifecycle", "Start one or more stopped containers"),
    ("stop",): CommandInfo(P + "container_lifecycle", "Stop one or more running containers"),
    ("container", "stop"): CommandInfo(P + "container_lifecycle", "Stop one or more running containers"),
    ("kill",): CommandInfo(P + "container_lifecycle", "Kill one or more running containers"),
    ("container", "kill"): CommandInfo(P + "container_lifecycle", "Kill one or more running containers"),
    ("restart",): CommandInfo(P + "container_lifecycle", "Restart one or more containers"),
    ("container", "restart"): CommandInfo(P + "container_lifecycle", "Restart one or more containers"),
    ("pause",): CommandInfo(P + "container_lifecycle", "Pause all processes within one or more containers"),
    ("container", "pause"): CommandInfo(P + "container_lifecycle", "Pause all processes within one or more containers"),
    ("unpause",): CommandInfo(P + "container_lifecycle", "Unpause all processes within one or more containers"),
    ("container", "unpause"): CommandInfo(P + "container_lifecycle", "Unpause all processes within one or more containers"),
    ("wait",): CommandInfo(P + "container_lifecycle", "Block until one or more containers stop, then print their exit codes"),
    ("container", "wait"): CommandInfo(P + "container_lifecycle", "Block until one or more containers stop, then print their exit codes"),
    ("rm",): CommandInfo(P + "container_lifecycle", "Remove one or more containers"),
    ("container", "rm"): CommandInfo(P + "container_lifecycle", "Remove one or more containers"),
    ("container", "remove"): CommandInfo(P + "container_lifecycle", "Remove one or more containers"),
    ("container", "cleanup"): CommandInfo(P + "container_cleanup", "Record a container's exit and apply its restart policy (internal)"),
    ("container", "healthcheck"): CommandInfo(P + "container_healthcheck", "Run a container's health check once and record the result"),
    ("ps",): CommandInfo(P + "container_ps", "List containers"),
    ("container", "ps"): CommandInfo(P + "container_ps", "List containers"),
    ("container", "ls"): CommandInfo(P + "container_ps", "List containers"),
    ("container", "list"): CommandInfo(P + "container_ps", "List containers"),
    ("events",): CommandInfo(P + "events", "Get real time events from the server"),
    ("system", "events"): CommandInfo(P + "events", "Get real time events from the server"),
    ("logs",): CommandInfo(P + "container_logs", "Fetch the logs of a container"),
    ("container", "logs"): CommandInfo(P + "container_logs", "Fetch the logs of a container"),
    ("attach",): CommandInfo(P + "container_attach", "Attach local standard input, output, and error streams to a running container"),
    ("container", "attach"): CommandInfo(P + "container_attach", "Attach local standard input, output, and error streams to a running container"),
    ("exec",): CommandInfo(P + "container_exec", "Execute a command in a running container"),
    ("container", "exec"): CommandInfo(P + "container_exec", "Execute a command in a running container"),
    ("inspect",): CommandInfo(P + "container_inspect", "Return low-level information on containers or images"),
    ("container", "inspect"): CommandInfo(P + "container_inspect", "Display detailed information on one or more containers"),
    ("top",): CommandInfo(P + "container_top", "Display the running processes of a container"),
    ("container", "top"): CommandInfo(P + "container_top", "Display the running processes of a container"),
    ("stats",): CommandInfo(P + "container_stats", "Display a live stream of container(s) resource usage statistics"),
    ("container", "stats"): CommandInfo(P + "container_stats", "Display a live stream of container(s) resource usage statistics"),
    ("cp",): CommandInfo(P + "container_files", "Copy files/folders between a container and the local filesystem"),
    ("container", "cp"): CommandInfo(P + "container_files", "Copy files/folders between a container and the local filesystem"),
    ("diff",): CommandInfo(P + "container_files", "Inspect changes to files or directories on a container's filesystem"),
    ("container", "diff"): CommandInfo(P + "container_files", "Inspect changes to files or directories on a container's filesystem"),
    ("commit",): CommandInfo(P + "container_files", "Create a new image from a container's changes"),
    ("container", "commit"): CommandInfo(P + "container_files", "Create a new image from a container's changes"),
    ("export",): CommandInfo(P + "container_files", "Export a container's filesystem as a tar archive"),
    ("container", "export"): CommandInfo(P + "container_files", "Export a container's filesystem as a tar archive"),
    ("rename",): CommandInfo(P + "container_misc", "Rename a container"),
    ("container", "rename"): CommandInfo(P + "container_misc", "Rename a container"),
    ("port",): CommandInfo(P + "container_misc", "List port mappings or a specific mapping for the container"),
    ("container", "port"): CommandInfo(P + "container_misc", "List port mappings or a specific mapping for the container"),
    ("container", "prune"): CommandInfo(P + "container_misc", "Remove all stopped containers"),
    ("update",): CommandInfo(P + "container_update", "Update configuration of one or more containers"),
    ("container", "update"): CommandInfo(P + "container_update", "Update configuration of one or more containers"),
    ("volume", "create"): CommandInfo(P + "volume", "Create a volume"),
    ("volume", "ls"): CommandInfo(P + "volume", "List volumes"),
    ("volume", "list"): CommandInfo(P + "volume", "List volumes"),
    ("volume", "inspect"): CommandInfo(P + "volume", "Display detailed information on one or more volumes"),
    ("volume", "rm"): CommandInfo(P + "volume", "Remove one or more volumes"),
    ("volume", "remove"): CommandInfo(P + "volume", "Remove one or more volumes"),
    ("volume", "prune"): CommandInfo(P + "volume", "Remove unused local volumes"),
    ("system", "prune"): CommandInfo(P + "container_misc", "Remove unused data"),

    # ---- end containers ----
    #
    #
    # ---- networks (issue 5): network *, port ----
    ("network", "create"): CommandInfo(P + "network_create", "Create a network"),
    ("network", "ls"): CommandInfo(P + "network_ls", "List networks"),
    ("network", "list"): CommandInfo(P + "network_ls", "List networks"),
    ("network", "inspect"): CommandInfo(P + "network_inspect", "Display detailed information on one or more networks"),
    ("network", "rm"): CommandInfo(P + "network_rm", "Remove one or more networks"),
    ("network", "remove"): CommandInfo(P + "network_rm", "Remove one or more networks"),
    ("network", "prune"): CommandInfo(P + "network_prune", "Remove all unused networks"),
    ("network", "connect"): CommandInfo(P + "network_connect", "Connect a container to a network"),
    ("network", "disconnect"): CommandInfo(P + "network_disconnect", "Disconnect a container from a network"),

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
    # ---- registry (issue 7): pull, push, login, logout, manifest create/annotate/inspect/push/rm ----
    ("pull",): CommandInfo(P + "pull", "Download an image from a registry"),
    ("image", "pull"): CommandInfo(P + "pull", "Download an image from a registry"),
    ("push",): CommandInfo(P + "push", "Upload an image to a registry"),
    ("image", "push"): CommandInfo(P + "push", "Upload an image to a registry"),
    ("login",): CommandInfo(P + "login", "Log in to a registry"),
    ("logout",): CommandInfo(P + "logout", "Log out from a registry"),
    ("manifest", "annotate"): CommandInfo(P + "manifest_annotate", "Add additional information to a local image manifest"),
    ("manifest", "create"): CommandInfo(P + "manifest_create", "Create a local manifest list for annotating and pushing to a registry"),
    ("manifest", "inspect"): CommandInfo(P + "manifest_inspect", "Display an image manifest, or manifest list"),
    ("manifest", "push"): CommandInfo(P + "manifest_push", "Push a manifest list to a repository"),
    ("manifest", "rm"): CommandInfo(P + "manifest_rm", "Delete one or more manifest lists from local storage"),
    ("search",): CommandInfo(P + "search", "Search a registry for images"),

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
