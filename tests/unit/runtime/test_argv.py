"""skiff-runtime's direct argv reader agrees with argparse, and hands everything unusual to argparse."""

from __future__ import annotations

import pytest

from skiff.runtime.argv import build_parser, fast_parse, parse

PLAIN = [
    ["run", "c1"],
    ["--root", "/tmp/r", "run", "--bundle", "/b", "-d", "--keep", "c1"],
    ["--root=/tmp/r", "--debug", "--systemd-cgroup", "--log", "/l", "--log-format", "json", "create", "-b", "b",
     "--pid-file=/p", "--console-socket", "/s", "--preserve-fds", "2", "--no-pivot", "--no-new-keyring", "c1"],
    ["start", "c1"], ["state", "c1"], ["pause", "c1"], ["resume", "c1"],
    ["kill", "c1"], ["kill", "--all", "c1", "KILL"], ["kill", "-a", "c1", "9"],
    ["delete", "c1"], ["delete", "-f", "c1"],
    ["exec", "-t", "-e", "A=1", "--env", "B=2", "-g", "5", "-g", "6", "--cap", "CAP_KILL", "-u", "1:2", "c1",
     "sh", "-c", "echo -x"],
    ["exec", "--process", "/p.json", "-d", "c1"],
    ["list"], ["list", "-f", "json"], ["list", "--quiet"],
    ["spec", "--rootless", "-b", "/x"],
    ["run", "--bundle", "", "c1"],
]

UNUSUAL = [
    [], ["--help"], ["-v"], ["--version"], ["run", "--help"], ["nope", "c1"], ["run"], ["run", "c1", "c2"],
    ["run", "--bund", "/b", "c1"], ["run", "c1", "--bundle", "/b"], ["run", "--bundle"], ["run", "-dk", "c1"],
    ["run", "--preserve-fds", "x", "c1"], ["run", "--", "c1"], ["kill", "c1", "-9"], ["kill", "c1", "KILL", "x"],
    ["list", "-f", "yaml"], ["run", "--detach=1", "c1"], ["run", "--bundle", "-x", "c1"], ["state", "-"],
    ["--root", "run", "c1"], ["run", "--root", "/r", "c1"],
]


@pytest.mark.parametrize("argv", PLAIN, ids=" ".join)
def test_plain_lines_read_directly_as_argparse_would(argv: list[str]) -> None:
    fast = fast_parse(argv)
    assert fast is not None
    assert vars(fast) == vars(build_parser().parse_args(argv))


@pytest.mark.parametrize("argv", UNUSUAL, ids=" ".join)
def test_unusual_lines_go_to_argparse(argv: list[str]) -> None:
    assert fast_parse(argv) is None


def test_root_default_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SKIFF_RUNTIME_ROOT", "/tmp/elsewhere")
    assert parse(["state", "c1"]).root == "/tmp/elsewhere"
    assert build_parser("state").parse_args(["state", "c1"]).root == "/tmp/elsewhere"


def test_argparse_reports_errors_and_only_builds_the_command_asked(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        parse(["run", "--bundle", "/b", "--bogus", "c1"])
    assert e.value.code == 2
    assert "unrecognized arguments: --bogus" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parse(["run"])
    assert "the following arguments are required: id" in capsys.readouterr().err
