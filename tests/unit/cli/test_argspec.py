"""cli.argspec: the table-driven parser agrees with argparse wherever it answers, and answers for the usual
command lines (so `skiff images`, `run` and `build` skip importing argparse)."""

from __future__ import annotations

import functools
import importlib
import os
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skiff.cli import argspec
from skiff.cli.commands import COMMANDS
from skiff.cli.main import UsageError, parser

KEYS = sorted(COMMANDS)


@functools.cache
def parsers(key: tuple[str, ...]) -> tuple[Any, dict[str, Any] | None]:
    p = parser("skiff " + " ".join(key), None)
    importlib.import_module(COMMANDS[key].module).configure(p)
    return p, argspec.describe(p)


def by_argparse(key: tuple[str, ...], argv: list[str]) -> dict[str, Any] | None:
    p, _ = parsers(key)
    try:
        return vars(p.parse_args(argv))
    except (UsageError, SystemExit):
        return None


def test_every_command_has_a_table() -> None:
    missing = [k for k in KEYS if parsers(k)[1] is None]
    assert not missing, f"commands argparse must parse at every call: {missing}"


@pytest.mark.parametrize("line", [
    "images", "images -a", "images -aq", "images --format {{.ID}} busybox", "images -f dangling=true -f label=x",
    "ps", "ps -a", "ps -a -q --no-trunc", "ps --filter status=exited -n 3",
    "run --rm --network none busybox true", "run -d -p 8000:8000 --name web app",
    "run --rm -e A=1 -e B=2 -v /x:/y:ro busybox sh -c 'echo hi' -e not-a-flag",
    "run -it --rm busybox", "run --memory 64m --cpus 0.5 busybox true",
    "create --name c busybox", "build -t app .", "build -q -t gen .", "build --no-cache -f Dockerfile.x -t a:1 ctx",
    "rm -f c1 c2", "stop -t 1 c", "logs -f --tail 10 c", "exec -it c sh", "exec c ls -l /",
    "inspect -f {{.State.Status}} c", "image inspect busybox", "rmi -f x", "tag a b", "pull busybox",
    "volume ls", "network ls", "history --no-trunc busybox", "version",
])
def test_usual_lines_skip_argparse(line: str) -> None:
    import shlex

    words = shlex.split(line)
    key = next(k for k in sorted(KEYS, key=len, reverse=True) if tuple(words[:len(k)]) == k)
    argv = words[len(key):]
    _, spec = parsers(key)
    assert spec is not None
    got = argspec.parse(spec, argv)
    assert got is not None, f"{line!r} fell back to argparse"
    assert vars(got) == by_argparse(key, argv)


def _tokens(key: tuple[str, ...]) -> st.SearchStrategy[str]:
    p, _ = parsers(key)
    opts = [s for a in p._actions for s in a.option_strings]
    shorts = [s for s in opts if len(s) == 2]
    words = ["x", "busybox", "-", "1", "-1", "-2.5", "--", "a b", "", "=", "-x", "--nope", "sh", "-c",
             "json", "true", "10", "64m"]
    return st.one_of(
        st.sampled_from(opts or ["-z"]), st.sampled_from(words),
        st.builds(lambda o, v: f"{o}={v}", st.sampled_from(opts or ["-z"]), st.sampled_from(words)),
        st.builds(lambda a, b: a + b[1:], st.sampled_from(shorts or ["-z"]), st.sampled_from(shorts or ["-z"])),
        st.builds(lambda a, v: a + v, st.sampled_from(shorts or ["-z"]), st.sampled_from(words)),
    )


@settings(max_examples=1500, deadline=None)
@given(st.data())
def test_agrees_with_argparse(data: st.DataObject) -> None:
    key = data.draw(st.sampled_from(KEYS))
    argv = data.draw(st.lists(_tokens(key), max_size=7))
    _, spec = parsers(key)
    assert spec is not None
    got = argspec.parse(spec, argv)
    if got is not None:
        assert vars(got) == by_argparse(key, argv), (key, argv)


def test_stale_table_is_not_used(tmp_path: Any) -> None:
    """A table whose source files changed since it was written is ignored (argparse parses instead)."""
    src = tmp_path / "cmd.py"
    src.write_text("x = 1\n")
    st_ = os.stat(src)
    code = ("import marshal, os, sys; from skiff.cli import argspec as a; a.CACHE = sys.argv[1]; "
            "open(a._file(('images',)), 'wb').write(marshal.dumps((a.FORMAT, sys.version, "
            "[(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))], {}))); "
            "print(a.lookup(('images',)) is not None)")
    run = [sys.executable, "-c", code, str(tmp_path), str(src), str(st_.st_size), str(st_.st_mtime_ns)]
    assert subprocess.run(run, capture_output=True, text=True, check=True).stdout.strip() == "True"
    src.write_text("x = 22\n")
    assert subprocess.run(run, capture_output=True, text=True, check=True).stdout.strip() == "False"


def test_environment_dependent_defaults_get_no_table(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A default computed from the environment at configure time must not be frozen into a table."""
    (tmp_path / "skiff_envmod.py").write_text(
        "import os\n"
        "def configure(p):\n"
        "    p.add_argument('--x', default=os.environ.get('SKIFF_TEST_X'))\n"
        "def configure_plain(p):\n"
        "    p.add_argument('--x')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("SKIFF_TEST_X", "frozen")
    spec, _ = argspec.build(("envmod",), "skiff_envmod")
    assert spec is None
    import skiff_envmod  # type: ignore[import-not-found]

    monkeypatch.setattr(skiff_envmod, "configure", skiff_envmod.configure_plain)
    spec, _ = argspec.build(("envmod",), "skiff_envmod")
    assert spec is not None and spec["defaults"]["x"] is None


@pytest.mark.parametrize(("argv", "want"), [
    (["--health-interval", "-1s", "busybox"], ["--health-interval=-1s", "busybox"]),
    (["-e", "-x", "--name", "n", "busybox", "echo", "-e", "-x"], ["-e-x", "--name", "n", "busybox", "echo", "-e",
                                                                   "-x"]),
    (["-it", "--rm", "busybox", "sh"], ["-it", "--rm", "busybox", "sh"]),
    (["-h", "-bad", "busybox"], ["-h-bad", "busybox"]),
    (["--", "-x"], ["--", "-x"]),
])
def test_values_that_start_with_a_dash(argv: list[str], want: list[str]) -> None:
    """pflag takes the word after a flag that needs a value, whatever it starts with; the argparse fallback
    gets such pairs joined, and the words after the image stay the command's."""
    from skiff.cli.main import glue_values

    p, _ = parsers(("run",))
    assert glue_values(p, argv) == want
    if "--" not in argv:
        ns = p.parse_args(glue_values(p, argv))
        assert ns.image == "busybox"
