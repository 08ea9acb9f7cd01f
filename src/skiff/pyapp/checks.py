"""``skiff check PATH``: static checks of a Python project and its Dockerfile.

Each finding has an id that ``--skip ID`` silences:

- ``loopback-bind``: what the container runs binds 127.0.0.1/localhost/::1 (``app.run()`` without a host, a
  bare ``uvicorn``/``gunicorn``/``flask run``/``manage.py runserver``), so a published port cannot reach it.
- ``expose-mismatch``: the app listens on a port the Dockerfile does not EXPOSE, while it EXPOSEs others.
- ``no-expose``: the app listens on a known port and the Dockerfile EXPOSEs nothing.
- ``no-dockerfile``: there is no Dockerfile to check (``skiff init`` writes one).
- the Dockerfile habit checks of ``skiff.build.dockerfile.checks`` under their own ids (``RunsAsRoot``,
  ``PipNoCacheDir``, ``CopyBeforeDependencies``, ...; ``# check=skip=ID`` in the Dockerfile works too).

Run-time checks (published vs exposed vs listening ports) live in :mod:`skiff.pyapp.ports`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from pathlib import Path

from skiff.build.dockerfile import checks as habits
from skiff.build.dockerfile.parser import ParseResult, parse
from skiff.pyapp.dockerfile_facts import ServeFacts, serve_facts
from skiff.pyapp.findings import Finding, without
from skiff.pyapp.ports import parse_exposed
from skiff.pyapp.source import RunCall, host_fact, port_fact, scan_file
from skiff.records import dataclass

_SERVER_DEFAULTS = {  # what each server binds when its command line names no address
    "gunicorn": ("127.0.0.1", 8000), "uvicorn": ("127.0.0.1", 8000), "flask": ("127.0.0.1", 5000),
    "runserver": ("127.0.0.1", 8000), "fastapi-run": ("0.0.0.0", 8000), "fastapi-dev": ("127.0.0.1", 8000),
}
# ENV names that move a server's address where the command line cannot show it.
_SERVER_ENV = {"gunicorn": {"GUNICORN_CMD_ARGS", "PORT"}, "flask": {"FLASK_RUN_HOST", "FLASK_RUN_PORT"},
               "uvicorn": {"UVICORN_HOST", "UVICORN_PORT"}}


@dataclass(frozen=True)
class Served:
    """Where what the container runs listens, and where that was read."""

    host: str
    port: int | None
    host_default: bool
    file: str  # "Dockerfile" or the source file
    line: int
    what: str  # "app.run()", "uvicorn", ...


def is_loopback(host: str) -> bool:
    if host in ("localhost", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _opt(argv: list[str], *names: str) -> str | None:
    for i, a in enumerate(argv):
        for n in names:
            if a == n and i + 1 < len(argv):
                return argv[i + 1]
            if n.startswith("--") and a.startswith(n + "="):
                return a.split("=", 1)[1]
            if not n.startswith("--") and a.startswith(n) and len(a) > len(n):
                return a[len(n):]
    return None


def _split_hostport(value: str, default: tuple[str, int]) -> tuple[str, int | None]:
    """``HOST:PORT``, ``:PORT``, ``[::1]:PORT`` or a bare host; a unix socket has no port."""
    if value.startswith(("unix:", "fd://")):
        return value, None
    host, sep, port = value.rpartition(":")
    if not sep or "]" in port:
        return value, default[1]
    return host or "0.0.0.0", int(port) if port.isdigit() else None


def _from_server(argv: list[str], facts: ServeFacts, root: Path) -> Served | None:
    names = [Path(a).name for a in argv]
    for i, n in enumerate(names):
        if n == "gunicorn":
            kind, rest = "gunicorn", argv[i + 1:]
        elif n == "uvicorn":
            kind, rest = "uvicorn", argv[i + 1:]
        elif n == "flask" and "run" in argv[i + 1:]:
            kind, rest = "flask", argv[i + 1:]
        elif n == "fastapi" and i + 1 < len(argv) and argv[i + 1] in ("run", "dev"):
            kind, rest = f"fastapi-{argv[i + 1]}", argv[i + 2:]
        elif n == "manage.py" and "runserver" in argv[i + 1:]:
            kind, rest = "runserver", argv[argv.index("runserver") + 1:]
        else:
            continue
        if facts.env & _SERVER_ENV.get(kind, set()) or (kind == "gunicorn" and (root / "gunicorn.conf.py").exists()):
            return None  # the address comes from the environment or a config file
        default = _SERVER_DEFAULTS[kind]
        if kind == "gunicorn":
            bind = _opt(rest, "--bind", "-b")
            host, port = _split_hostport(bind, default) if bind else default
        elif kind == "runserver":
            addr = next((a for a in rest if not a.startswith("-")), None)
            host, port = _split_hostport(addr, default) if addr else default
            if addr and addr.isdigit():
                host, port = default[0], int(addr)
        else:
            host = _opt(rest, "--host", "-h") or default[0]
            p = _opt(rest, "--port", "-p")
            port = int(p) if p and p.isdigit() else default[1]
        if kind == "runserver":
            explicit = any(not a.startswith("-") and not a.isdigit() for a in rest)
        else:
            explicit = _opt(rest, "--host", "-h", "--bind", "-b") is not None
        return Served(host, port, not explicit and host == default[0], "Dockerfile", facts.cmd_line, kind)
    return None


def _script_of(argv: list[str], root: Path) -> str | None:
    """The project file ``python X.py`` / ``python -m pkg`` runs, relative to the project."""
    for i, a in enumerate(argv):
        if Path(a).name.startswith("python") and i + 1 < len(argv):
            nxt = argv[i + 1]
            if nxt == "-m" and i + 2 < len(argv):
                mod = argv[i + 2].replace(".", "/")
                for rel in (f"{mod}/__main__.py", f"{mod}.py", f"src/{mod}/__main__.py"):
                    if (root / rel).is_file():
                        return rel
            elif nxt.endswith(".py"):
                rel = nxt.removeprefix("/app/").removeprefix("./")
                return rel if (root / rel).is_file() else None
    return None


def _from_source(rel: str, root: Path) -> Served | None:
    scan = scan_file(root, rel)
    if scan is None:
        return None
    runs: list[RunCall] = sorted(scan.runs, key=lambda r: (not r.in_main_guard, r.line))
    if not runs:
        return None
    run = runs[0]
    host, default = host_fact(run)
    port = port_fact(run).value if run.port is not None or run.kind != "bind" else None
    what = {"flask": "app.run()", "uvicorn": "uvicorn.run()"}.get(run.kind, "the server")
    return Served(host.value, int(port) if port and port.isdigit() else None, default, rel, run.line, what)


def served(facts: ServeFacts, root: Path) -> Served | None:
    argv = list(facts.argv)
    found = _from_server(argv, facts, root)
    if found is None and (rel := _script_of(argv, root)) is not None:
        found = _from_source(rel, root)
    return found


def _port_checks(facts: ServeFacts, s: Served, exposed: set[tuple[int, str]], filename: str) -> list[Finding]:
    if s.port is None:
        return []
    where = f"{s.file}:{s.line}"
    if not exposed:
        return [Finding("no-expose", f"the app listens on {s.port}/tcp ({where}) but the Dockerfile has no EXPOSE",
                        f"add EXPOSE {s.port} and publish it with -p {s.port}:{s.port}", filename,
                        facts.cmd_line or 1)]
    if (s.port, "tcp") not in exposed:
        words = ", ".join(f"{p}/{proto}" for p, proto in sorted(exposed))
        return [Finding("expose-mismatch",
                        f"the Dockerfile exposes {words} but the app listens on {s.port}/tcp ({where})",
                        f"EXPOSE {s.port}, and publish it with -p HOSTPORT:{s.port}", filename,
                        facts.expose_lines[0] if facts.expose_lines else facts.cmd_line)]
    return []


def _bind_check(s: Served) -> list[Finding]:
    if not is_loopback(s.host):
        return []
    how = f"{s.what} binds {s.host}" + (" (its default when no host is given)" if s.host_default else "")
    if s.file == "Dockerfile":
        flag = {"gunicorn": "--bind 0.0.0.0:PORT", "runserver": "0.0.0.0:PORT"}.get(s.what, "--host 0.0.0.0")
        fix = f"pass {flag}"
    else:
        fix = f"{s.what[:-2]}(host=\"0.0.0.0\", ...)" if s.what.endswith("()") else "bind 0.0.0.0"
    port = f":{s.port}" if s.port else ""
    return [Finding("loopback-bind", f"{how}: the app listens on {s.host}{port} only, so the published port "
                                     "cannot reach it", f"bind 0.0.0.0: {fix}", s.file, s.line)]


def _habits(parsed: ParseResult, root: Path, filename: str) -> list[Finding]:
    """skiff.build.dockerfile.checks' habit findings (its ids; ``# check=skip=`` honoured there)."""
    found = habits.check_dockerfile(parsed) + habits.check_context(root, root / filename)
    return [Finding(f.id, f.message, f.fix, filename, f.line) for f in found]


def check_dockerfile(text: str, root: Path, *, filename: str = "Dockerfile") -> list[Finding]:
    """Findings for one Dockerfile of the project at ``root`` (its source is read for app.run() calls)."""
    parsed = parse(text, filename=filename)
    facts = serve_facts(parsed)
    found = _habits(parsed, root, filename)
    s = served(facts, root)
    if s is not None:
        found += _bind_check(s) + _port_checks(facts, s, parse_exposed(habits.exposed_ports(parsed)), filename)
    return found


def check_project(path: str | Path, *, dockerfile: str = "Dockerfile", skip: Iterable[str] = ()) -> list[Finding]:
    """All findings for the project at ``path``, in file and line order, minus the ``skip`` ids."""
    root = Path(path)
    df = root / dockerfile
    if not df.is_file():
        found = [Finding("no-dockerfile", f"no {dockerfile} in {root}", "run `skiff init` to write one")]
    else:
        found = check_dockerfile(df.read_text(), root, filename=dockerfile)
    return sorted(without(found, skip), key=lambda f: (f.file or "", f.line, f.id))
