"""skiff.cli.render: Go templates (table-driven from data/templates.json), tables, sizes and ages."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from skiff.cli.render import (
    TemplateError,
    format_duration_ago,
    format_size,
    format_status_since,
    render_table,
    render_template,
)
from skiff.errors import SkiffError

CASES = json.loads((Path(__file__).parent / "data" / "templates.json").read_text())["cases"]


@pytest.mark.parametrize("case", CASES, ids=[c["t"][:40] for c in CASES])
def test_template_cases(case: dict[str, Any]) -> None:
    if "err" in case:
        with pytest.raises(TemplateError) as ei:
            render_template(case["t"], case["d"])
        assert case["err"] in str(ei.value)
        assert isinstance(ei.value, SkiffError)
    else:
        assert render_template(case["t"], case["d"]) == case["want"]


def test_parse_error_names_the_template() -> None:
    with pytest.raises(TemplateError, match=r"template parsing error: .*'\{\{\.Foo'"):
        render_template("{{.Foo", {})


@dataclass
class Port:
    private_port: int
    public_port: int


@dataclass
class Row:
    ID: str
    Names: str
    ports: list[Port] = field(default_factory=list)

    def Label(self, key: str) -> str:  # Docker's ps has {{.Label "k"}}
        return {"app": "web"}.get(key, "")


def test_dataclasses_methods_and_snake_case_fields() -> None:
    r = Row("abc", "n", [Port(80, 8080)])
    assert render_template('{{.ID}} {{.Label "app"}} {{(index .Ports 0).PublicPort}}', r) == "abc web 8080"
    assert render_template("{{json .}}", r) == '{"ID":"abc","Names":"n","ports":[{"private_port":80,"public_port":8080}]}'


def test_table_directive_aligns_like_tabwriter() -> None:
    rows = [{"ID": "abc123def456", "Names": "web", "Size": "7.05MB"},
            {"ID": "1", "Names": "a-much-longer-name", "Size": "1.2GB"}]
    out = render_table("table {{.ID}}\\t{{.Names}}\\t{{.Size}}", rows, headers={"ID": "CONTAINER ID"})
    assert out == ("CONTAINER ID   NAMES                SIZE\n"
                   "abc123def456   web                  7.05MB\n"
                   "1              a-much-longer-name   1.2GB\n")
    # no rows: header only; short columns get tabwriter's minimum width of 10
    assert render_table("table {{.ID}}\t{{.Names}}", []) == "ID        NAMES\n"
    # header functions pass the header through
    assert render_table("table {{json .Labels}}\t{{upper .Name}}", [{"Labels": {}, "Name": "x"}]) == \
        "LABELS    NAME\n{}        X\n"
    # without `table`: one line per row, no header
    assert render_table("{{.ID}}", rows) == "abc123def456\n1\n"
    assert render_table("json", [{"ID": "a"}, {"ID": "b"}]) == '{"ID":"a"}\n{"ID":"b"}\n'
    assert render_template("json", {"A": [1]}) == '{"A":[1]}'
    with pytest.raises(TemplateError, match="needs columns"):
        render_table("table", rows)


@pytest.mark.parametrize(("n", "want"), [(0, "0B"), (512, "512B"), (999, "999B"), (1000, "1kB"),
                                          (7052345, "7.05MB"), (1.2e9, "1.2GB"), (123456789012, "123GB"),
                                          (5e15, "5PB")])
def test_format_size(n: float, want: str) -> None:
    assert format_size(n) == want


@pytest.mark.parametrize(("ago", "want"), [(0.5, "Less than a second"), (1, "1 second"), (45, "45 seconds"),
                                            (61, "About a minute"), (125, "2 minutes"), (3600, "About an hour"),
                                            (5 * 3600, "5 hours"), (3 * 86400, "3 days"), (20 * 86400, "2 weeks"),
                                            (90 * 86400, "3 months"), (800 * 86400, "2 years")])
def test_format_duration_ago(ago: float, want: str) -> None:
    now = 1_700_000_000.0
    assert format_duration_ago(now - ago, now=now) == want + " ago"


def test_timestamps_and_status() -> None:
    now = 1_700_000_000.0
    iso = "2023-11-14T22:11:00.987654321Z"  # 1699999860.98..., 139 s before `now`
    assert format_duration_ago(iso, now=now) == "2 minutes ago"
    assert format_duration_ago("0001-01-01T00:00:00Z", now=now) == ""
    assert format_status_since("running", started_at=now - 3, now=now) == "Up 3 seconds"
    assert format_status_since("paused", started_at=now - 7200, now=now) == "Up 2 hours (Paused)"
    assert format_status_since("running", started_at=now - 10, health="starting", now=now) == \
        "Up 10 seconds (health: starting)"
    assert format_status_since("running", started_at=now - 10, health="healthy", now=now) == "Up 10 seconds (healthy)"
    assert format_status_since("exited", started_at=now - 500, finished_at=now - 120, exit_code=0, now=now) == \
        "Exited (0) 2 minutes ago"
    assert format_status_since("restarting", finished_at=now - 5, exit_code=1, now=now) == \
        "Restarting (1) 5 seconds ago"
    assert format_status_since("created", now=now) == "Created"
    assert format_status_since("dead", now=now) == "Dead"
