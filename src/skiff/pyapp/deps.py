"""Find how a project lists its dependencies and turn it into something plain pip can install.

pip cannot read poetry.lock, uv.lock or Pipfile.lock, and the builder stage must need no tool beyond pip, so:
requirements files are installed as they are; PEP 621 projects (uv and Poetry 2 included) have
``[project].dependencies`` read at build time with tomllib; Poetry 1 dependencies, a Pipfile's ``[packages]``
and a literal ``setup(install_requires=[...])`` are converted to PEP 508 lines at init time.
"""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path
from typing import Any

from skiff.errors import InvalidArgumentError
from skiff.pyapp.model import Deps, DepsKind
from skiff.records import replace

_MAIN_REQUIREMENTS = ("requirements.txt", "requirements-prod.txt", "requirements-production.txt",
                      "requirements/prod.txt", "requirements/production.txt", "requirements/base.txt")


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(line: str) -> str | None:
    m = re.match(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)", line)
    return normalise(m.group(1)) if m and not line.lstrip().startswith("-") else None


def _load_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise InvalidArgumentError(f"{path.name}: not valid TOML: {e}") from None


def _requirements(root: Path, main: str) -> Deps:
    """``main`` plus every file it pulls in with -r/-c, all copied before the code."""
    files: list[str] = []
    names: set[str] = set()
    local = False
    todo = [main]
    while todo:
        rel = todo.pop()
        if rel in files:
            continue
        path = root / rel
        if not path.resolve().is_relative_to(root.resolve()):
            raise InvalidArgumentError(f"{rel}: a -r/-c line points outside the project")
        if not path.is_file():
            raise InvalidArgumentError(f"{rel}: named by a -r/-c line but not found")
        files.append(rel)
        for raw in path.read_text().splitlines():
            line = raw.split(" #", 1)[0].strip()
            m = re.match(r"^(?:-r|-c|--requirement|--constraint)[=\s]+(\S+)", line)
            if m:
                todo.append(str(Path(rel).parent / m.group(1)).removeprefix("./"))
            elif re.match(r"^(-e\s+|--editable[=\s]+)?(\.|\./|\.\./|file:)", line):
                local = True
            elif (n := requirement_name(line)) is not None:
                names.add(n)
    return Deps(DepsKind.REQUIREMENTS, files=tuple(files), names=frozenset(names), main_file=main,
                needs_code=local)


def poetry_constraint(spec: str, where: str) -> str:
    """Poetry's ^/~/bare version syntax as a PEP 440 specifier ("" for any version)."""
    spec = spec.strip()
    if spec in ("", "*"):
        return ""
    if "||" in spec:
        raise InvalidArgumentError(f"{where}: cannot convert Poetry constraint {spec!r} (uses ||) for pip")
    m = re.match(r"^([\^~])\s*(\d+(?:\.\d+)*)$", spec)
    if m:
        parts = [int(p) for p in m.group(2).split(".")]
        if m.group(1) == "^":
            i = next((k for k, p in enumerate(parts) if p != 0), len(parts) - 1)
        else:
            i = min(len(parts) - 1, 1) if len(parts) > 1 else 0
        upper = [*parts[:i], parts[i] + 1]
        return f">={m.group(2)},<{'.'.join(map(str, upper))}"
    if re.match(r"^\d", spec):
        return "==" + spec
    return spec.replace(" ", "")


def _poetry_dep(name: str, value: Any, where: str) -> str | None:
    if isinstance(value, str):
        return name + poetry_constraint(value, where)
    if isinstance(value, dict):
        for key in ("git", "path", "url"):
            if key in value:
                raise InvalidArgumentError(
                    f"{where}: dependency {name!r} comes from a {key}; list it in requirements.txt instead")
        if value.get("optional"):
            return None
        out = name
        if value.get("extras"):
            out += "[" + ",".join(value["extras"]) + "]"
        out += poetry_constraint(str(value.get("version", "*")), where)
        markers = [value["markers"]] if value.get("markers") else []
        if value.get("python"):
            pep = poetry_constraint(str(value["python"]), where)
            markers += [f'python_version {m.group(1)} "{m.group(2)}"'
                        for c in pep.split(",") if (m := re.match(r"^([<>=!~]+)(.+)$", c))]
        return out + ("; " + " and ".join(markers) if markers else "")
    raise InvalidArgumentError(f"{where}: cannot read dependency {name!r}")


def _pipfile(root: Path) -> Deps:
    data = _load_toml(root / "Pipfile")
    reqs = []
    for name, value in data.get("packages", {}).items():
        if isinstance(value, str):
            reqs.append(name + ("" if value.strip() == "*" else value.strip()))
        elif isinstance(value, dict):
            for key in ("git", "path", "file", "editable"):
                if key in value:
                    raise InvalidArgumentError(f"Pipfile: package {name!r} uses {key}=; only index packages "
                                               "convert to pip requirements")
            extras = "[" + ",".join(value["extras"]) + "]" if value.get("extras") else ""
            version = str(value.get("version", "*")).strip()
            markers = f"; {value['markers']}" if value.get("markers") else ""
            reqs.append(name + extras + ("" if version == "*" else version) + markers)
    requires = data.get("requires", {})
    pyver = requires.get("python_full_version") or requires.get("python_version")
    return Deps(DepsKind.PIPFILE, files=(), requirements=tuple(reqs),
                names=frozenset(n for r in reqs if (n := requirement_name(r))),
                python_constraint=f"=={pyver}" if pyver else None,
                python_constraint_source="python_version in Pipfile" if pyver else None)


def _pyproject(root: Path, data: dict[str, Any]) -> Deps | None:
    project = data.get("project")
    tool = data.get("tool", {})
    poetry = tool.get("poetry")
    has_backend = "build-system" in data
    if isinstance(project, dict) and ("dependencies" in project or poetry is None):
        uv = (root / "uv.lock").is_file() or "uv" in tool
        deps = [str(d) for d in project.get("dependencies", [])]
        kind = DepsKind.UV if uv else (DepsKind.POETRY if poetry is not None else DepsKind.PEP621)
        package_mode = poetry.get("package-mode", True) if isinstance(poetry, dict) else True
        rp = project.get("requires-python")
        return Deps(kind, files=("pyproject.toml",), requirements=tuple(deps),
                    names=frozenset(n for d in deps if (n := requirement_name(d))),
                    installs_project=has_backend and bool(package_mode),
                    python_constraint=rp, python_constraint_source="requires-python in pyproject.toml")
    if isinstance(poetry, dict):
        where = "pyproject.toml [tool.poetry.dependencies]"
        table = dict(poetry.get("dependencies", {}))
        py = table.pop("python", None)
        reqs = [r for name, v in table.items() if (r := _poetry_dep(name, v, where)) is not None]
        return Deps(DepsKind.POETRY, files=(), requirements=tuple(reqs),
                    names=frozenset(n for r in reqs if (n := requirement_name(r))),
                    installs_project=has_backend and bool(poetry.get("package-mode", True)),
                    python_constraint=str(py) if py else None,
                    python_constraint_source="python in [tool.poetry.dependencies]")
    return None


def _setup_py(root: Path) -> Deps:
    reqs: list[str] = []
    python = None
    try:
        tree = ast.parse((root / "setup.py").read_text(), "setup.py")
    except SyntaxError as e:
        raise InvalidArgumentError(f"setup.py:{e.lineno}: syntax error: {e.msg}") from None
    literal = True
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "setup":
            for kw in node.keywords:
                if kw.arg == "install_requires":
                    try:
                        reqs = [str(x) for x in ast.literal_eval(kw.value)]
                    except ValueError:
                        literal = False
                elif kw.arg == "python_requires" and isinstance(kw.value, ast.Constant):
                    python = str(kw.value.value)
    return Deps(DepsKind.SETUPPY, files=() if literal else ("setup.py",), requirements=tuple(reqs),
                names=frozenset(n for r in reqs if (n := requirement_name(r))), installs_project=True,
                python_constraint=python, python_constraint_source="python_requires in setup.py")


def detect_deps(root: Path) -> Deps:
    """Requirements files first (the pinned list, as in the seed), then pyproject, Pipfile, setup.py."""
    for main in _MAIN_REQUIREMENTS:
        if (root / main).is_file():
            deps = _requirements(root, main)
            break
    else:
        found = sorted(p.name for p in root.glob("requirements*.txt")
                       if not re.search(r"dev|test|lint|doc", p.name))
        deps = _requirements(root, found[0]) if found else Deps(DepsKind.NONE)
    pyproject = _load_toml(root / "pyproject.toml") if (root / "pyproject.toml").is_file() else None
    if deps.kind is DepsKind.REQUIREMENTS:
        if pyproject and isinstance(pyproject.get("project"), dict):  # keep its requires-python
            rp = pyproject["project"].get("requires-python")
            if rp:
                return replace(deps, python_constraint=rp,
                               python_constraint_source="requires-python in pyproject.toml")
        return deps
    if pyproject is not None and (found_py := _pyproject(root, pyproject)) is not None:
        return found_py
    if (root / "Pipfile").is_file():
        return _pipfile(root)
    if (root / "setup.py").is_file():
        return _setup_py(root)
    return deps
