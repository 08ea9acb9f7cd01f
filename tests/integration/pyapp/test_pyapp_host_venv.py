"""Run what a generated Dockerfile runs, on the host, without the builder.

For each sample project: `skiff init`, then take the generated Dockerfile apart with skiff's parser and run
its builder-stage `pip --python /opt/venv/bin/python install` lines in a fresh venv standing in for /opt/venv, then its CMD as uid 10001
(the image's USER) inside a network namespace of our own, and GET / over that namespace's loopback. The
HEALTHCHECK command must pass too, and the real listener must satisfy the port checks. Nothing binds a host
address: the server's 0.0.0.0 is the private namespace's.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from skiff.build.dockerfile.parser import Node, parse
from skiff.pyapp.detect import detect_project
from skiff.pyapp.generate import UID, write_files
from skiff.pyapp.ports import PublishedPort, port_findings, wait_listeners

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "pyprojects"
BODIES = {
    "flask-requirements": "Hello, World!",
    "django": "Hello from Django!",
    "fastapi-uv": '{"message":"Hello from FastAPI!"}',
    "poetry": "Hello from Poetry!",
    "pipfile": "Hello from Starlette!",
    "script": "Hello from a plain script!",
}
HOST_PYTHON = f"{sys.version_info[0]}.{sys.version_info[1]}"

pytestmark = [pytest.mark.slow, pytest.mark.skipif(os.geteuid() != 0, reason="needs root for netns and setpriv")]


@pytest.fixture
def workdir() -> Iterator[Path]:
    """A folder uid 10001 can read (pytest's tmp_path lives under a root-only 0700 folder)."""
    d = Path(tempfile.mkdtemp(prefix="skiff-pyapp-"))
    os.chmod(d, 0o755)
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def netns() -> Iterator[str]:
    name = f"skiff-pyapp-{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


def _stages(text: str) -> list[list[Node]]:
    out: list[list[Node]] = []
    for node in parse(text).nodes:
        if node.keyword == "from":
            out.append([])
        else:
            out[-1].append(node)
    return out


def _copy(context: Path, workdir: Path, args: tuple[str, ...]) -> None:
    """COPY SRC... DEST relative to WORKDIR: a folder source copies its contents, files keep their names."""
    *sources, dest = args
    target = workdir / dest
    for src in sources:
        path = context / src
        if path.is_dir():
            shutil.copytree(path, target, dirs_exist_ok=True)
        else:
            target.mkdir(parents=True, exist_ok=True) if dest.endswith("/") else None
            shutil.copy2(path, target / path.name if target.is_dir() else target)


def _in_ns(ns: str, *argv: str, timeout: float = 20) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", "netns", "exec", ns, *argv], capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("name", sorted(BODIES))
def test_generated_dockerfile_serves(name: str, workdir: Path, netns: str) -> None:
    app = workdir / "app"
    shutil.copytree(SAMPLES / name, app)
    project = detect_project(app)
    assert project.python == HOST_PYTHON, "samples ask for the host's Python so this test can stand in"
    write_files(project)
    builder, final = _stages((app / "Dockerfile").read_text())
    venv = workdir / "venv"
    env = {"PATH": f"{venv}/bin:/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1",
           "HOME": str(workdir), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    for k in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "PIP_CONFIG_FILE", "SSL_CERT_FILE"):
        if k in os.environ:
            env[k] = os.environ[k]
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    # Replay the builder stage in an empty folder standing for its /app: COPY brings in only what the
    # Dockerfile names (so a missing COPY fails here as it would in a build); RUN lines run there with
    # our venv standing for /opt/venv (pip's cache mount: root's own cache).
    build = workdir / "build"
    build.mkdir()
    for node in builder:
        if node.keyword == "copy":
            _copy(app, build, node.args)
        elif node.keyword == "run" and "pip --python /opt/venv/bin/python install" in node.args[0]:
            line = node.args[0].replace("/opt/venv", str(venv)).replace(  # pyproject deps: not in the host's /tmp
                "/tmp/requirements.txt", str(workdir / "requirements-from-pyproject.txt"))
            cp = subprocess.run(["/bin/sh", "-c", line], cwd=build,
                                env={**env, "HOME": "/root"}, capture_output=True, text=True, timeout=300)
            assert cp.returncode == 0, cp.stderr[-2000:]
    os.chmod(venv, 0o755)
    cmd = next(n for n in final if n.keyword == "cmd")
    assert cmd.json
    health = next((n for n in final if n.keyword == "healthcheck"), None)
    user = next(n for n in final if n.keyword == "user").args[0]
    assert user == f"{UID}:{UID}"
    path = [e.args for e in final if e.keyword == "env"]
    extra = {k: v for args in path for k, v in zip(args[0::3], args[1::3], strict=False) if k == "PYTHONPATH"}
    argv = ["ip", "netns", "exec", netns, "setpriv", f"--reuid={UID}", f"--regid={UID}", "--clear-groups",
            "env", "-i", *(f"{k}={v}" for k, v in {**env, **extra, "HOME": "/nonexistent"}.items()),
            *(a.replace("/app/", f"{app}/") for a in cmd.args)]
    server = subprocess.Popen(argv, cwd=app, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              start_new_session=True)
    try:
        port = project.port
        assert port is not None
        listeners = wait_listeners(server.pid, [port], timeout=30)
        assert server.poll() is None, server.communicate()[0][-2000:]
        assert port in {x.port for x in listeners if not x.loopback}
        assert port_findings([PublishedPort(port, host_port=port)], [(port, "tcp")], listeners) == []
        seed_mistake = port_findings([PublishedPort(80, host_port=port)], [(port, "tcp")], listeners)
        assert f"the app listens on {port}/tcp" in seed_mistake[-1].message
        got = _in_ns(netns, "curl", "-s", "-m", "10", f"http://127.0.0.1:{port}/")
        assert got.stdout == BODIES[name]
        assert health is not None
        probe = health.args[1:]
        assert _in_ns(netns, *(str(venv / "bin" / "python") if a == "python" else a for a in probe)).returncode == 0
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
