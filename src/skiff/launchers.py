"""Writes the `skiff` and `skiff-runtime` launchers into the venv's bin folder (run by scripts/setup.sh after
``pip install``, replacing pip's console-script wrappers).

pip's wrappers start the interpreter with ``site``, which scans site-packages and runs its ``.pth`` files on
every call: about 4 ms of a 15 ms `skiff --version` here. These launchers start it with ``-S`` and put the
folders that ``site`` would have found (the venv's site-packages and the editable checkout's ``src``), as this
interpreter sees them now, on ``sys.path`` themselves. Children that skiff starts with ``sys.executable``
still get ``site`` as usual. They also turn off the cycle collector, which during start-up alone runs dozens
of passes over the imported modules' objects, and leave through :func:`finish`, which skips the interpreter's
teardown.

    python -m skiff.launchers [BINDIR]
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import NoReturn

ENTRY_POINTS = {"skiff": ("skiff.cli.main", "main"), "skiff-runtime": ("skiff.runtime.cli", "main")}


def search_path(python: str) -> list[str]:
    """The folders ``site`` adds to ``sys.path`` for ``python``: its path with site minus its path with -S."""
    import json
    import subprocess

    def path(*flags: str) -> list[str]:
        out = subprocess.run([python, *flags, "-c", "import sys, json; print(json.dumps(sys.path[1:]))"],
                             capture_output=True, text=True, check=True, cwd="/").stdout
        return [str(p) for p in json.loads(out)]

    bare = set(path("-S"))
    return [p for p in path() if p not in bare and os.path.isdir(p)]


def launcher_text(module: str, func: str, python: str, path: list[str]) -> str:
    """The launcher's source. A folder that is not a site-packages (an editable checkout's ``src``, which
    holds only ``skiff``) goes first, so that ``import skiff`` is found without listing the standard
    library's folders; site-packages go last, where site puts them."""
    first = [p for p in path if not p.rstrip("/").endswith(("site-packages", "dist-packages"))]
    last = [p for p in path if p not in first]
    return (f"#!{python} -S\n"
            "# Written by `python -m skiff.launchers` (scripts/setup.sh): -S skips site's scan of site-packages.\n"
            "import gc\n"
            "# One command per process: the cycle collector's passes over the modules' objects cost ~7-10 ms of\n"
            "# a cached rebuild and would free little (reference counting frees the rest).\n"
            "gc.disable()\n"
            "import sys\n"
            f"sys.path[0:1] = {first!r}\n"
            f"sys.path += {last!r}\n"
            "# The modules' byte-code from one file, without a path search per import (src/skiff/modpack.py).\n"
            "from skiff.modpack import install\n"
            "install()\n"
            f"from {module} import {func}\n"
            "from skiff.launchers import finish\n"
            f"finish({func})\n")


def finish(main: Callable[[], object]) -> NoReturn:
    """Run a command's ``main`` and end the process as the interpreter's own exit would (non-daemon threads
    joined, atexit handlers run, stdout and stderr flushed, ``SystemExit``'s code), but without the teardown
    that follows: freeing every module, class and function one by one costs 8-15 ms of a `skiff ps` or a
    `skiff run` with ~150 modules loaded, and frees nothing the kernel would not. An exception other than
    ``SystemExit`` takes the normal path (traceback, teardown)."""
    try:
        main()
        code: object = 0
    except SystemExit as e:
        code = e.code
    threading = sys.modules.get("threading")
    if threading is not None:
        threading._shutdown()
    import atexit

    atexit._run_exitfuncs()
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:
        print(code, file=sys.stderr)
        status = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: the interpreter would drop the output too
            pass
    os._exit(status & 0xFF)


def write(bindir: str) -> list[str]:
    bindir = os.path.abspath(bindir)
    python = os.path.join(bindir, "python3")
    if not os.path.exists(python):
        python = sys.executable
    path = search_path(python)
    written = []
    for name, (module, func) in ENTRY_POINTS.items():
        dest = os.path.join(bindir, name)
        tmp = f"{dest}.tmp{os.getpid()}"
        with open(tmp, "w") as f:
            f.write(launcher_text(module, func, python, path))
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o755)
        os.replace(tmp, dest)
        written.append(dest)
    return written


def main() -> None:
    bindir = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(sys.executable)
    for dest in write(bindir):
        print(dest)


if __name__ == "__main__":
    main()
