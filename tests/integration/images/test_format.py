"""--format through the shared Go-template renderer, and the fast default output agreeing with it."""

from __future__ import annotations

import json
from typing import Any

from skiff.cli import render
from skiff.cli.commands import _fmt


def test_fast_helpers_agree_with_render() -> None:
    for n in (0, 999, 1000, 1234, 2130944, 193e6, 4261550, 1e12, 5.5e18):
        assert _fmt.human_size(n) == render.format_size(n), n
    for s in (0.2, 1, 2, 59, 60, 119, 3599, 3600, 5399, 5400, 86399, 3 * 86400, 20 * 86400, 100 * 86400,
              800 * 86400):
        assert _fmt.human_duration(s) == render.human_duration(s), s
    rows = [["busybox", "latest", "abc"], ["a-much-longer-repository-name", "v1", "def"]]
    text = "\n".join("\t".join(r) for r in [["REPOSITORY", "TAG", "IMAGE ID"], *rows])
    assert _fmt.table(["REPOSITORY", "TAG", "IMAGE ID"], rows) == render.tabwrite(text)


def test_format_flags(bb: Any) -> None:
    out = bb("images", "--format", "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.Size}}").stdout.decode()
    head, row = out.splitlines()
    assert head.split() == ["REPOSITORY", "TAG", "IMAGE", "ID", "SIZE"] and row.startswith("busybox ")
    assert bb("images", "--format", "{{.Repository}}:{{.Tag}}").stdout.decode() == "busybox:latest\n"
    obj = json.loads(bb("images", "--format", "json").stdout)
    assert obj["Repository"] == "busybox" and obj["Tag"] == "latest"
    assert bb("image", "inspect", "-f", "{{json .Config.Cmd}} {{.Os}}", "busybox").stdout.decode() == \
        '["/bin/sh"] linux\n'
    assert bb("info", "-f", "{{.Images}}").stdout.decode().strip() == "1"
    assert bb("history", "--format", "{{.CreatedBy}}|{{.Comment}}", "busybox").stdout.decode() == "|Imported from -\n"
    df = bb("system", "df", "--format", "{{.Type}} {{.TotalCount}}").stdout.decode().splitlines()
    assert df[0] == "Images 1"
    cp = bb("images", "--format", "{{.Nope", check=False)
    assert cp.returncode == 1 and len(cp.stderr.decode().strip().splitlines()) == 1
