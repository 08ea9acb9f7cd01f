"""`skiff COMMAND --help` in docker/cli's layout: Docker 28's help texts (adapted to skiff's name and flags) as
expected data, and a property over every command in the table."""

from __future__ import annotations

import argparse
import importlib
import re
import subprocess
import sys

import pytest

from skiff.cli import helpfmt
from skiff.cli.commands import COMMANDS
from skiff.cli.main import main, parser

KEYS = sorted(COMMANDS)


@pytest.fixture(autouse=True)
def _width(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(helpfmt, "terminal_width", lambda: 80)  # docker/cli's width off a terminal


def help_of(capsys: pytest.CaptureFixture[str], *words: str) -> str:
    with pytest.raises(SystemExit) as e:
        main([*words, "--help"])
    assert e.value.code == 0
    out, err = capsys.readouterr()
    assert err == ""
    return out


def configured(key: tuple[str, ...]) -> argparse.ArgumentParser:
    p = parser("skiff " + " ".join(key), COMMANDS[key].summary)
    importlib.import_module(COMMANDS[key].module).configure(p)
    return p


# Docker 28's `docker X --help` with "skiff" for "docker", the options skiff lacks taken out and skiff's
# help texts in place of Docker's where they differ.
EXPECTED = {
    ("rm",): """\
Usage:  skiff rm [OPTIONS] CONTAINER [CONTAINER...]

Remove one or more containers

Aliases:
  skiff container rm, skiff container remove, skiff rm

Options:
  -f, --force     Force the removal of a running container
  -l, --link      Remove the specified link
  -v, --volumes   Remove anonymous volumes
""",
    ("container", "remove"): """\
Usage:  skiff container rm [OPTIONS] CONTAINER [CONTAINER...]

Remove one or more containers

Aliases:
  skiff container rm, skiff container remove, skiff rm

Options:
  -f, --force     Force the removal of a running container
  -l, --link      Remove the specified link
  -v, --volumes   Remove anonymous volumes
""",
    ("stop",): """\
Usage:  skiff stop [OPTIONS] CONTAINER [CONTAINER...]

Stop one or more running containers

Aliases:
  skiff container stop, skiff stop

Options:
  -s, --signal string   Signal to send to the container
  -t, --timeout int     Seconds to wait before killing
""",
    ("kill",): """\
Usage:  skiff kill [OPTIONS] CONTAINER [CONTAINER...]

Kill one or more running containers

Aliases:
  skiff container kill, skiff kill

Options:
  -s, --signal string   Signal to send to the container
""",
    ("pause",): """\
Usage:  skiff pause CONTAINER [CONTAINER...]

Pause all processes within one or more containers

Aliases:
  skiff container pause, skiff pause
""",
    ("cp",): """\
Usage:  skiff cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-
\tskiff cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH

Copy files/folders between a container and the local filesystem

Aliases:
  skiff container cp, skiff cp

Options:
  -a, --archive       Archive mode (copy all uid/gid information)
  -L, --follow-link   Always follow symbol link in SRC_PATH
  -q, --quiet         Suppress progress output
""",
    ("container", "list"): """\
Usage:  skiff container ls [OPTIONS]

List containers

Aliases:
  skiff container ls, skiff container list, skiff container ps, skiff ps

Options:
  -a, --all             Show all containers (default shows just running)
  -f, --filter filter   Filter output based on conditions
      --format string   Format output using a Go template, or json
  -n, --last int        Show n last created containers (default -1)
  -l, --latest          Show the latest created container
      --no-trunc        Don't truncate output
  -q, --quiet           Only display container IDs
  -s, --size            Display total file sizes
""",
    ("history",): """\
Usage:  skiff history [OPTIONS] IMAGE

Show the history of an image

Aliases:
  skiff image history, skiff history

Options:
      --format string   Format output using a Go template, or json
  -H, --human           Print sizes and dates in human readable format
                        (-H=false for raw values) (default true)
      --no-trunc        Don't truncate output
  -q, --quiet           Only show image IDs
""",
    ("volume", "create"): """\
Usage:  skiff volume create [OPTIONS] [VOLUME]

Create a volume

Options:
  -d, --driver string   Specify volume driver name (default "local")
  -l, --label list      Set metadata for a volume
  -o, --opt map         Set driver specific options (default map[])
""",
}


@pytest.mark.parametrize("key", list(EXPECTED), ids=" ".join)
def test_help_is_dockers(capsys: pytest.CaptureFixture[str], key: tuple[str, ...]) -> None:
    assert help_of(capsys, *key) == EXPECTED[key]


def test_run_usage_and_type_words(capsys: pytest.CaptureFixture[str]) -> None:
    out = help_of(capsys, "run")
    assert out.startswith("Usage:  skiff run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\n"
                          "Create and run a new container from an image\n\n"
                          "Aliases:\n  skiff container run, skiff run\n\nOptions:\n")
    lines = out.splitlines()
    for flag in ("  -m, --memory bytes ", "      --cpus decimal ", "  -e, --env list ", "      --mount mount ",
                 "      --network network ", "      --blkio-weight uint16 ", "  -c, --cpu-shares int ",
                 "      --health-interval duration ", "  -h, --hostname string ", "  -d, --detach "):
        assert any(line.startswith(flag) for line in lines), flag
    assert re.search(r"\n      --restart string +Restart policy to apply when a\n +container exits \(default \"no\"\)\n",
                     out)
    assert not any("--help" in line for line in lines)
    assert help_of(capsys, "create").startswith("Usage:  skiff create [OPTIONS] IMAGE [COMMAND] [ARG...]\n")
    assert help_of(capsys, "exec").startswith("Usage:  skiff exec [OPTIONS] CONTAINER COMMAND [ARG...]\n")


def test_run_keeps_h_for_hostname(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main(["run", "-h"])
    assert e.value.code == 125
    assert "-h/--hostname" in capsys.readouterr().err


def test_pflag_wrapping_is_dockers() -> None:
    """Docker's own `cp` flags wrap at 79 columns just as `docker cp --help` prints them."""
    p = argparse.ArgumentParser(prog="skiff cp", add_help=False)
    p.add_argument("-a", "--archive", action="store_true", help="Archive mode (copy all uid/gid information)")
    p.add_argument("-L", "--follow-link", action="store_true", help="Always follow symbol link in SRC_PATH")
    p.add_argument("-q", "--quiet", action="store_true", help="Suppress progress output during copy. Progress "
                   "output is automatically suppressed if no terminal is attached")
    assert "\n".join(helpfmt.flag_usages(p, ("cp",), 79)) == """\
  -a, --archive       Archive mode (copy all uid/gid information)
  -L, --follow-link   Always follow symbol link in SRC_PATH
  -q, --quiet         Suppress progress output during copy. Progress
                      output is automatically suppressed if no terminal
                      is attached"""


def test_group_without_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main(["network"])
    assert e.value.code == 0
    assert capsys.readouterr().out == """\
Usage:  skiff network COMMAND

Manage networks

Commands:
  connect     Connect a container to a network
  create      Create a network
  disconnect  Disconnect a container from a network
  inspect     Display detailed information on one or more networks
  ls          List networks
  prune       Remove all unused networks
  rm          Remove one or more networks

Run 'skiff network COMMAND --help' for more information on a command.
"""


def _sections(text: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for block in text.rstrip("\n").split("\n\n"):
        head, _, rest = block.partition("\n")
        out[head] = rest.splitlines()
    return out


@pytest.mark.parametrize("key", KEYS, ids=" ".join)
def test_every_command_prints_dockers_shape(capsys: pytest.CaptureFixture[str], key: tuple[str, ...]) -> None:
    out = help_of(capsys, *key)
    p = configured(key)
    lines = out.splitlines()
    assert lines[0].startswith("Usage:  skiff " + " ".join(helpfmt.canonical(key)))
    assert COMMANDS[key].summary in lines
    visible = [a for a in p._actions
               if a.option_strings and a.help != argparse.SUPPRESS and not isinstance(a, argparse._HelpAction)]
    sections = _sections(out)
    if " ".join(helpfmt.aliases(key)[0]) not in helpfmt.SYNOPSIS:  # Docker's literal Use lines aside
        assert ("[OPTIONS]" in lines[0]) == bool(visible)
    if not visible:
        assert "Options:" not in sections
        return
    rows = [r for r in sections["Options:"] if re.match(r"  (-\w, |    )--\w", r)]  # not wrapped lines
    assert len(rows) == len(visible)
    names = [re.match(r"  (?:-\w, |    )--([\w-]+)", r).group(1) for r in rows]  # type: ignore[union-attr]
    assert names == sorted(names)
    hidden = {s for a in p._actions if a.help == argparse.SUPPRESS for s in a.option_strings}
    for a in visible:
        name = helpfmt.long_name(a)
        assert f"--{name}" in a.option_strings and name in names
    assert not any(f"--{n}" in hidden for n in names)
    # the help column: three spaces after the longest left column, as pflag prints it
    lefts = [re.match(r"(  (?:-\w, |    )--[\w-]+(?: \S+)?)", r).group(1) for r in rows]  # type: ignore[union-attr]
    column = max(map(len, lefts)) + 3
    for row, left in zip(rows, lefts, strict=True):
        if len(row) > len(left):
            assert row[len(left):column].strip() == "" and row[column] != " ", row


def test_aliases_follow_dockers_order() -> None:
    assert helpfmt.aliases(("images",)) == [("image", "ls"), ("image", "list"), ("images",)]
    assert helpfmt.aliases(("build",)) == [("image", "build"), ("build",), ("builder", "build")]
    assert helpfmt.canonical(("container", "ps")) == ("container", "ls")
    assert helpfmt.canonical(("builder", "build")) == ("builder", "build")
    assert helpfmt.aliases(("inspect",)) == [("inspect",)]  # `container inspect` has its own summary


def test_help_through_the_launcher() -> None:
    r = subprocess.run([sys.executable, "-m", "skiff.cli.main", "rm", "--help"], capture_output=True, text=True,
                       timeout=60, stdin=subprocess.DEVNULL)
    assert r.returncode == 0 and r.stderr == ""
    assert r.stdout == EXPECTED[("rm",)]
