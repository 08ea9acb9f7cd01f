"""Docker's inspect and --format rules that sit on top of the template engine: missing keys, typed nils and
maps, Go's error positions, the exit-code rule of cli.main, and pflag booleans with ``=false``."""

from __future__ import annotations

import pytest

from skiff.cli.gotemplate import Template, TemplateError
from skiff.cli.gotemplate_funcs import GoMap, GoNil, GoStruct
from skiff.cli.inspector import Inspector, typed
from skiff.cli.main import UsageError, bool_values, exit_code, parser
from skiff.errors import NotFoundError, SkiffError

CONTAINER = {"State": {"Status": "running", "Running": True},
             "Config": {"Entrypoint": None, "Volumes": None, "Labels": {"a": "b"}, "Cmd": ["sh"]},
             "HostConfig": {"PidMode": "", "IpcMode": "", "Binds": None, "PidsLimit": None,
                            "LogConfig": {"Type": "json-file", "Config": {}}}}


@pytest.mark.parametrize(("template", "want"), [
    ("{{.Config.Entrypoint}}|{{.Config.Volumes}}|{{.HostConfig.PidMode}}|{{.HostConfig.IpcMode}}", "[]|map[]||"),
    ('{{index .Config.Labels "a"}}|{{index .Config.Labels "zz"}}', "b|"),
    ("{{.Config.Labels.zz}}", "<no value>"),  # a Go map: no error, even under missingkey=error
    ("{{json .Config.Entrypoint}} {{json .Config.Labels}}", 'null {"a":"b"}'),
    ("{{len .Config.Entrypoint}}{{range .Config.Entrypoint}}x{{end}}{{if .Config.Volumes}}y{{end}}", "0"),
    ("{{.State}}", "{running true <nil>}"),  # a struct prints its values in order (Health last)
    ("{{.HostConfig.LogConfig.Config}}", "map[]"),
    # fields Docker's JSON omits when empty are still in its structs: nil pointers, maps and slices
    ("{{.State.Health}}|{{.Config.Healthcheck}}|{{.HostConfig.Sysctls}}|{{.Config.Shell}}", "<nil>|<nil>|map[]|[]"),
    ("{{if .State.Health}}h{{else}}none{{end}}", "none"),
    ("{{json .Config}}", '{"Entrypoint":null,"Volumes":null,"Labels":{"a":"b"},"Cmd":["sh"]}'),
    ("{{.HostConfig.PidsLimit}} {{json .HostConfig.PidsLimit}}", "<nil> null"),
])
def test_typed_view(template: str, want: str) -> None:
    assert Template(template, missingkey="error").execute(typed(CONTAINER)) == want


@pytest.mark.parametrize(("template", "data", "err"), [
    ("{{.State.Bogus}}", CONTAINER,
     'template: :1:8: executing "" at <.State.Bogus>: map has no entry for key "Bogus"'),
    ("{{.Nope}}", CONTAINER, 'template: :1:2: executing "" at <.Nope>: map has no entry for key "Nope"'),
    ("a\n  {{index .Config.Cmd 3}}", CONTAINER,
     'template: :2:4: executing "" at <index .Config.Cmd 3>: error calling index: index out of range: 3'),
])
def test_missing_keys_fail_like_docker(template: str, data: object, err: str) -> None:
    with pytest.raises(TemplateError) as ei:
        Template(template, missingkey="error").execute(typed(data))
    assert str(ei.value) == err


def test_missingkey_option_and_go_structs() -> None:
    assert Template("{{.Foo}}").execute({}) == "<no value>"
    with pytest.raises(TemplateError, match='map has no entry for key "Foo"'):
        Template("{{.Foo}}", missingkey="error").execute({})
    row = GoStruct({"ID": "abc"}, go_type="*formatter.ContainerContext")
    assert Template("{{.ID}}").execute(row) == "abc"
    with pytest.raises(TemplateError) as ei:
        Template("{{.Foo}}").execute(row)
    assert str(ei.value) == ('template: :1:2: executing "" at <.Foo>: can\'t evaluate field Foo in type '
                             '*formatter.ContainerContext')
    assert Template('{{index . "x"}}').execute(GoMap({}, zero="")) == ""
    assert Template("{{.}}").execute(GoNil("slice")) == "[]"
    with pytest.raises(ValueError):
        Template("x", missingkey="zero")


def test_inspector_parse_error_exits_64_and_empty_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(TemplateError) as ei:
        Inspector("{{.State")
    assert ei.value.exit_code == 64
    out = Inspector("{{.Name}}")
    out.missing("Error: No such object: nosuch")
    assert out.flush() == 1
    got = capsys.readouterr()
    assert got.out == "\n" and got.err == "Error: No such object: nosuch\n"
    out = Inspector("{{.State.Bogus}}")
    out.add(CONTAINER)
    assert out.flush() == 1
    assert capsys.readouterr().err.startswith("template parsing error: template: :1:8: executing")
    out = Inspector("json")
    out.add({"A": 1})
    assert out.flush() == 0 and capsys.readouterr().out == '[{"A":1}]\n'


@pytest.mark.parametrize(("key", "error", "code"), [
    (("tag",), SkiffError("No such image: x"), 1),
    (("images",), SkiffError("invalid filter 'bogus'"), 1),
    (("network", "rm"), SkiffError("in use"), 1),
    (("history",), NotFoundError("No such image: x"), 1),
    (("run",), SkiffError("bad"), 125),
    (("container", "create"), SkiffError("bad"), 125),
    (("images",), UsageError("unknown flag: --bogus"), 125),
    (("run",), SkiffError("exec failed", exit_code=127), 127),
    (("exec",), SkiffError("cannot exec", exit_code=126), 126),
    (("inspect",), SkiffError("template parsing error", exit_code=64), 64),
    (("check",), SkiffError("not a folder"), 125),
    (("image", "bootstrap"), SkiffError("debootstrap failed"), 125),
    (None, UsageError('unknown command: "x"'), 125),
])
def test_exit_code_rule(key: tuple[str, ...] | None, error: SkiffError, code: int) -> None:
    assert exit_code(key, error) == code


def _history_parser() -> object:
    p = parser("skiff history")
    p.add_argument("image")
    p.add_argument("-H", "--human", action="store_true", default=True)
    p.add_argument("-q", "--quiet", action="store_true")
    p.add_argument("--format")
    return p


@pytest.mark.parametrize(("argv", "human", "quiet"), [
    (["-H=false", "bb"], False, False),
    (["--human=false", "bb"], False, False),
    (["--human=0", "-q=true", "bb"], False, True),
    (["--human=false", "--human", "bb"], True, False),  # the last one wins, as pflag's
    (["bb"], True, False),
])
def test_pflag_booleans_take_a_value(argv: list[str], human: bool, quiet: bool) -> None:
    ns = _history_parser().parse_args(argv)  # type: ignore[attr-defined]
    assert (ns.human, ns.quiet) == (human, quiet)


def test_pflag_boolean_bad_value_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match=r'invalid argument "maybe" for "-H, --human" flag: strconv.ParseBool'):
        _history_parser().parse_args(["-H=maybe", "bb"])  # type: ignore[attr-defined]


def test_remainder_words_keep_their_equals() -> None:
    p = parser("skiff run")
    p.add_argument("--rm", action="store_true")
    p.add_argument("image")
    import argparse

    p.add_argument("command", nargs=argparse.REMAINDER)
    words, late = bool_values(p, ["--rm=false", "img", "echo", "--rm=true"])
    assert words == ["img", "echo", "--rm=true"] and late == {"rm": False}


def test_argspec_fast_path_reads_bool_values() -> None:
    from skiff.cli import argspec

    spec = argspec.describe(_history_parser())  # type: ignore[arg-type]
    assert spec is not None
    for argv in (["-H=false", "bb"], ["--human=False", "bb"], ["-q=1", "bb"], ["-H=false", "-H", "bb"]):
        fast = argspec.parse(spec, argv)
        assert fast is not None and vars(fast) == vars(_history_parser().parse_args(argv)), argv  # type: ignore[attr-defined]
    assert argspec.parse(spec, ["-H=maybe", "bb"]) is None  # argparse gives the error
