"""What ``skiff init`` learns about a Python project, as frozen dataclasses."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from skiff.records import dataclass, field


class Framework(StrEnum):
    FLASK = "flask"
    DJANGO = "django"
    FASTAPI = "fastapi"
    STARLETTE = "starlette"
    SCRIPT = "script"  # python app.py
    MODULE = "module"  # python -m pkg (a package with __main__.py)

    @property
    def server(self) -> str | None:
        """The production server this framework runs under in the generated image."""
        if self in (Framework.FLASK, Framework.DJANGO):
            return "gunicorn"  # WSGI
        if self in (Framework.FASTAPI, Framework.STARLETTE):
            return "uvicorn"  # ASGI
        return None


class DepsKind(StrEnum):
    REQUIREMENTS = "requirements"  # requirements*.txt
    PEP621 = "pep621"  # pyproject.toml [project]
    UV = "uv"  # pyproject.toml [project] + uv.lock or [tool.uv]
    POETRY = "poetry"  # pyproject.toml [tool.poetry] (Poetry 1 style dependencies)
    PIPFILE = "pipfile"
    SETUPPY = "setup.py"
    NONE = "none"  # a bare script with no dependency file


@dataclass(frozen=True)
class Deps:
    """How a project declares its dependencies, and how the generated Dockerfile is to install them."""

    kind: DepsKind
    files: tuple[str, ...] = ()  # dependency files copied before the code (relative to the project)
    requirements: tuple[str, ...] = ()  # PEP 508 lines resolved at init time (Poetry, Pipfile, setup.py)
    names: frozenset[str] = frozenset()  # normalised names of the listed dependencies
    main_file: str | None = None  # the requirements file passed to pip install -r
    installs_project: bool = False  # pip install --no-deps . after the code is copied
    needs_code: bool = False  # a requirements file names the project itself (-e ., ./pkg): copy the code first
    python_constraint: str | None = None  # requires-python, Poetry's python, Pipfile's python_version
    python_constraint_source: str | None = None


@dataclass(frozen=True)
class SourceFact:
    """A value read from the source (a port, a host), with where it was found."""

    value: str
    file: str
    line: int


@dataclass(frozen=True)
class App:
    """The app to serve: its framework, what the server runs, and the host and port the source names."""

    framework: Framework
    target: str  # gunicorn/uvicorn "module:attr", a script path, or a module name
    file: str | None = None  # the file the app object or script lives in
    port: SourceFact | None = None  # from app.run(port=...), uvicorn.run(port=...), a bind(...)
    host: SourceFact | None = None  # from app.run(host=...) etc.; the framework's default at the call's line
    host_default: bool = False  # the call names no host (Flask and uvicorn then bind 127.0.0.1)
    run_line: int | None = None  # the app.run()/uvicorn.run() call, if any
    run_file: str | None = None
    pythonpath: str | None = None  # "src" for src layouts


@dataclass(frozen=True)
class PythonProject:
    """All ``skiff init`` learned about a project: dependencies, the app, the Python version, the port."""

    root: Path
    deps: Deps
    app: App
    python: str  # "3.11"
    python_source: str  # where the version came from ("requires-python in pyproject.toml", "default")
    port: int | None  # the port the generated image serves on (None: not a server)
    notes: tuple[str, ...] = field(default=())
