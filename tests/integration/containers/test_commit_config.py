"""What a container's config and a commit record, as Docker does: PATH, HOSTNAME and TERM are given to the
process when it runs and never stored in Config.Env; a commit's comment is its -m (not the parent's), its author
is --author; --change takes HEALTHCHECK like the other Dockerfile instructions moby allows."""

from __future__ import annotations

import json

NONE = ("--network", "none")


def test_process_env_is_not_config_env(sk, name):  # type: ignore[no-untyped-def]
    sk("run", "-d", "--name", name, *NONE, "--hostname", "h1", "-e", "A=1", "busybox", "sleep", "30")
    try:
        assert json.loads(sk.out("inspect", "-f", "{{json .Config.Env}}", name)) == ["A=1"]
        env = sk.out("exec", name, "env").splitlines()
        assert env[:2] == ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOSTNAME=h1"]
        assert "A=1" in env and not any(e.startswith("TERM=") for e in env)
        # -e replaces what the engine gives, in place, as ReplaceOrAppendEnvValues does
        out = sk.out("run", "--rm", *NONE, "-e", "HOSTNAME=mine", "-e", "PATH=/usr/bin:/bin", "busybox", "env").splitlines()
        assert out[:2] == ["PATH=/usr/bin:/bin", "HOSTNAME=mine"]
    finally:
        sk("rm", "-f", name)


def test_commit_comment_author_healthcheck(sk, name):  # type: ignore[no-untyped-def]
    sk("run", "--name", name, *NONE, "busybox", "true")
    try:
        sk("commit", "-c", "HEALTHCHECK --interval=5s --retries=2 CMD true", name, f"{name}:v1")
        obj = json.loads(sk.out("image", "inspect", f"{name}:v1"))[0]
        assert obj["Comment"] == "" and obj["Author"] == ""  # not the parent's "Imported from ..."
        assert obj["Config"].get("Env") in (None, [])  # no HOSTNAME baked in
        assert obj["Config"]["Healthcheck"] == {"Test": ["CMD-SHELL", "true"], "Interval": 5_000_000_000,
                                                "Retries": 2}
        sk("commit", "-m", "msg", "--author", "me", "-c", "HEALTHCHECK NONE", name, f"{name}:v2")
        obj = json.loads(sk.out("image", "inspect", f"{name}:v2"))[0]
        assert (obj["Comment"], obj["Author"], obj["Config"]["Healthcheck"]) == ("msg", "me", {"Test": ["NONE"]})
        bad = sk("commit", "-c", "HEALTHCHECK --bogus=1 CMD true", name, f"{name}:v3", check=False)
        assert bad.returncode != 0 and bad.stderr.decode().strip().endswith("unknown flag: --bogus")
        assert b"Traceback" not in bad.stderr
    finally:
        sk("rm", "-f", name)
        sk("rmi", f"{name}:v1", f"{name}:v2", check=False)


def test_history_of_a_commit_names_its_parent(sk, name):  # type: ignore[no-untyped-def]
    """moby's ImageHistory: the newest entry has the image's ID, the next its parent's (a commit records one)."""
    sk("run", "--name", name, *NONE, "busybox", "sh", "-c", "echo hi > /f")
    try:
        sk("commit", "-m", "mine", name, f"{name}:v1")
        rows = sk.out("history", "--no-trunc", "--format", "{{.ID}} {{.Comment}}", f"{name}:v1").splitlines()
        new = sk.out("inspect", "-f", "{{.Id}}", f"{name}:v1").strip()
        base = sk.out("inspect", "-f", "{{.Id}}", "busybox").strip()
        assert rows == [f"{new} mine", f"{base} Imported from -"]
    finally:
        sk("rm", "-f", name)
        sk("rmi", f"{name}:v1")
