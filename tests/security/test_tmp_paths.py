"""Row 31 (predictable tmp paths): skiff makes its temporary files with mkstemp/mkdtemp under its own root (or
next to the file it replaces), never under a fixed name in /tmp, and leaves nothing in $TMPDIR."""

from __future__ import annotations

import ast
import gzip
from pathlib import Path
from typing import Any

import pytest

import skiff
from security.conftest import docker_archive, layer, reg

SRC = Path(skiff.__file__).parent
TEMP_CALLS = {"mkstemp", "mkdtemp", "TemporaryDirectory", "NamedTemporaryFile", "SpooledTemporaryFile"}


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                and isinstance(body[0].value, ast.Constant):
            ids.add(id(body[0].value))
    return ids


def test_row31_source_uses_only_private_temp_dirs() -> None:
    problems = []
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        docs = _docstrings(tree)
        for node in ast.walk(tree):
            where = f"{path.relative_to(SRC)}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Call):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else \
                    node.func.id if isinstance(node.func, ast.Name) else ""
                if name == "mktemp":
                    problems.append(f"{where}: tempfile.mktemp (racy name)")
                if name in TEMP_CALLS and not any(k.arg == "dir" for k in node.keywords):
                    problems.append(f"{where}: {name} without dir= (falls back to the shared /tmp)")
                if name == "gettempdir":
                    problems.append(f"{where}: gettempdir")
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs \
                    and node.value.startswith(("/tmp", "/var/tmp", "/dev/shm/")):
                problems.append(f"{where}: fixed path {node.value!r}")
    assert problems == []


@pytest.mark.slow
def test_row31_commands_leave_nothing_in_tmpdir(bb: Any, tmp_path: Path) -> None:
    tmpdir = tmp_path / "tmpdir"
    tmpdir.mkdir()
    env = {"TMPDIR": str(tmpdir), "TMP": str(tmpdir), "TEMP": str(tmpdir)}
    data = layer([reg("hello", b"hi")])
    arch = docker_archive(tmp_path / "gz.tar", [data], tag="gz:1", compressed=[gzip.compress(data)])
    gz = tmp_path / "all.tar.gz"
    gz.write_bytes(gzip.compress(arch.read_bytes()))
    bb("load", "-i", str(gz), env=env)
    bb("save", "-o", str(tmp_path / "saved.tar"), "gz:1", env=env)
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text("FROM busybox\nRUN echo x > /x\n")
    bb("build", "-q", "--network", "none", "-t", "b:1", str(ctx), env=env)
    cid = bb("run", "-d", "--network", "none", "busybox", "sleep", "30", env=env).stdout.decode().strip()
    bb("cp", str(ctx / "Dockerfile"), f"{cid}:/tmp/", env=env)
    bb("cp", f"{cid}:/etc/passwd", str(tmp_path / "pw"), env=env)
    bb("rm", "-f", cid, env=env)
    assert list(tmpdir.iterdir()) == []
    assert not [p for p in (bb.root / "tmp").iterdir()] if (bb.root / "tmp").is_dir() else True
