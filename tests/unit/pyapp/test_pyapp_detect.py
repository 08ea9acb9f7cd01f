"""skiff init's detection on the sample projects and on small made-up layouts."""

from __future__ import annotations

from pathlib import Path

import pytest

from skiff.errors import SkiffError
from skiff.pyapp.detect import detect_project
from skiff.pyapp.model import DepsKind, Framework

FLASK = "from flask import Flask\napp = Flask(__name__)\n"

# sample: (framework, target, port, python, deps kind, python source contains)
EXPECTED = {
    "flask-requirements": (Framework.FLASK, "app:app", 8000, "3.11", DepsKind.REQUIREMENTS, "default"),
    "django": (Framework.DJANGO, "mysite.wsgi:application", 8000, "3.11", DepsKind.REQUIREMENTS, "runtime.txt"),
    "fastapi-uv": (Framework.FASTAPI, "main:app", 8000, "3.11", DepsKind.UV, "requires-python"),
    "poetry": (Framework.FLASK, "greeter.app:app", 5050, "3.11", DepsKind.POETRY, "tool.poetry"),
    "script": (Framework.SCRIPT, "server.py", 8080, "3.11", DepsKind.NONE, ".python-version"),
    "pipfile": (Framework.STARLETTE, "main:app", 9000, "3.11", DepsKind.PIPFILE, "Pipfile"),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_samples(sample, name: str) -> None:
    fw, target, port, python, kind, source = EXPECTED[name]
    p = detect_project(sample(name))
    assert (p.app.framework, p.app.target, p.port, p.python, p.deps.kind) == (fw, target, port, python, kind)
    assert source in p.python_source


def test_sample_dependency_details(sample) -> None:
    assert detect_project(sample("flask-requirements")).deps.files == ("requirements.txt",)
    poetry = detect_project(sample("poetry")).deps
    assert poetry.requirements == ("flask>=3.1,<4",) and poetry.installs_project
    pipfile = detect_project(sample("pipfile")).deps
    assert pipfile.requirements == ("starlette>=0.40", "uvicorn") and "uvicorn" in pipfile.names
    uv = detect_project(sample("fastapi-uv")).deps
    assert uv.files == ("pyproject.toml",) and not uv.installs_project  # no [build-system]


@pytest.mark.parametrize(("files", "python", "source"), [
    ({".python-version": "3.13.1\n"}, "3.13", ".python-version"),
    ({".python-version": "# pyenv\ncpython-3.12\n"}, "3.12", ".python-version"),
    ({"runtime.txt": "python-3.12.4\n"}, "3.12", "runtime.txt"),
    ({"pyproject.toml": '[project]\nname="x"\nversion="1"\nrequires-python=">=3.12"\ndependencies=[]\n'},
     "3.12", "requires-python"),
    ({"pyproject.toml": '[project]\nname="x"\nversion="1"\nrequires-python="~=3.13.0"\n'}, "3.13", "requires-python"),
    ({"pyproject.toml": '[tool.poetry]\nname="x"\n[tool.poetry.dependencies]\npython="~3.12"\n'}, "3.12",
     "tool.poetry"),
    ({"Pipfile": '[packages]\nflask="*"\n[requires]\npython_version="3.13"\n'}, "3.13", "Pipfile"),
    ({"setup.py": 'from setuptools import setup\nsetup(name="x", python_requires=">=3.12,<3.13")\n'}, "3.12",
     "setup.py"),
    ({"requirements.txt": "flask\n"}, "3.11", "default"),
])
def test_python_version_sources(tree, files: dict[str, str], python: str, source: str) -> None:
    p = detect_project(tree({"app.py": FLASK, **files}))
    assert p.python == python
    assert source in p.python_source


def test_python_version_file_beats_constraint(tree) -> None:
    p = detect_project(tree({"app.py": FLASK, ".python-version": "3.13\n",
                             "pyproject.toml": '[project]\nname="x"\nversion="1"\nrequires-python=">=3.11"\n'}))
    assert p.python == "3.13"


def test_flask_defaults_and_factory(tree) -> None:
    # app.run() with no port: Flask's 5000; no host: loopback default recorded
    p = detect_project(tree({"requirements.txt": "flask\n",
                             "app.py": FLASK + "if __name__ == '__main__':\n    app.run(debug=True)\n"}))
    assert p.port == 5000 and p.app.host is not None and p.app.host.value == "127.0.0.1" and p.app.host_default
    # no app.run at all: gunicorn's 8000
    assert detect_project(tree({"app.py": FLASK})).port == 8000
    # an application factory
    p = detect_project(tree({"web/__init__.py": "from flask import Flask\ndef create_app():\n    return Flask('x')\n",
                             "requirements.txt": "flask\n"}))
    assert (p.app.framework, p.app.target) == (Framework.FLASK, "web:create_app()")


def test_ports_from_constants_and_environment(tree) -> None:
    src = ("import os\nimport uvicorn\nfrom fastapi import FastAPI\napp = FastAPI()\n"
           "PORT = int(os.getenv('PORT', '8123'))\nif __name__ == '__main__':\n"
           "    uvicorn.run(app, host='0.0.0.0', port=PORT)\n")
    p = detect_project(tree({"main.py": src}))
    assert (p.app.framework, p.port, p.app.port and p.app.port.line) == (Framework.FASTAPI, 8123, 7)


def test_src_layout_and_module(tree) -> None:
    p = detect_project(tree({"src/svc/__init__.py": "", "src/svc/api.py": "from starlette.applications import "
                             "Starlette\napp = Starlette()\n", "requirements.txt": "starlette\n"}))
    assert (p.app.target, p.app.pythonpath) == ("svc.api:app", "src")
    p = detect_project(tree({"tool/__init__.py": "", "tool/__main__.py": "print('hi')\n"}))
    assert (p.app.framework, p.app.target, p.port) == (Framework.MODULE, "tool", None)


def test_django_without_wsgi_setting(tree) -> None:
    p = detect_project(tree({
        "manage.py": "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'proj.settings')\n",
        "proj/__init__.py": "", "proj/settings.py": "DEBUG = False\n", "proj/wsgi.py": "application = None\n",
        "requirements.txt": "django\n"}))
    assert (p.app.framework, p.app.target, p.port) == (Framework.DJANGO, "proj.wsgi:application", 8000)


def test_setup_py_literal_requirements(tree) -> None:
    p = detect_project(tree({"setup.py": "from setuptools import setup\nsetup(name='x', install_requires=["
                             "'flask>=3', 'gunicorn'])\n", "app.py": FLASK}))
    assert p.deps.kind is DepsKind.SETUPPY and p.deps.requirements == ("flask>=3", "gunicorn")
    assert p.deps.installs_project and "gunicorn" in p.deps.names


def test_requirements_includes_are_followed(tree) -> None:
    p = detect_project(tree({"requirements.txt": "-r requirements/base.txt\nflask\n",
                             "requirements/base.txt": "gunicorn==23.0.0\n", "app.py": FLASK}))
    assert p.deps.files == ("requirements.txt", "requirements/base.txt")
    assert {"flask", "gunicorn"} <= p.deps.names


@pytest.mark.parametrize(("files", "message"), [
    ({"README.md": "hi"}, "not a Python project"),
    ({"requirements.txt": "flask\n", "lib/helpers.py": "x = 1\n"}, "found no entry point"),
    ({"requirements.txt": "-r missing.txt\n", "app.py": FLASK}, "missing.txt"),
    ({"requirements.txt": "-r ../../etc/passwd\n", "app.py": FLASK}, "points outside the project"),
    ({"pyproject.toml": "[project\n", "app.py": FLASK}, "pyproject.toml: not valid TOML"),
    ({"pyproject.toml": '[tool.poetry.dependencies]\nx = {git = "https://example.invalid/x"}\n', "app.py": FLASK},
     "comes from a git"),
])
def test_errors_name_the_file(tree, files: dict[str, str], message: str) -> None:
    with pytest.raises(SkiffError, match=message):
        detect_project(tree(files))


def test_not_a_directory(tmp_path: Path) -> None:
    with pytest.raises(SkiffError, match="not a directory"):
        detect_project(tmp_path / "nope")


def test_requirements_naming_the_project_itself(tree) -> None:
    from skiff.pyapp.generate import render_dockerfile

    p = detect_project(tree({"requirements.txt": "-e .\nflask\n", "app.py": FLASK,
                             "pyproject.toml": '[project]\nname="x"\nversion="1"\nrequires-python=">=3.12"\n'}))
    assert p.deps.kind is DepsKind.REQUIREMENTS and p.deps.needs_code and p.python == "3.12"
    text = render_dockerfile(p)
    assert text.index("COPY . .") < text.index("install -r requirements.txt")


def test_poetry_2_uses_the_project_table(tree) -> None:
    p = detect_project(tree({"app.py": FLASK, "pyproject.toml":
                             '[project]\nname="x"\nversion="1"\ndependencies=["flask>=3"]\n[tool.poetry]\n'
                             '[build-system]\nrequires=["poetry-core>=2"]\nbuild-backend="poetry.core.masonry.api"\n'}))
    assert (p.deps.kind, p.deps.files, p.deps.installs_project) == (DepsKind.POETRY, ("pyproject.toml",), True)
