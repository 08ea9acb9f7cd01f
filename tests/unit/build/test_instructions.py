"""Typed instructions, stages, expansion rules and the negative table (data/instructions-negative.txt)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skiff.build.dockerfile import instructions as ins
from skiff.build.dockerfile.errors import DockerfileError
from skiff.build.dockerfile.parser import parse

DATA = Path(__file__).parent / "data"


def negative_cases() -> list[tuple[str, str, int, str]]:
    text = (DATA / "instructions-negative.txt").read_text(encoding="utf-8")
    cases = []
    for block in text.split("\n=== ")[1:]:
        name, _, rest = block.partition("\n")
        body, _, expected = rest.rpartition("--- ")
        line, _, what = expected.rstrip("\n").partition(": ")
        cases.append((name, body, int(line), what))
    return cases


NEGATIVE = negative_cases()


@pytest.mark.parametrize(("name", "body", "line", "what"), NEGATIVE, ids=[c[0] for c in NEGATIVE])
def test_negative_table(name: str, body: str, line: int, what: str) -> None:
    with pytest.raises(DockerfileError) as info:
        ins.parse(parse(body, filename="ctx/Dockerfile"))
    assert (info.value.line, info.value.what) == (line, what)
    assert str(info.value).startswith(f"ctx/Dockerfile:{line}: " if line else "ctx/Dockerfile: ")
    assert info.value.exit_code == 1


def test_negative_table_loaded() -> None:
    assert len(NEGATIVE) >= 70


def typed(text: str) -> tuple[list[ins.Stage], list[ins.ArgCommand]]:
    return ins.parse(parse(text))


def test_stages_and_meta_args() -> None:
    stages, meta = typed(
        "ARG BASE=alpine\nARG TAG\nFROM --platform=$BUILDPLATFORM ${BASE}:${TAG:-3} AS Build\n"
        "ARG TAG\nRUN make\nFROM scratch\nCOPY --from=build /out /\n"
    )
    assert [a.args for a in meta] == [(ins.ArgDef("BASE", "alpine"),), (ins.ArgDef("TAG"),)]
    assert [(s.name, s.base_name, s.platform, s.line) for s in stages] == [
        ("build", "${BASE}:${TAG:-3}", "$BUILDPLATFORM", 3),
        ("", "scratch", "", 6),
    ]
    assert [type(c).__name__ for c in stages[0].commands] == ["ArgCommand", "RunCommand"]
    copy = stages[1].commands[0]
    assert isinstance(copy, ins.CopyCommand)
    assert (copy.from_, copy.sources, copy.dest, copy.line, copy.original) == (
        "build",
        ("/out",),
        "/",
        7,
        "COPY --from=build /out /",
    )


def test_run_forms_and_mounts() -> None:
    (stage,), _ = typed(
        "FROM a\n"
        "RUN --mount=type=cache,target=/root/.cache/pip,sharing=locked,id=pip "
        "--mount=type=secret,id=tok,env=TOKEN,required "
        "--mount=type=bind,from=b,source=/src,target=/s,rw,bind-propagation=rprivate "
        "--mount=type=tmpfs,target=/t,size=64m --mount=type=ssh --network=none --security=insecure pip install x\n"
        'RUN ["echo", "hi"]\n'
        "CMD echo $HOME\n"
        "ENTRYPOINT []\n"
    )
    run, run_json, cmd, entry = stage.commands
    assert isinstance(run, ins.RunCommand)
    assert run.cmd_line == ("pip install x",) and run.prepend_shell
    assert (run.network, run.security) == ("none", "insecure")
    cache, secret, bind, tmpfs, ssh = run.mounts
    assert (cache.type, cache.target, cache.cache_sharing, cache.cache_id, cache.readonly) == (
        "cache",
        "/root/.cache/pip",
        "locked",
        "pip",
        False,
    )
    assert (secret.cache_id, secret.target, secret.env, secret.required) == (
        "tok",
        "/run/secrets/tok",
        "TOKEN",
        True,
    )
    assert (bind.from_, bind.source, bind.readonly, bind.bind_propagation) == ("b", "/src", False, "rprivate")
    assert (tmpfs.size, tmpfs.readonly) == (64 * 1024 * 1024, False)
    assert (ssh.type, ssh.cache_id) == ("ssh", "default")
    assert isinstance(run_json, ins.RunCommand)
    assert run_json.cmd_line == ("echo", "hi") and not run_json.prepend_shell
    assert isinstance(cmd, ins.CmdCommand) and cmd.cmd_line == ("echo $HOME",)
    assert isinstance(entry, ins.EntrypointCommand) and entry.cmd_line is None


def test_heredoc_sources_and_run_files() -> None:
    (stage,), _ = typed(
        "FROM a\nCOPY --chmod=0755 <<-EOF <<'RAW' local /dst/\n\techo $X\n\tEOF\n$Y\nRAW\nRUN <<EOF\necho hi\nEOF\n"
    )
    copy, run = stage.commands
    assert isinstance(copy, ins.CopyCommand)
    assert copy.sources == ("local",)
    assert [(c.name, c.data, c.expand) for c in copy.contents] == [
        ("EOF", "echo $X\n", True),
        ("RAW", "$Y\n", False),
    ]
    expanded = ins.expand(copy, {"X": "1", "Y": "2"}).command
    assert isinstance(expanded, ins.CopyCommand)
    assert [c.data for c in expanded.contents] == ["echo 1\n", "$Y\n"]
    assert isinstance(run, ins.RunCommand)
    assert run.files[0].data == "echo hi\n" and run.cmd_line == ("<<EOF",)


def test_healthcheck() -> None:
    (stage,), _ = typed(
        "FROM a\nHEALTHCHECK --interval=1m30s --timeout=500ms --start-period=2s --start-interval=1s --retries=3 "
        'CMD curl -f http://localhost/\nHEALTHCHECK NONE\nHEALTHCHECK CMD ["true"]\n'
    )
    h1, h2, h3 = (c.health for c in stage.commands if isinstance(c, ins.HealthCheckCommand))
    assert h1.test == ("CMD-SHELL", "curl -f http://localhost/")
    assert (h1.interval, h1.timeout, h1.start_period, h1.start_interval, h1.retries) == (
        90 * 10**9,
        5 * 10**8,
        2 * 10**9,
        10**9,
        3,
    )
    assert h2.test == ("NONE",)
    assert h3.test == ("CMD", "true")


def test_add_flags_and_onbuild() -> None:
    digest = "sha256:" + "a" * 64
    (stage,), _ = typed(
        f"FROM a\nADD --chown=1:2 --chmod=u+x,go-w --link --keep-git-dir=true --checksum={digest} "
        '--exclude=*.md --exclude=.git https://x/y.tgz /d/\nonbuild  RUN echo $X\nSHELL ["/bin/bash", "-c"]\n'
    )
    add, onbuild, shell = stage.commands
    assert isinstance(add, ins.AddCommand)
    assert (add.chown, add.chmod, add.link, add.keep_git_dir, add.checksum, add.excludes) == (
        "1:2",
        "u+x,go-w",
        True,
        True,
        digest,
        ("*.md", ".git"),
    )
    assert isinstance(onbuild, ins.OnbuildCommand) and onbuild.expression == "RUN echo $X"
    assert ins.expand(onbuild, {"X": "1"}).command == onbuild
    assert isinstance(shell, ins.ShellCommand) and shell.shell == ("/bin/bash", "-c")


def test_env_label_forms() -> None:
    (stage,), _ = typed('FROM a\nENV A B C\nENV X=1 Y="two words"\nLABEL "com.x"="y z"\n')
    env1, env2, label = stage.commands
    assert isinstance(env1, ins.EnvCommand) and env1.env == (ins.KeyValuePair("A", "B C", True),)
    assert isinstance(env2, ins.EnvCommand)
    assert [(p.key, p.value) for p in ins.expand(env2, {}).command.env] == [("X", "1"), ("Y", "two words")]  # type: ignore[attr-defined]
    assert isinstance(label, ins.LabelCommand)
    assert ins.expand(label, {}).command.labels == (ins.KeyValuePair("com.x", "y z"),)  # type: ignore[attr-defined]


def test_expansion_rules() -> None:
    env = {"V": "/data", "P": "8080", "U": "app", "S": "SIGTERM", "N": "x"}
    (stage,), _ = typed(
        "FROM a\nWORKDIR $V/w\nVOLUME $V ${V}2\nEXPOSE $P 9000/udp\nUSER ${U}:${G:-0}\nSTOPSIGNAL $S\n"
        'COPY --chown=$U --from=$N $V/a $V/\nRUN echo $V\nCMD echo $V\nENTRYPOINT ["$V"]\nMAINTAINER $U\n'
        "HEALTHCHECK CMD echo $V\nRUN --mount=type=cache,target=$V/cache true\n"
    )
    out = [ins.expand(c, env) for c in stage.commands]
    got = [x.command for x in out]
    assert got[0].path == "/data/w"  # type: ignore[attr-defined]
    assert got[1].volumes == ("/data", "/data2")  # type: ignore[attr-defined]
    assert got[2].ports == ("8080", "9000/udp")  # type: ignore[attr-defined]
    assert got[3].user == "app:0"  # type: ignore[attr-defined]
    assert got[4].signal == "SIGTERM"  # type: ignore[attr-defined]
    assert (got[5].chown, got[5].from_, got[5].sources, got[5].dest) == ("app", "x", ("/data/a",), "/data/")  # type: ignore[attr-defined]
    for untouched in range(6, 11):
        assert got[untouched] == stage.commands[untouched]
    assert got[11].mounts[0].target == "/data/cache"  # type: ignore[attr-defined]
    assert out[3].matched == {"U"} and out[3].unmatched == {"G"}
    assert out[6].used == frozenset()


def test_expansion_error_has_location() -> None:
    (stage,), _ = typed("FROM a\nWORKDIR ${X:?need X}\n")
    with pytest.raises(DockerfileError) as info:
        ins.expand(stage.commands[0], {})
    assert str(info.value) == 'Dockerfile:2: failed to process "${X:?need X}": X: need X'


def test_stage_expansion_with_meta_args() -> None:
    stages, meta = typed("ARG IMG=alpine\nFROM ${IMG}:3 AS base\n")
    env = {a.key: a.value or "" for m in meta for a in m.args}
    assert ins.expand(stages[0], env).command.base_name == "alpine:3"  # type: ignore[attr-defined]


def test_platform_args() -> None:
    args = ins.platform_args("linux/amd64", "linux/arm64/v8")
    assert args["BUILDARCH"] == "amd64" and args["TARGETVARIANT"] == "v8" and args["TARGETOS"] == "linux"
    assert set(args) == set(ins.PLATFORM_ARGS)
    assert "HTTP_PROXY" in ins.PROXY_ARGS


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "FROM a",
                "FROM a AS b",
                "ARG X=1",
                "RUN --mount=type=cache,target=/x true",
                "RUN --mount=type=",
                "COPY --from=b x y",
                "COPY <<EOF /x\nhi\nEOF",
                "HEALTHCHECK --interval=1s CMD x",
                "HEALTHCHECK --interval= CMD",
                "ONBUILD RUN x",
                "ENV a=b c",
                "EXPOSE $P",
                "WORKDIR ${X:?}",
                "USER",
                "LABEL x",
                'CMD ["a"',
                "SHELL sh",
                "VOLUME []",
                "ADD --checksum=x a b",
                "\\",
                "",
                "# escape=`",
            ]
        ),
        max_size=8,
    )
)
def test_typing_fails_only_with_dockerfile_error(lines: list[str]) -> None:
    try:
        stages, _ = ins.parse(parse("\n".join(lines)))
        for stage in stages:
            for cmd in stage.commands:
                ins.expand(cmd, {"P": "80"})
    except DockerfileError:
        pass


def test_values_checked_again_after_expansion() -> None:
    (stage,), _ = typed("FROM a\nEXPOSE $P\nSTOPSIGNAL $S\nCOPY --chmod=$M a b\n")
    expose, stop, copy = stage.commands
    assert ins.expand(expose, {"P": "8080/udp"}).command.ports == ("8080/udp",)  # type: ignore[attr-defined]
    for cmd, env, what in (
        (expose, {"P": "web"}, "Invalid containerPort: web"),
        (stop, {"S": "SIGNOPE"}, "Invalid signal: SIGNOPE"),
        (copy, {"M": "rwx"}, "invalid chmod parameter: 'rwx': expected octal digits or a symbolic mode"),
    ):
        with pytest.raises(DockerfileError) as info:
            ins.expand(cmd, env)
        assert info.value.what == what
