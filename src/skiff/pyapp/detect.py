"""``detect_project(path)``: what kind of Python project this is and how it should run in a container."""

from __future__ import annotations

from pathlib import Path

from skiff.errors import InvalidArgumentError
from skiff.pyapp import versions
from skiff.pyapp.deps import detect_deps
from skiff.pyapp.model import App, Deps, DepsKind, Framework, PythonProject, SourceFact
from skiff.pyapp.source import ModuleScan, RunCall, host_fact, module_name, port_fact, python_files, scan_file

_PREFERRED = ("app.py", "main.py", "server.py", "wsgi.py", "asgi.py", "run.py", "application.py", "api.py")
DEFAULT_PORT = 8000  # gunicorn's and uvicorn's own default, and Django's runserver port


class NotAPythonProjectError(InvalidArgumentError):
    exit_code = 1


def _rank(scan: ModuleScan) -> tuple[int, int, str]:
    name = scan.rel.rsplit("/", 1)[-1]
    pref = _PREFERRED.index(name) if name in _PREFERRED else len(_PREFERRED)
    return (scan.rel.count("/"), pref, scan.rel)


def _django(root: Path, scans: list[ModuleScan]) -> App | None:
    """manage.py's (else wsgi.py's) DJANGO_SETTINGS_MODULE, then WSGI_APPLICATION in those settings."""
    by_rel = {s.rel: s for s in scans}
    named = [by_rel[r].django_settings for r in ("manage.py", *by_rel) if r in by_rel and by_rel[r].django_settings]
    settings_module = named[0] if named else None
    wsgi = None
    for scan in scans:
        if (settings_module and scan.module == settings_module) or (not settings_module
                                                                   and scan.rel.endswith("settings.py")):
            value = scan.constants.get("WSGI_APPLICATION")
            if isinstance(value, str):
                wsgi = value
                settings_module = scan.module
                break
    if settings_module is None:
        return None
    if wsgi is None:
        wsgi = settings_module.rsplit(".", 1)[0] + ".wsgi.application"
    mod, _, attr = wsgi.rpartition(".")
    rel = next((s.rel for s in scans if s.module == mod), None)
    _, pythonpath = module_name(rel) if rel else (None, None)
    return App(Framework.DJANGO, f"{mod}:{attr}", file=rel, port=None, pythonpath=pythonpath)


def _with_run(app: App, runs: list[RunCall]) -> App:
    """Attach the host/port of the app's own run call (app.run, uvicorn.run, a bind) to ``app``."""
    if not runs:
        return app
    run = sorted(runs, key=lambda r: (not r.in_main_guard, r.line))[0]
    host, default = host_fact(run)
    port = port_fact(run) if run.port is not None or run.kind != "bind" else None
    return App(app.framework, app.target, app.file, port=port, host=host, host_default=default,
               run_line=run.line, run_file=run.file, pythonpath=app.pythonpath)


def _find_app(root: Path, scans: list[ModuleScan]) -> App:
    django = _django(root, scans)
    if django is not None:
        return django
    ranked = sorted(scans, key=_rank)
    for wanted in (("fastapi", "starlette"), ("flask",)):
        for scan in ranked:
            for var, fw in scan.apps.items():
                if fw in wanted:
                    _, pythonpath = module_name(scan.rel)
                    app = App(Framework(fw), f"{scan.module}:{var}", scan.rel, pythonpath=pythonpath)
                    kind = "flask" if fw == "flask" else "uvicorn"
                    return _with_run(app, [r for r in scan.runs if r.kind == kind])
            if "flask" in wanted and scan.factories:
                _, pythonpath = module_name(scan.rel)
                app = App(Framework.FLASK, f"{scan.module}:{scan.factories[0]}()", scan.rel, pythonpath=pythonpath)
                return _with_run(app, [r for r in scan.runs if r.kind == "flask"])
    for scan in ranked:
        if scan.rel.endswith("/__main__.py") and scan.rel.count("/") <= 2:
            pkg, pythonpath = module_name(scan.rel.rsplit("/", 1)[0] + ".py")
            return _with_run(App(Framework.MODULE, pkg, scan.rel, pythonpath=pythonpath), scan.runs)
    top = [s for s in ranked if "/" not in s.rel and s.rel not in ("setup.py", "manage.py", "conftest.py")]
    scripts = [s for s in top if s.main_guard] or (top if len(top) == 1 else [])
    if scripts:
        s = scripts[0]
        return _with_run(App(Framework.SCRIPT, s.rel, s.rel), s.runs)
    raise NotAPythonProjectError(
        f"{root}: found no entry point (a Flask/FastAPI/Starlette app object, a Django manage.py, a package "
        "with __main__.py, or a script with `if __name__ == \"__main__\":`)")


def _has_project_files(root: Path) -> bool:
    names = ("pyproject.toml", "Pipfile", "setup.py", "manage.py")
    return any((root / n).is_file() for n in names) or any(root.glob("requirements*.txt")) \
        or any(root.glob("*.py")) or any(root.glob("*/__main__.py")) or any(root.glob("src/*/__main__.py"))


def _port(app: App) -> int | None:
    if app.port is not None:
        return int(app.port.value)
    if app.framework in (Framework.SCRIPT, Framework.MODULE):
        return None
    return DEFAULT_PORT


def detect_project(path: str | Path) -> PythonProject:
    root = Path(path).resolve()
    if not root.is_dir():
        raise NotAPythonProjectError(f"{path}: not a directory")
    if not _has_project_files(root):
        raise NotAPythonProjectError(
            f"{path}: not a Python project (no requirements*.txt, pyproject.toml, Pipfile, setup.py or *.py)")
    deps: Deps = detect_deps(root)
    scans = [s for rel in python_files(root) if (s := scan_file(root, rel)) is not None]
    app = _find_app(root, scans)
    python, source = versions.resolve(root, deps.python_constraint, deps.python_constraint_source)
    notes = []
    if deps.kind is DepsKind.NONE:
        notes.append("no dependency file found: the image installs only the server it needs")
    if app.framework is Framework.DJANGO:
        notes.append("Django: set ALLOWED_HOSTS for the host names you serve and DEBUG=False; gunicorn does not "
                     "serve static files (collectstatic + WhiteNoise, or a front proxy)")
    return PythonProject(root, deps, app, python, source, _port(app), tuple(notes))


__all__ = ["DEFAULT_PORT", "NotAPythonProjectError", "SourceFact", "detect_project"]
