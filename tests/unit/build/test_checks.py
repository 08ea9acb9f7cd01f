"""Habit checks (data/checks.txt), skip lists, exposed ports, large contexts without .dockerignore."""

from __future__ import annotations

from pathlib import Path

import pytest

from skiff.build.dockerfile import instructions as ins
from skiff.build.dockerfile.checks import CHECKS, check_context, check_dockerfile, exposed_ports
from skiff.build.dockerfile.parser import parse

DATA = Path(__file__).parent / "data"


def load_cases() -> list[tuple[str, str, list[str]]]:
    text = (DATA / "checks.txt").read_text(encoding="utf-8")
    cases = []
    for block in text.split("\n=== ")[1:]:
        name, _, rest = block.partition("\n")
        body, _, expected = rest.rpartition("--- ")
        ids = [] if expected.strip() == "none" else expected.split()
        cases.append((name, body, ids))
    return cases


CASES = load_cases()


@pytest.mark.parametrize(("name", "body", "expected"), CASES, ids=[c[0] for c in CASES])
def test_checks_table(name: str, body: str, expected: list[str]) -> None:
    findings = check_dockerfile(parse(body))
    assert [f"{f.id}@{f.line}" for f in findings] == expected
    for finding in findings:
        assert finding.id in CHECKS
        assert finding.message and finding.fix


def test_table_covers_every_dockerfile_check() -> None:
    seen = {entry.split("@")[0] for _, _, ids in CASES for entry in ids}
    assert seen == set(CHECKS) - {"MissingDockerignore"}


def test_explicit_skip_and_typed_input() -> None:
    result = parse("FROM alpine\nCMD echo hi\n")
    assert {f.id for f in check_dockerfile(result)} == {
        "UnpinnedBaseImage",
        "JSONArgsRecommended",
        "RunsAsRoot",
    }
    assert [f.id for f in check_dockerfile(result, skip={"UnpinnedBaseImage", "RunsAsRoot"})] == [
        "JSONArgsRecommended"
    ]
    stages, meta = ins.parse(result)
    assert len(check_dockerfile((stages, meta))) == 3
    assert len(check_dockerfile(stages, skip={"all"})) == 0


def test_exposed_ports_of_final_stage() -> None:
    result = parse(
        "ARG PORT=8080\nFROM alpine:3 AS base\nEXPOSE 53/udp\nFROM base AS app\nARG PORT\nENV ADMIN=9000\n"
        "EXPOSE $PORT ${ADMIN}/tcp 53/UDP\nFROM alpine:3 AS other\nEXPOSE 1\n"
    )
    assert exposed_ports(result, target="app") == ["53/udp", "8080/tcp", "9000/tcp"]
    assert exposed_ports(result) == ["1/tcp"]


def test_large_context_without_dockerignore(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "pack").write_bytes(b"\0" * 3000)
    (tmp_path / "app.py").write_text("print(1)\n")
    findings = check_context(tmp_path, threshold_bytes=2048)
    assert [f.id for f in findings] == ["MissingDockerignore"]
    assert ".git" in findings[0].message
    assert check_context(tmp_path, threshold_bytes=1 << 20) == []
    (tmp_path / "Dockerfile.dockerignore").write_text(".git\n")
    assert check_context(tmp_path, tmp_path / "Dockerfile", threshold_bytes=2048) == []
    (tmp_path / ".dockerignore").write_text(".git\n")
    assert check_context(tmp_path, threshold_bytes=2048) == []
