"""skiff init [PATH]: write a production Dockerfile and .dockerignore for a Python project."""

from __future__ import annotations

from typing import Any

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import argparse


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Detect a Python project (requirements*.txt, pyproject.toml with PEP 621/Poetry/uv, Pipfile, setup.py), "
        "its Python version, framework, entry point and port, and write a Dockerfile and .dockerignore. "
        "Existing files are never overwritten without --force (exit 1).")
    parser.add_argument("path", nargs="?", default=".", help="project folder (default: .)")
    parser.add_argument("-f", "--force", action="store_true", help="overwrite an existing Dockerfile/.dockerignore")
    parser.add_argument("--dry-run", action="store_true", help="print the Dockerfile instead of writing files")


def run(args: argparse.Namespace, opts: Any) -> int:
    from skiff.pyapp.detect import detect_project
    from skiff.pyapp.generate import render_dockerfile, write_files

    project = detect_project(args.path)
    if args.dry_run:
        print(render_dockerfile(project), end="")
        return 0
    written = write_files(project, force=args.force)
    app = project.app
    deps = ", ".join(project.deps.files) or project.deps.kind.value
    print(f"Detected a {app.framework.value} app ({app.target}), Python {project.python} "
          f"({project.python_source}), dependencies from {deps}"
          + (f", serving on port {project.port}" if project.port else "") + ".")
    for path in written:
        print(f"Wrote {path}")
    for note in project.notes:
        print(f"Note: {note}")
    publish = f" -p {project.port}:{project.port}" if project.port else ""
    print(f"Next: skiff build -t myapp {args.path} && skiff run -d{publish} myapp")
    return 0
