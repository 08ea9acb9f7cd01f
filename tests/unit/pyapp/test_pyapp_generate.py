"""The Dockerfiles skiff init writes: they parse, have the production shape, and pass every check."""

from __future__ import annotations

import fnmatch
import json
import subprocess
import sys
from pathlib import Path

import pytest

from skiff.build.dockerfile import instructions
from skiff.build.dockerfile.parser import Node, parse
from skiff.errors import SkiffError
from skiff.pyapp.checks import check_project
from skiff.pyapp.detect import detect_project
from skiff.pyapp.generate import DOCKERIGNORE, render_dockerfile, write_files

SAMPLES = ["flask-requirements", "django", "fastapi-uv", "poetry", "script", "pipfile"]
SERVERS = {"flask-requirements": "gunicorn", "django": "gunicorn", "poetry": "gunicorn",
           "fastapi-uv": "uvicorn", "pipfile": "uvicorn", "script": "python"}


def _stages(text: str) -> list[list[Node]]:
    stages: list[list[Node]] = []
    for node in parse(text).nodes:
        if node.keyword == "from":
            stages.append([node])
        else:
            stages[-1].append(node)
    return stages


@pytest.mark.parametrize("name", SAMPLES)
def test_generated_dockerfile_shape(sample, name: str) -> None:
    project = detect_project(sample(name))
    text = render_dockerfile(project)
    stages, _ = instructions.parse(parse(text))  # typed: flags, --mount specs, HEALTHCHECK options all valid
    assert [s.name for s in stages] == ["builder", ""]
    builder, final = _stages(text)
    base = f"python:{project.python}-slim"
    assert builder[0].args == (base, "AS", "builder") and final[0].args == (base,)
    # dependencies install in the builder into /opt/venv, with pip's cache in a cache mount
    assert any(n.keyword == "run" and "venv --without-pip /opt/venv" in n.args[0] for n in builder)
    pip_runs = [n for n in builder if n.keyword == "run" and " install" in n.args[0]]
    # the base image's pip installs into the venv (no pip inside the venv): never into the system
    assert all("pip --python /opt/venv/bin/python install" in n.args[0] for n in pip_runs)
    assert not any(n.keyword == "env" and "/opt/venv/bin" in " ".join(n.args) for n in builder)
    assert all("--mount=type=cache,target=/root/.cache/pip" in n.flags for n in pip_runs)
    if name != "script":  # the plain script has no dependencies and needs no server
        assert pip_runs
        # dependency files are copied before the code, so code changes keep the dependency layer
        first_pip = builder.index(pip_runs[0])
        early = [n.args for n in builder[:first_pip] if n.keyword == "copy"]
        assert all(a[0] != "." for a in early)
        assert [f for a in early for f in a[:-1]] == list(project.deps.files)
    # the final stage copies only the venv from the builder, then the code
    copies = [n for n in final if n.keyword == "copy"]
    assert [c.args for c in copies] == [("/opt/venv", "/opt/venv"), (".", ".")]
    assert copies[0].flags == ("--from=builder",)
    envs = " ".join(" ".join(n.args) for n in final if n.keyword == "env")
    assert "PYTHONDONTWRITEBYTECODE 1" in envs and "PYTHONUNBUFFERED 1" in envs and "/opt/venv/bin" in envs
    assert any(n.keyword == "run" and "useradd" in n.args[0] and "10001" in n.args[0] for n in final)
    assert [n.args for n in final if n.keyword == "user"] == [("10001:10001",)]
    cmd = [n for n in final if n.keyword == "cmd"]
    assert len(cmd) == 1 and cmd[0].json and cmd[0].args[0] == SERVERS[name]
    port = project.port
    assert [n.args for n in final if n.keyword == "expose"] == [(str(port),)]
    assert f"0.0.0.0:{port}" in cmd[0].args or ("0.0.0.0" in cmd[0].args and str(port) in cmd[0].args) \
        or name == "script"
    health = [n for n in final if n.keyword == "healthcheck"]
    assert len(health) == 1 and '["python", "-c"' in health[0].original
    assert f"127.0.0.1', {port})" in health[0].original or f"'http://127.0.0.1:{port}/'" in health[0].original
    assert "curl" not in health[0].original.split("CMD", 1)[1]
    # every instruction has a comment or belongs to a commented group
    assert text.count("\n# ") >= 10


@pytest.mark.parametrize("name", SAMPLES)
def test_generated_project_has_no_findings(sample, name: str) -> None:
    root = sample(name)
    write_files(detect_project(root))
    assert [f.render() for f in check_project(root)] == []


def test_server_is_added_only_when_missing(tree) -> None:
    listed = tree({"requirements.txt": "flask\ngunicorn==23.0.0\n", "app.py": "from flask import Flask\napp=Flask(1)\n"})
    assert "gunicorn>=23" not in render_dockerfile(detect_project(listed))
    missing = tree({"requirements.txt": "flask\n", "app.py": "from flask import Flask\napp=Flask(1)\n"})
    assert "pip --python /opt/venv/bin/python install -r requirements.txt 'gunicorn>=23'" in render_dockerfile(detect_project(missing))


def test_pep621_dependencies_read_with_tomllib_at_build_time(sample, tmp_path: Path) -> None:
    """Run the generated one-liner against the sample's pyproject.toml with the host's Python 3.11."""
    root = sample("fastapi-uv")
    run = next(n for n in parse(render_dockerfile(detect_project(root))).nodes
               if n.keyword == "run" and "tomllib" in n.args[0])
    line = run.args[0].split(" \\", 1)[0].split(" && ")[0].replace("/tmp/requirements.txt", str(tmp_path / "r.txt"))
    subprocess.run(["/bin/sh", "-c", line], cwd=root, check=True,
                   env={"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin"})
    assert (tmp_path / "r.txt").read_text() == "fastapi>=0.115\n"


def test_nested_requirement_files_keep_their_folders(tree) -> None:
    text = render_dockerfile(detect_project(tree({
        "requirements.txt": "-r requirements/base.txt\n", "requirements/base.txt": "flask\n",
        "app.py": "from flask import Flask\napp = Flask(__name__)\n"})))
    assert "COPY requirements.txt ./\nCOPY requirements/base.txt requirements/\n" in text


def test_src_layout_sets_pythonpath(tree) -> None:
    text = render_dockerfile(detect_project(tree({
        "src/svc/__init__.py": "", "src/svc/api.py": "from fastapi import FastAPI\napp = FastAPI()\n",
        "requirements.txt": "fastapi\n"})))
    assert "ENV PYTHONPATH=/app/src" in text and '"svc.api:app"' in text


def test_plain_script_without_port_has_no_expose(tree) -> None:
    text = render_dockerfile(detect_project(tree({"job.py": "if __name__ == '__main__':\n    print(1)\n"})))
    assert "EXPOSE" not in text and "HEALTHCHECK" not in text and 'CMD ["python", "job.py"]' in text


def test_write_files_never_overwrites_without_force(sample) -> None:
    root = sample("flask-requirements")
    (root / ".dockerignore").write_text("mine\n")
    with pytest.raises(SkiffError, match=r"\.dockerignore: already exists; use --force") as e:
        write_files(detect_project(root))
    assert e.value.exit_code == 1
    assert (root / ".dockerignore").read_text() == "mine\n" and not (root / "Dockerfile").exists()
    write_files(detect_project(root), force=True)
    assert (root / ".dockerignore").read_text() == DOCKERIGNORE and (root / "Dockerfile").is_file()


def test_dockerignore_keeps_dependency_files() -> None:
    patterns = [ln for ln in DOCKERIGNORE.splitlines() if ln and not ln.startswith("#")]
    for name in ("requirements.txt", "pyproject.toml", "Pipfile", "poetry.lock", "uv.lock", "setup.py", "app.py"):
        assert not any(fnmatch.fnmatch(name, p.removeprefix("**/")) for p in patterns), name
    for secret in (".env", ".env.production", ".git", ".venv"):
        assert any(fnmatch.fnmatch(secret, p) for p in patterns), secret


def test_cli_init_and_overwrite_error(skiff, sample) -> None:
    root = sample("django")
    cp = skiff("init", str(root))
    out = cp.stdout.decode()
    assert "django app (mysite.wsgi:application)" in out and "port 8000" in out
    cp = skiff("init", str(root), check=False)
    assert cp.returncode == 1
    assert cp.stderr.decode().strip().splitlines()[0] == f"Error: {root}/Dockerfile: already exists; use --force " \
                                                         "to overwrite it"
    assert skiff("init", "--force", str(root)).returncode == 0
    dry = skiff("init", "--dry-run", str(root)).stdout.decode()
    assert dry == (root / "Dockerfile").read_text()
    assert json.loads(json.dumps(dry))  # printable text
