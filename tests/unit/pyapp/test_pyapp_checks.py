"""skiff check: each check fires on a minimal bad example and stays quiet on good ones."""

from __future__ import annotations

import pytest

from skiff.pyapp.checks import check_project

FLASK_APP = "from flask import Flask\napp = Flask(__name__)\n\nif __name__ == '__main__':\n    app.run({args})\n"
FASTAPI_APP = "from fastapi import FastAPI\napp = FastAPI()\n"


def dockerfile(*lines: str) -> str:
    """A Dockerfile with no habit findings (non-root USER), plus ``lines`` from line 5 on."""
    return "\n".join(["FROM python:3.11-slim", "WORKDIR /app", "COPY . .", "USER 10001", *lines]) + "\n"


def rendered(root) -> list[str]:  # type: ignore[no-untyped-def]
    return [f.render() for f in check_project(root)]


def test_seed_mistake_no_expose(sample) -> None:
    assert rendered(sample("seed")) == [
        "Dockerfile:1: [RunsAsRoot] final stage: no USER is set, so the image runs as root (fix: create an "
        "unprivileged user (e.g. RUN useradd -r app) and add USER app after installing)",
        "Dockerfile:7: [PipNoCacheDir] pip install keeps downloaded wheels in ~/.cache/pip inside the layer (fix: "
        "add --no-cache-dir, or RUN --mount=type=cache,target=/root/.cache/pip pip install ...)",
        "Dockerfile:11: [no-expose] the app listens on 8000/tcp (app.py:12) but the Dockerfile has no EXPOSE "
        "(fix: add EXPOSE 8000 and publish it with -p 8000:8000)"]


def test_fixed_example_has_only_the_tutorial_shape_habits() -> None:
    """examples/flask-hello keeps the seed's one-stage shape: its port is right, its habits are the seed's."""
    from pathlib import Path

    example = Path(__file__).resolve().parents[3] / "examples" / "flask-hello"
    assert [(f.id, f.line) for f in check_project(example)] == [("RunsAsRoot", 3), ("PipNoCacheDir", 9)]


def test_habit_ids_can_be_skipped(tree) -> None:
    root = tree({"app.py": FLASK_APP.format(args="host='0.0.0.0', port=8000"),
                 "Dockerfile": "FROM python\nRUN pip install flask\nCOPY . .\nEXPOSE 8000\nCMD python app.py\n"})
    assert [f.id for f in check_project(root)] == ["RunsAsRoot", "UnpinnedBaseImage", "PipNoCacheDir",
                                                   "JSONArgsRecommended"]
    assert check_project(root, skip=["UnpinnedBaseImage", "runsasroot", "PipNoCacheDir",
                                     "JSONArgsRecommended"]) == []
    (root / "Dockerfile").write_text("# check=skip=RunsAsRoot,PipNoCacheDir\n" + (root / "Dockerfile").read_text())
    assert [f.id for f in check_project(root)] == ["UnpinnedBaseImage", "JSONArgsRecommended"]


def test_expose_mismatch(tree) -> None:
    root = tree({"app.py": FLASK_APP.format(args="host='0.0.0.0', port=8000"),
                 "Dockerfile": dockerfile("EXPOSE 80", 'CMD ["python", "app.py"]')})
    assert rendered(root) == [
        "Dockerfile:5: [expose-mismatch] the Dockerfile exposes 80/tcp but the app listens on 8000/tcp (app.py:5) "
        "(fix: EXPOSE 8000, and publish it with -p HOSTPORT:8000)"]


@pytest.mark.parametrize(("args", "expected"), [
    ("", "app.py:5: [loopback-bind] app.run() binds 127.0.0.1 (its default when no host is given): the app "
         "listens on 127.0.0.1:5000 only, so the published port cannot reach it (fix: bind 0.0.0.0: "
         "app.run(host=\"0.0.0.0\", ...))"),
    ("host='127.0.0.1', port=5000", "app.py:5: [loopback-bind] app.run() binds 127.0.0.1: the app listens on "
                                     "127.0.0.1:5000 only, so the published port cannot reach it (fix: bind "
                                     "0.0.0.0: app.run(host=\"0.0.0.0\", ...))"),
    ("'localhost', 5000", "app.py:5: [loopback-bind] app.run() binds localhost: the app listens on localhost:5000 "
                          "only, so the published port cannot reach it (fix: bind 0.0.0.0: "
                          "app.run(host=\"0.0.0.0\", ...))"),
])
def test_flask_app_run_on_loopback(tree, args: str, expected: str) -> None:
    root = tree({"app.py": FLASK_APP.format(args=args),
                 "Dockerfile": dockerfile("EXPOSE 5000", 'CMD ["python", "app.py"]')})
    assert rendered(root) == [expected]


def test_host_computed_at_run_time_is_not_flagged(tree) -> None:
    root = tree({"app.py": "import socket\n" + FLASK_APP.format(args="host=socket.gethostname(), port=5000"),
                 "Dockerfile": dockerfile("EXPOSE 5000", 'CMD ["python", "app.py"]')})
    assert rendered(root) == []


def test_app_run_is_ignored_when_a_server_runs_the_app(tree) -> None:
    root = tree({"app.py": FLASK_APP.format(args=""),
                 "Dockerfile": dockerfile("EXPOSE 8000", 'CMD ["gunicorn", "-b", "0.0.0.0:8000", "app:app"]')})
    assert rendered(root) == []


@pytest.mark.parametrize(("cmd", "expose", "what"), [
    ('["uvicorn", "main:app"]', "8000", "uvicorn binds 127.0.0.1 (its default when no host is given)"),
    ('["uvicorn", "main:app", "--host", "127.0.0.1", "--port", "9000"]', "9000", "uvicorn binds 127.0.0.1:"),
    ('["gunicorn", "main:app"]', "8000", "gunicorn binds 127.0.0.1 (its default"),
    ('["flask", "run"]', "5000", "flask binds 127.0.0.1 (its default"),
    ('["python", "manage.py", "runserver"]', "8000", "runserver binds 127.0.0.1 (its default"),
    ('["python", "-m", "uvicorn", "main:app", "--port", "8000"]', "8000", "uvicorn binds 127.0.0.1 (its default"),
    ('["fastapi", "dev", "main.py"]', "8000", "fastapi-dev binds 127.0.0.1 (its default"),
    ('["python", "manage.py", "runserver", "127.0.0.1:8000"]', "8000", "runserver binds 127.0.0.1:"),
])
def test_servers_on_loopback(tree, cmd: str, expose: str, what: str) -> None:
    root = tree({"main.py": FASTAPI_APP, "Dockerfile": dockerfile(f"EXPOSE {expose}", f"CMD {cmd}")})
    found = check_project(root)
    assert [(f.id, f.file, f.line) for f in found] == [("loopback-bind", "Dockerfile", 6)]
    assert found[0].message.startswith(what)


@pytest.mark.parametrize("cmd", [
    '["uvicorn", "main:app", "--host", "0.0.0.0"]', '["uvicorn", "main:app", "--host=0.0.0.0", "--port=8000"]',
    '["gunicorn", "--bind=0.0.0.0:8000", "main:app"]', '["fastapi", "run", "main.py"]',
    '["python", "manage.py", "runserver", "0.0.0.0:8000"]', '["flask", "run", "--host", "0.0.0.0", "-p", "8000"]',
])
def test_servers_on_all_addresses_are_quiet(tree, cmd: str) -> None:
    root = tree({"main.py": FASTAPI_APP, "Dockerfile": dockerfile("EXPOSE 8000", f"CMD {cmd}")})
    assert rendered(root) == []


@pytest.mark.parametrize(("env", "cmd"), [
    ("ENV GUNICORN_CMD_ARGS=--bind=0.0.0.0:8000", '["gunicorn", "main:app"]'),
    ("ENV FLASK_RUN_HOST=0.0.0.0 FLASK_RUN_PORT=8000", '["flask", "run"]'),
])
def test_environment_can_set_the_address(tree, env: str, cmd: str) -> None:
    root = tree({"main.py": FASTAPI_APP, "Dockerfile": dockerfile(env, "EXPOSE 8000", f"CMD {cmd}")})
    assert rendered(root) == []


def test_gunicorn_config_file_can_set_the_address(tree) -> None:
    root = tree({"main.py": FASTAPI_APP, "gunicorn.conf.py": "bind = '0.0.0.0:8000'\n",
                 "Dockerfile": dockerfile("EXPOSE 8000", 'CMD ["gunicorn", "main:app"]')})
    assert rendered(root) == []


def test_unparsable_source_is_not_a_finding(tree) -> None:
    root = tree({"app.py": "def broken(:\n", "Dockerfile": dockerfile("EXPOSE 8000", 'CMD ["python", "app.py"]')})
    assert rendered(root) == []


def test_server_port_mismatch(tree) -> None:
    root = tree({"main.py": FASTAPI_APP,
                 "Dockerfile": dockerfile("EXPOSE 80", 'CMD ["uvicorn", "main:app", "--host", "0.0.0.0"]')})
    assert [f.id for f in check_project(root)] == ["expose-mismatch"]


def test_entrypoint_and_multistage(tree) -> None:
    root = tree({"app.py": FLASK_APP.format(args="host='0.0.0.0', port=8000"),
                 "Dockerfile": "FROM python:3.11-slim AS build\nEXPOSE 8000\n" + dockerfile(
                     'ENTRYPOINT ["python"]', 'CMD ["app.py"]')})
    assert [f.id for f in check_project(root)] == ["no-expose"]  # EXPOSE of an earlier stage does not count


def test_no_dockerfile_and_skip(tree) -> None:
    root = tree({"app.py": FLASK_APP.format(args="")})
    assert rendered(root) == [f"[no-dockerfile] no Dockerfile in {root} (fix: run `skiff init` to write one)"]
    assert check_project(root, skip=["NO-DOCKERFILE"]) == []


def test_cli_output_and_exit_status(skiff, sample, tree) -> None:
    seed = sample("seed")
    cp = skiff("check", str(seed), check=False)
    assert cp.returncode == 1
    lines = cp.stdout.decode().splitlines()
    assert [ln.split(" ", 2)[1] for ln in lines] == ["[RunsAsRoot]", "[PipNoCacheDir]", "[no-expose]"]
    assert lines[2].startswith("Dockerfile:11: [no-expose] the app listens on 8000/tcp")
    quiet = skiff("check", "--skip", "no-expose,RunsAsRoot", "--skip", "PipNoCacheDir", str(seed))
    assert (quiet.returncode, quiet.stdout) == (0, b"")
    assert skiff("check", str(seed / "nope"), check=False).returncode == 125
    bad = tree({"app.py": "print(1)\n", "Dockerfile": "FROM python:3.11-slim\nRUN <<EOF\nx\n"})
    cp = skiff("check", str(bad), check=False)
    assert cp.returncode == 1 and b"Dockerfile:2: unterminated heredoc" in cp.stderr
