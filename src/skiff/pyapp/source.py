"""Read a project's Python source with the ast module (never importing or running it): which framework
objects it creates, and the host and port of each ``app.run(...)``, ``uvicorn.run(...)`` or socket bind."""

from __future__ import annotations

import ast
from pathlib import Path

from skiff.pyapp.model import SourceFact
from skiff.records import dataclass, field

_SKIP_DIRS = {".git", ".venv", "venv", "env", ".env", "node_modules", "__pycache__", "tests", "test", "docs",
              "build", "dist", ".tox", ".nox", ".mypy_cache", ".pytest_cache", "site-packages", "migrations"}
_MAX_FILES = 500
_APP_CLASSES = {"Flask": "flask", "FastAPI": "fastapi", "Starlette": "starlette"}
# Where each kind of run call binds when it names no host or port.
UNKNOWN = "?"  # a value the source computes in a way we do not follow
_DEFAULTS = {"flask": ("127.0.0.1", 5000), "uvicorn": ("127.0.0.1", 8000)}


@dataclass(frozen=True)
class RunCall:
    """One ``app.run()``/``uvicorn.run()`` call or socket bind in the source, and the host and port."""

    kind: str  # "flask" (app.run), "uvicorn" (uvicorn.run), "bind" (a socket server or bind)
    file: str
    line: int
    host: str | None  # None: the call names no host; UNKNOWN: it names one we cannot read
    port: int | None
    in_main_guard: bool


@dataclass
class ModuleScan:
    """What the scan of one module found: imports, framework app objects, run calls, module constants."""

    rel: str  # path relative to the project, "src/pkg/app.py"
    module: str  # import name, "pkg.app"
    imports: set[str] = field(default_factory=set)
    apps: dict[str, str] = field(default_factory=dict)  # module-level variable -> "flask"/"fastapi"/...
    factories: list[str] = field(default_factory=list)  # create_app()/make_app() in a Flask module
    runs: list[RunCall] = field(default_factory=list)
    main_guard: bool = False
    constants: dict[str, object] = field(default_factory=dict)
    django_settings: str | None = None  # os.environ.setdefault("DJANGO_SETTINGS_MODULE", "...")


def python_files(root: Path) -> list[str]:
    """Project .py files, nearest first; virtualenvs, tests and build output left out."""
    out: list[str] = []
    stack = [root]
    while stack and len(out) < _MAX_FILES:
        d = stack.pop(0)
        try:
            entries = sorted(d.iterdir(), key=lambda p: p.name)
        except OSError:
            continue
        for p in entries:
            if p.is_symlink():
                continue
            if p.is_file() and p.suffix == ".py":
                out.append(p.relative_to(root).as_posix())
            elif p.is_dir() and p.name not in _SKIP_DIRS and not p.name.startswith(".") \
                    and not (p / "pyvenv.cfg").exists():
                stack.append(p)
    return out[:_MAX_FILES]


def module_name(rel: str) -> tuple[str, str | None]:
    """("pkg.app", "src") for "src/pkg/app.py"; ("app", None) for "app.py"."""
    parts = rel.removesuffix(".py").split("/")
    pythonpath = None
    if parts[0] == "src" and len(parts) > 1:
        parts, pythonpath = parts[1:], "src"
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts), pythonpath


def _is_main_guard(node: ast.stmt) -> bool:
    if not isinstance(node, ast.If) or not isinstance(node.test, ast.Compare):
        return False
    names = [node.test.left, *node.test.comparators]
    return any(isinstance(n, ast.Name) and n.id == "__name__" for n in names) and any(
        isinstance(n, ast.Constant) and n.value == "__main__" for n in names)


def _call_name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


class _Scanner(ast.NodeVisitor):
    def __init__(self, scan: ModuleScan) -> None:
        self.scan = scan
        self.guard_depth = 0

    def value(self, node: ast.expr | None) -> object:
        """A literal, a module constant, or the default of os.environ.get/os.getenv/int(...)."""
        if node is None:
            return None
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            return self.scan.constants.get(node.id)
        if isinstance(node, ast.Call):
            name = _call_name(node.func)
            if name in ("int", "str") and node.args:
                v = self.value(node.args[0])
                try:
                    return int(v) if name == "int" and v is not None else v  # type: ignore[call-overload]
                except (TypeError, ValueError):
                    return None
            if name in ("get", "getenv") and len(node.args) >= 2:
                return self.value(node.args[1])
        return None

    def arg(self, call: ast.Call, name: str, pos: int | None) -> tuple[bool, object]:
        for kw in call.keywords:
            if kw.arg == name:
                return True, self.value(kw.value)
        if pos is not None and len(call.args) > pos:
            return True, self.value(call.args[pos])
        return False, None

    def add_run(self, kind: str, call: ast.Call, host: tuple[bool, object], port: tuple[bool, object]) -> None:
        # a host that is given but cannot be read statically (HOST variable, a call) is UNKNOWN, not the default
        h = (UNKNOWN if host[1] is None else str(host[1])) if host[0] else None
        p = port[1] if port[0] else None
        self.scan.runs.append(RunCall(kind, self.scan.rel, call.lineno, h, p if isinstance(p, int) else None,
                                      self.guard_depth > 0))

    def visit_If(self, node: ast.If) -> None:
        guard = _is_main_guard(node)
        if guard:
            self.scan.main_guard = True
            self.guard_depth += 1
        self.generic_visit(node)
        if guard:
            self.guard_depth -= 1

    def visit_Call(self, node: ast.Call) -> None:
        name = _call_name(node.func)
        owner = node.func.value if isinstance(node.func, ast.Attribute) else None
        owner_name = owner.id if isinstance(owner, ast.Name) else ""
        if name == "run" and self.scan.apps.get(owner_name) == "flask":
            self.add_run("flask", node, self.arg(node, "host", 0), self.arg(node, "port", 1))
        elif name == "run" and owner_name == "uvicorn":
            self.add_run("uvicorn", node, self.arg(node, "host", None), self.arg(node, "port", None))
        elif (name.endswith("Server") or name == "bind") and node.args and isinstance(node.args[0], ast.Tuple) \
                and len(node.args[0].elts) == 2:
            host, port = node.args[0].elts
            self.add_run("bind", node, (True, self.value(host)), (True, self.value(port)))
        elif name == "setdefault" and len(node.args) == 2 and self.value(node.args[0]) == "DJANGO_SETTINGS_MODULE":
            settings = self.value(node.args[1])
            self.scan.django_settings = settings if isinstance(settings, str) else None
        elif name == "make_server" and len(node.args) >= 2:  # wsgiref.simple_server.make_server(host, port, app)
            self.add_run("bind", node, (True, self.value(node.args[0])), (True, self.value(node.args[1])))
        self.generic_visit(node)


def scan_file(root: Path, rel: str) -> ModuleScan | None:
    """Scan one file; None when it does not parse (a syntax error is the app's own problem, not ours)."""
    try:
        tree = ast.parse((root / rel).read_text(errors="replace"), rel)
    except (SyntaxError, ValueError, OSError):
        return None
    module, _ = module_name(rel)
    scan = ModuleScan(rel, module)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            scan.imports.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            scan.imports.add(node.module.split(".")[0])
    scanner = _Scanner(scan)
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            target = node.targets[0].id
            if isinstance(node.value, ast.Call) and _call_name(node.value.func) in _APP_CLASSES:
                scan.apps[target] = _APP_CLASSES[_call_name(node.value.func)]
            elif (value := scanner.value(node.value)) is not None:
                scan.constants[target] = value
        elif isinstance(node, ast.FunctionDef) and node.name in ("create_app", "make_app") and "flask" in scan.imports:
            scan.factories.append(node.name)
    for node in ast.walk(tree):  # app = create_app() at module level counts as a Flask app too
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and len(node.targets) == 1 \
                and isinstance(node.targets[0], ast.Name) and _call_name(node.value.func) in ("create_app", "make_app") \
                and "flask" in scan.imports:
            scan.apps.setdefault(node.targets[0].id, "flask")
    scanner.visit(tree)
    return scan


def port_fact(run: RunCall) -> SourceFact:
    default = _DEFAULTS.get(run.kind, (None, None))[1]
    return SourceFact(str(run.port if run.port is not None else default), run.file, run.line)


def host_fact(run: RunCall) -> tuple[SourceFact, bool]:
    """(host, True when the call names none and the framework's loopback default applies)."""
    if run.host is None:
        return SourceFact(_DEFAULTS.get(run.kind, ("0.0.0.0", 0))[0], run.file, run.line), True
    return SourceFact(run.host or "0.0.0.0", run.file, run.line), False
