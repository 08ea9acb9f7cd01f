"""Docker's behaviour where an audit found skiff apart: exit codes, inspect templates and key sets, logs
--since/--until forms, pflag booleans (-H=false), volume ls, prune output and rename to the same name."""

from __future__ import annotations

import datetime as dt
import json
import re

NONE = ("--network", "none")


def test_exit_codes_of_daemon_errors(sk, name):  # type: ignore[no-untyped-def]
    for args in (("tag", "nosuch", "x"), ("images", "--filter", "bogus=1"), ("history", "nosuch"),
                 ("volume", "rm", "nosuch"), ("network", "rm", "nosuch"), ("logs", "nosuch")):
        cp = sk(*args, check=False)
        assert cp.returncode == 1, (args, cp.stderr)
        assert len(cp.stderr.decode().strip().splitlines()) == 1, (args, cp.stderr)
    assert sk("run", *NONE, "nosuch:1", "--pull", "never", check=False).returncode == 125
    assert sk("images", "--bogus", check=False).returncode == 125  # a flag error
    sk("create", "--name", name, *NONE, "-v", "/data", "busybox", "true")
    vol = json.loads(sk.out("inspect", name))[0]["Mounts"][0]["Name"]
    cp = sk("volume", "rm", vol, check=False)
    assert cp.returncode == 1 and b"volume is in use" in cp.stderr
    sk("rm", "-v", name)


def test_inspect_templates_and_keys(sk, name, tmp_path):  # type: ignore[no-untyped-def]
    sk("run", "-d", "--name", name, *NONE, "-l", "a=b", "-v", f"{tmp_path}:/mnt:ro", "busybox", "sleep", "600")
    try:
        got = sk.out("inspect", "-f", "{{.Config.Entrypoint}}|{{.Config.Volumes}}|{{.HostConfig.PidMode}}|"
                     "{{.HostConfig.IpcMode}}|{{.HostConfig.CgroupnsMode}}", name)
        assert got == "[]|map[]||private|private\n"  # Docker 20.10's daemon says private for both (v2 hosts)
        assert sk.out("inspect", "-f", '{{index .Config.Labels "a"}}|{{index .Config.Labels "zz"}}', name) == "b|\n"
        assert sk.out("inspect", "-f", "{{.Config.Entrypoint}}", "busybox") == "[]\n"
        cp = sk("inspect", "-f", "{{.State.Bogus}}", name, check=False)
        assert cp.returncode == 1 and cp.stderr.decode().strip() == (
            'template parsing error: template: :1:8: executing "" at <.State.Bogus>: map has no entry for key '
            '"Bogus"')
        cp = sk("inspect", "-f", "{{.State", name, check=False)
        assert cp.returncode == 64 and b"template parsing error" in cp.stderr and cp.stdout == b""
        cp = sk("inspect", "-f", "{{.Name}}", "nosuch", check=False)
        assert cp.returncode == 1 and cp.stdout == b"\n" and b"No such object: nosuch" in cp.stderr
        (obj,) = json.loads(sk.out("inspect", "-s", name))
        for key in ("SizeRw", "SizeRootFs"):
            assert isinstance(obj[key], int), key
        assert obj["SizeRootFs"] >= obj["SizeRw"] and obj["SizeRootFs"] > 0
        for key in ("Entrypoint", "Volumes", "OnBuild", "Labels", "Image"):
            assert key in obj["Config"], key
        for key in ("PidMode", "IpcMode", "UTSMode", "CgroupParent", "Devices", "MaskedPaths"):
            assert key in obj["HostConfig"], key
        (mount,) = obj["Mounts"]
        assert mount["Mode"] == "ro" and mount["RW"] is False
        img = json.loads(sk.out("image", "inspect", "busybox"))[0]["Config"]
        assert {"Hostname", "Entrypoint", "Volumes", "OnBuild", "Labels", "Cmd"} <= set(img)
    finally:
        sk("rm", "-f", name)


def test_logs_since_until_forms(sk, name):  # type: ignore[no-untyped-def]
    sk("run", "--name", name, *NONE, "busybox", "echo", "hello")
    hour_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    for since in ("2020-01-01", "1m30s", hour_ago.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
                  hour_ago.strftime("%Y-%m-%dT%H:%M:%SZ"), f"{hour_ago.timestamp():.3f}"):
        assert sk.out("logs", "--since", since, name) == "hello\n", since
    assert sk.out("logs", "--until", "2020-01-01", name) == ""
    soon = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")
    assert sk.out("logs", "--since", soon, name, env={"TZ": "UTC"}) == ""  # local time, here UTC
    assert sk.out("logs", "--since", soon, name, env={"TZ": "Etc/GMT-5"}) == "hello\n"  # UTC+5: 4 hours ago
    cp = sk("logs", "--since", "bogus", name, check=False)
    assert cp.returncode == 1 and b'invalid value for "since": failed to parse value as time or duration' \
        in cp.stderr
    sk("rm", name)


def test_history_human_false(sk):  # type: ignore[no-untyped-def]
    for flag in ("-H=false", "--human=false"):
        row = sk.out("history", flag, "busybox").splitlines()[1]
        assert re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d) ", row) and re.search(r" \d{6,} ", row)
    got = sk.out("history", "--format", "{{.CreatedAt}}", "busybox", env={"TZ": "UTC"}).strip()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", got)
    cp = sk("history", "-H=maybe", "busybox", check=False)
    assert cp.returncode == 125 and b'invalid argument "maybe" for "-H, --human" flag' in cp.stderr


def test_volume_ls_labels_and_filters(sk, name):  # type: ignore[no-untyped-def]
    sk("volume", "create", "-l", "b=2", "-l", "a=1", f"{name}_a")
    sk("volume", "create", f"{name}_b")
    try:
        rows = sk.out("volume", "ls", "--format", "{{.Name}} {{.Labels}}", "-f", f"name={name}").splitlines()
        assert rows == [f"{name}_a a=1,b=2", f"{name}_b "]
        assert sk.out("volume", "ls", "-q", "-f", "driver=local", "-f", f"name={name}").split() == \
            [f"{name}_a", f"{name}_b"]
        assert sk.out("volume", "ls", "-q", "-f", "label=a=1").split() == [f"{name}_a"]
        assert f"{name}_b" in sk.out("volume", "ls", "-q", "-f", "dangling=true").split()
        sk("create", "--name", name, *NONE, "-v", f"{name}_a:/a", "busybox")  # a in use, b dangling
        try:
            mine = [f"{name}_a", f"{name}_b"]
            for flags, want in ((("dangling=true",), [f"{name}_b"]), (("dangling=0",), [f"{name}_a"]),
                                (("dangling=false", "dangling=1"), [f"{name}_b"])):  # moby: true wins
                got = sk.out("volume", "ls", "-q", *(a for f in flags for a in ("-f", f))).split()
                assert [v for v in got if v in mine] == want, flags
        finally:
            sk("rm", name)
        assert sk("volume", "ls", "-f", "colour=red", check=False).returncode == 1
    finally:
        sk("volume", "rm", f"{name}_a", f"{name}_b")


def test_prune_output_and_filters(sk, name):  # type: ignore[no-untyped-def]
    sk("run", "--name", f"{name}_keep", *NONE, "-l", "keep=1", "busybox", "true")
    sk("run", "--name", f"{name}_big", *NONE, "busybox", "sh", "-c", "head -c 200000 /dev/zero > /f")
    big = sk.out("inspect", "-f", "{{.Id}}", f"{name}_big").strip()
    assert sk.out("container", "prune", "-f", "--filter", "until=1h") == "Total reclaimed space: 0B\n"
    out = sk.out("container", "prune", "-f", "--filter", "label!=keep")
    assert out.startswith("Deleted Containers:\n") and big in out.splitlines()
    assert out.endswith("\n\nTotal reclaimed space: 200kB\n")
    assert sk("inspect", f"{name}_keep", check=False).returncode == 0
    sk("network", "create", f"{name}_net")
    out = sk.out("system", "prune", input=b"y\n")
    assert out.startswith("WARNING! This will remove:\n  - all stopped containers\n  - all networks not used by "
                          "at least one container\n  - all dangling images\n  - unused build cache\n\n"
                          "Are you sure you want to continue? [y/N] ")
    assert "Deleted Networks:\n" in out and f"{name}_net" in out and "Total reclaimed space:" in out
    assert sk("inspect", f"{name}_keep", check=False).returncode == 1
    out = sk.out("system", "prune", "-a", "--volumes", input=b"n\n")
    assert "  - all anonymous volumes not used by at least one container\n  - all images without at least one " \
        "container associated to them\n  - all build cache\n" in out
    assert sk.out("images", "-q")  # answered no: nothing removed


def test_rename_to_the_same_name(sk, name):  # type: ignore[no-untyped-def]
    sk("create", "--name", name, *NONE, "busybox", "true")
    cp = sk("rename", name, name, check=False)
    assert cp.returncode == 1
    assert cp.stderr.decode().splitlines()[0] == \
        "Error response from daemon: Renaming a container with the same name as its current name"
    sk("rm", name)


def test_info_counts_running_paused_and_stopped(sk, name):  # type: ignore[no-untyped-def]
    def counts() -> list[int]:
        fmt = "{{.Containers}} {{.ContainersRunning}} {{.ContainersPaused}} {{.ContainersStopped}}"
        return [int(x) for x in sk.out("info", "--format", fmt).split()]

    before = counts()
    sk("run", "-d", "--name", name, *NONE, "busybox", "sleep", "600")
    sk("create", "--name", name + "-c", *NONE, "busybox", "true")
    try:
        assert [a - b for a, b in zip(counts(), before, strict=True)] == [2, 1, 0, 1]
        sk("pause", name)
        assert [a - b for a, b in zip(counts(), before, strict=True)] == [2, 0, 1, 1]
    finally:
        sk("rm", "-f", name, name + "-c")
