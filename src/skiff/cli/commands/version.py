"""skiff version."""

from __future__ import annotations

import platform
import sys

from skiff import __version__

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import argparse


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", "-f", help="Format output using a Go template")


def run(args: argparse.Namespace, opts: object) -> int:
    info = {"Version": __version__, "PythonVersion": platform.python_version(), "Os": sys.platform,
            "Arch": platform.machine(), "Kernel": platform.release()}
    if args.format:
        from skiff.cli.render import render_template

        print(render_template(args.format, {"Client": info, "Server": info}))
        return 0
    print("Client:")
    for k in ("Version", "PythonVersion", "Os", "Arch"):
        print(f" {k + ':':<16}{info[k]}")
    return 0
