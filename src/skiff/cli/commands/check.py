"""skiff check [PATH]: find the mistakes that make a containerised Python app unreachable."""

from __future__ import annotations

from typing import Any

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import argparse


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Check a project's Dockerfile and source: an app bound to 127.0.0.1 inside the container, a port the "
        "app listens on that the Dockerfile does not EXPOSE, and the Dockerfile habit checks. Prints "
        "'FILE:LINE: [ID] message (fix: ...)' per finding. Exit status: 0 when clean, 1 when something was "
        "found or the Dockerfile does not parse (its FILE:LINE error is printed), 125 when PATH is not a folder.")
    parser.add_argument("path", nargs="?", default=".", help="project folder (default: .)")
    parser.add_argument("-f", "--file", default="Dockerfile", help="the Dockerfile, relative to PATH")
    parser.add_argument("--skip", action="append", default=[], metavar="ID",
                        help="silence a check by its id (repeatable, or comma-separated)")


def run(args: argparse.Namespace, opts: Any) -> int:
    from pathlib import Path

    from skiff.errors import InvalidArgumentError
    from skiff.pyapp.checks import check_project

    if not Path(args.path).is_dir():
        raise InvalidArgumentError(f"{args.path}: not a directory")
    skip = [s for item in args.skip for s in item.split(",") if s.strip()]
    findings = check_project(args.path, dockerfile=args.file, skip=skip)
    for f in findings:
        print(f.render())
    return 1 if findings else 0
