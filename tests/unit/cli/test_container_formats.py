"""Container list, port and stats formatting (table-driven from data/container_formats.json), and the
header maps each list command uses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from skiff.cli.commands._fmt import (
    PS_HEADERS,
    STATS_HEADERS,
    displayable_ports,
    ellipsis,
    go_quote,
    human_duration,
    render,
)
from skiff.cli.commands.container_misc import port_lines
from skiff.errors import SkiffError

DATA = json.loads((Path(__file__).parent / "data" / "container_formats.json").read_text())


@pytest.mark.parametrize("case", DATA["ports"], ids=[c["want"] or "empty" for c in DATA["ports"]])
def test_displayable_ports(case: dict[str, Any]) -> None:
    assert displayable_ports([tuple(p) for p in case["in"]]) == case["want"]


@pytest.mark.parametrize("case", DATA["quote"], ids=[repr(c["in"]) for c in DATA["quote"]])
def test_go_quote(case: dict[str, str]) -> None:
    assert go_quote(case["in"]) == case["want"]


@pytest.mark.parametrize("case", DATA["ellipsis"], ids=[c["want"] for c in DATA["ellipsis"]])
def test_ellipsis(case: dict[str, Any]) -> None:
    assert ellipsis(case["in"], case["n"]) == case["want"]


@pytest.mark.parametrize(("secs", "want"), DATA["duration"])
def test_human_duration(secs: float, want: str) -> None:
    assert human_duration(secs) == want


@pytest.mark.parametrize("case", DATA["port"], ids=[str(c["arg"]) for c in DATA["port"]])
def test_port_lines(case: dict[str, Any]) -> None:
    ports = [tuple(p) for p in case["ports"]]
    if "err" in case:
        with pytest.raises(SkiffError) as ei:
            port_lines(ports, "CTR", case["arg"])  # type: ignore[arg-type]
        assert ei.value.message == case["err"]
        assert ei.value.exit_code != 0
    else:
        assert port_lines(ports, "CTR", case["arg"]) == case["want"]  # type: ignore[arg-type]


@pytest.mark.parametrize(("fmt", "headers", "want"), [
    ("table {{.ID}}\t{{.RunningFor}}\t{{.CreatedAt}}", PS_HEADERS, "CONTAINER ID   CREATED   CREATED AT"),
    # docker/cli SubHeaderContext.Label: the key's last dot-separated part, "-" and "_" as spaces
    ("table {{.Label \"a\"}}\t{{.LocalVolumes}}", PS_HEADERS, "a         LOCAL VOLUMES"),
    ("table {{.Label \"com.example.my-app_tier\"}}", PS_HEADERS, "my app tier"),
    ("table {{.ID}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}\t{{.Name}}",
     STATS_HEADERS, "CONTAINER ID   CPU %     MEM USAGE / LIMIT   MEM %     NET I/O   BLOCK I/O   PIDS      NAME"),
    ("table {{.Container}}", STATS_HEADERS, "CONTAINER"),
])
def test_headers_per_command(fmt: str, headers: dict[str, str], want: str) -> None:
    assert render(fmt, [], command_headers=headers) == want


def test_images_keep_their_headers() -> None:
    assert render("table {{.ID}}\t{{.CreatedSince}}", []) == "IMAGE ID   CREATED"
