"""Build-arg scoping (global vs stage, overrides, platform and proxy args, consumed args)."""

from __future__ import annotations

from skiff.build.dockerfile import instructions as ins
from skiff.build.dockerfile.args import BuildArgs
from skiff.build.dockerfile.parser import parse


def setup(text: str, build_args: dict[str, str]) -> tuple[BuildArgs, list[ins.Stage]]:
    stages, meta = ins.parse(parse(text))
    args = BuildArgs(meta, build_args, platform=ins.platform_args("linux/amd64", "linux/arm64"))
    return args, stages


def test_global_scope_and_from_expansion() -> None:
    args, stages = setup("ARG V=3.20\nARG IMG=alpine:${V}\nARG NOVAL\nFROM ${IMG} AS a\n", {"V": "3.19"})
    assert args.globals == {"V": "3.19", "IMG": "alpine:3.19"}
    assert ins.expand(stages[0], args.from_env()).command.base_name == "alpine:3.19"  # type: ignore[attr-defined]
    assert args.from_env()["TARGETARCH"] == "arm64"


def test_stage_scope_rules() -> None:
    args, stages = setup(
        "ARG G=global\nARG H\nFROM a\nARG G\nARG L=${G}-local\nARG TARGETARCH\nARG O=default\nARG U\nARG H\n",
        {"O": "override", "H": "given", "EXTRA": "x", "HTTP_PROXY": "http://p"},
    )
    stage_args: dict[str, str] = {}
    assert "G" not in stage_args  # nothing is visible before the stage declares it
    for cmd in stages[0].commands:
        assert isinstance(cmd, ins.ArgCommand)
        args.declare(cmd, stage_args, {})
    assert stage_args == {
        "G": "global",
        "L": "global-local",
        "TARGETARCH": "arm64",
        "O": "override",
        "H": "given",
    }
    assert args.run_env(stage_args)["HTTP_PROXY"] == "http://p"
    assert args.unconsumed() == ["EXTRA"]


def test_env_is_seen_by_arg_defaults() -> None:
    args, stages = setup("FROM a\nARG X=${E}/x\n", {})
    stage_args: dict[str, str] = {}
    cmd = stages[0].commands[0]
    assert isinstance(cmd, ins.ArgCommand)
    args.declare(cmd, stage_args, {"E": "/env"})
    assert stage_args == {"X": "/env/x"}
