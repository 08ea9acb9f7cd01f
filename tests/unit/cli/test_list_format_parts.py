"""The pieces of the list commands' Docker formats that need no store: which template a command renders,
docker/cli's formatter contexts (JSON shape, missing fields, methods with arguments), Go's time and tabwriter
forms, the reference filter's path.Match, boolean filters and system df's arithmetic (Docker 20.10's)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from helpers.tz import local_zone
from skiff.cli.commands import _fmt
from skiff.cli.commands._fmt import RAW, custom_format, go_time_string, render, table, template_error
from skiff.cli.gotemplate import TemplateError
from skiff.cli.render import render_template
from skiff.engine.filterargs import by_key
from skiff.engine.image_list import ref_matches
from skiff.errors import InvalidArgumentError


@pytest.mark.parametrize(("fmt", "quiet", "raw", "want"), [
    (None, False, "ps", ""), ("", True, "ps", ""), ("table", False, "ps", ""), ("table", True, "ps", ""),
    ("raw", False, "ps", RAW["ps"][0]), ("raw", True, "ps", "container_id: {{.ID}}"),
    ("raw", True, "system df", RAW["system df"][0]),  # df has no quiet form
    ("raw", False, "", "raw"),  # history and stats have no raw format: the word is the template
    ("{{.Names}}", True, "ps", "{{.Names}}"), ("table {{.ID}}", True, "ps", "table {{.ID}}"),
])
def test_custom_format(fmt: str | None, quiet: bool, raw: str, want: str) -> None:
    assert custom_format(fmt, quiet, raw) == want


def test_context_json_is_docker_marshal() -> None:
    rows = [{"Name": "a<b>&c", "Driver": "local", "Label": lambda k: "x", "Mountpoint": "/v/…"}]
    out = render("{{json .}}", [dict(r) for r in rows], go_type="*formatter.volumeContext")
    assert out == '{"Driver":"local","Mountpoint":"/v/…","Name":"a\\u003cb\\u003e\\u0026c"}'
    assert render("json", [dict(r) for r in rows]) == out
    # a field's own JSON is the json function's (SetEscapeHTML(false)): nothing escaped
    assert render("{{json .Name}}", [dict(r) for r in rows]) == '"a<b>&c"'
    assert render('{{.Label "k"}}|{{.Name | printf "%q"}}', [dict(r) for r in rows]) == 'x|"a<b>&c"'


@pytest.mark.parametrize(("fmt", "problem"), [
    ("{{.Foo}}", 'template: :1:2: executing "" at <.Foo>: can\'t evaluate field Foo in type *formatter.T'),
    ("{{.Label}}", 'template: :1:2: executing "" at <.Label>: wrong number of args for Label: want 1 got 0'),
    ('{{.Label "a" "b"}}',
     'template: :1:2: executing "" at <.Label>: wrong number of args for Label: want 1 got 2'),
    ("{{.Name.x}}", 'template: :1:7: executing "" at <.Name.x>: can\'t evaluate field x in type string'),
    ("{{.Name", "template: :1: unclosed action"),
])
def test_context_errors_are_gos(fmt: str, problem: str) -> None:
    with pytest.raises(TemplateError) as ei:
        render(fmt, [{"Name": "n", "Label": lambda k: ""}], go_type="*formatter.T")
    assert (ei.value.message, ei.value.exit_code) == ("template parsing error: " + problem, 1)


def test_template_error_wordings() -> None:
    parse = TemplateError("template parsing error: template: :1: unclosed action (in '{{.ID')")
    run = TemplateError('template: :1:2: executing "" at <.X>: boom')
    ps = ("failed to execute template: ", "failed to parse template: ")
    assert str(template_error(parse, *ps)) == "failed to parse template: template: :1: unclosed action"
    assert str(template_error(run, *ps)) == 'failed to execute template: template: :1:2: executing "" at <.X>: boom'
    assert str(template_error(run, "")) == 'template: :1:2: executing "" at <.X>: boom'


def test_pad_leaves_empty_alone_and_raw_records_end_with_a_blank_line() -> None:
    assert render_template("a:{{- pad .X 1 0}}|", {"X": ""}) == "a:|"
    assert render_template("a:{{- pad .X 1 0}}|", {"X": "v"}) == "a: v|"
    out = render(RAW["volume ls"][0], [{"Name": "v1", "Driver": "local"}, {"Name": "v2", "Driver": "local"}])
    assert out + "\n" == "name: v1\ndriver: local\n\nname: v2\ndriver: local\n\n"


def test_table_pads_an_empty_last_cell() -> None:
    assert table(["A", "COMMENT"], [["x", ""], ["y", "c"]]) == "A         COMMENT\nx         \ny         c"


@pytest.fixture
def utc() -> Iterator[None]:
    with local_zone("UTC"):
        yield


@pytest.mark.parametrize(("text", "want"), [
    ("2026-11-28T22:55:16.95277502Z", "2026-11-28 22:55:16.95277502 +0000 UTC"),
    ("2026-11-28T22:53:23.235209224Z", "2026-11-28 22:53:23.235209224 +0000 UTC"),
    ("2026-11-28T22:55:17Z", "2026-11-28 22:55:17 +0000 UTC"),
    ("2026-11-28T22:55:17.000Z", "2026-11-28 22:55:17 +0000 UTC"),
    ("", "0001-01-01 00:00:00 +0000 UTC"),
    ("2026-11-28T23:55:17+01:00", "2026-11-28 22:55:17 +0000 UTC"),  # shown in local time (UTC here)
])
def test_go_time_string(utc: None, text: str, want: str) -> None:
    assert go_time_string(text) == want


@pytest.mark.parametrize(("pattern", "name", "hit"), [
    ("*", "docker.io/library/busybox:latest", True),
    ("*", "docker.io/other/thing:1.0", False),  # "*" does not cross "/"
    ("*/*", "docker.io/other/thing:1.0", True),
    ("*/*", "docker.io/library/busybox:latest", False),
    ("*:1.0", "docker.io/other/thing:1.0", False),
    ("busy*", "docker.io/library/busybox:latest", True),
    ("busybox:v?", "docker.io/library/busybox:v2", True),
    ("[bo]*", "docker.io/library/busybox:latest", True),
    ("[^b]*", "docker.io/library/busybox:latest", False),
    ("[a-c]usybox", "docker.io/library/busybox:latest", True),
    ("b\\usybox", "docker.io/library/busybox:latest", True),
    ("docker.io/library/busybox", "docker.io/library/busybox:latest", True),  # podman's; not Docker 20.10
    ("localhost:5000/app", "localhost:5000/app:1", True),
])
def test_reference_filter_is_path_match(pattern: str, name: str, hit: bool) -> None:
    assert ref_matches(pattern, name) is hit


@pytest.mark.parametrize("pattern", ["[b", "a\\", "[]", "[]a]", "[-a]", "[a-]"])
def test_reference_filter_bad_pattern(pattern: str) -> None:
    with pytest.raises(InvalidArgumentError, match=r"^syntax error in pattern$"):
        ref_matches(pattern, "docker.io/library/busybox:latest")


@pytest.mark.parametrize(("values", "err"), [
    (["true"], None), (["1"], None), (["false", "0"], None), (["maybe", "true"], None),
    (["maybe"], "invalid filter 'dangling=[maybe]'"), (["true", "false"], "invalid filter 'dangling=[true false]'"),
])
def test_boolean_filters(values: list[str], err: str | None) -> None:
    args = [f"dangling={v}" for v in values]
    if err is None:
        assert by_key(args, ("dangling",), booleans=("dangling",)) == {"dangling": values}
    else:
        with pytest.raises(InvalidArgumentError) as ei:
            by_key(args, ("dangling",), booleans=("dangling",))
        assert ei.value.message == err


def test_system_df_summary_is_dockers_arithmetic() -> None:
    """Docker 20.10 for three images sharing one 1985657-byte layer, one used by six containers (four of
    them running or paused), two empty volumes, one in use: "1.986MB (100%)" of images is reclaimable."""
    from skiff.cli.commands.system_df import summary
    from skiff.engine.containers_list import ContainerSummary
    from skiff.engine.disk_usage import DiskUsage, ImageUsage, VolumeUsage

    layer = 1985657
    images = [ImageUsage("sha256:" + c * 64, [], 0.0, False, layer, layer, n) for c, n in (("a", 6), ("b", 0),
                                                                                             ("c", 0))]

    def ctr(state: str, rw: int) -> ContainerSummary:
        return ContainerSummary(id="0" * 64, names=["x"], image="busybox", image_id=images[0].id, command="sh",
                                created=0.0, state=state, status="", ports=[], labels={}, mounts=[], networks=[],
                                size_rw=rw, size_root_fs=0)

    containers = [ctr(s, 0) for s in ("running", "running", "paused", "restarting", "exited", "created")]
    du = DiskUsage(layers_size=layer, images=images, containers=containers,
                   volumes=[VolumeUsage("v1", 1, 0), VolumeUsage("v2", 0, 0)])
    rows = [{k: v for k, v in r.items() if k != "_go_type"} for r in summary(du)]
    assert rows == [
        {"Type": "Images", "TotalCount": "3", "Active": "1", "Size": "1.986MB", "Reclaimable": "1.986MB (100%)"},
        {"Type": "Containers", "TotalCount": "6", "Active": "4", "Size": "0B", "Reclaimable": "0B"},
        {"Type": "Local Volumes", "TotalCount": "2", "Active": "1", "Size": "0B", "Reclaimable": "0B"},
        {"Type": "Build Cache", "TotalCount": "0", "Active": "0", "Size": "0B", "Reclaimable": "0B"}]
    used = DiskUsage(layers_size=3000, images=[ImageUsage("sha256:" + "d" * 64, [], 0.0, False, 3000, 1000, 1)],
                     containers=[ctr("running", 1000), ctr("exited", 3000)], volumes=[VolumeUsage("v", 0, 1500)])
    rows = summary(used)
    assert [r["Reclaimable"] for r in rows] == ["1kB (33%)", "3kB (75%)", "1.5kB (100%)", "0B"]


def test_fast_table_agrees_with_tabwrite_on_an_empty_last_cell() -> None:
    from skiff.cli.render import tabwrite

    rows = [["8a97dd9c4ad5", "sh -c exit 3", "0B", ""], ["36a54d621a88", "", "1.99MB", "Imported from -"]]
    head = ["IMAGE", "CREATED BY", "SIZE", "COMMENT"]
    assert _fmt.table(head, rows) == tabwrite("\n".join("\t".join(r) for r in [head, *rows]))
    assert json.loads(render("{{json .}}", [{"B": "1", "A": "2"}])) == {"A": "2", "B": "1"}
