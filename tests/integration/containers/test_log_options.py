"""--log-driver and --log-opt: json-file's rotation (max-size, max-file) by both monitors (the native one of
detached containers, the in-process one of a foreground run), `logs` and `logs -f` across the rotated files,
and --log-driver none."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from helpers.cli import skiff_cmd

NONE = ("--network", "none")
LINES = "i=0; while [ $i -lt {n} ]; do echo line-$i; i=$((i+1)); {pause} done"


def _logs(sk, name: str) -> list[str]:  # type: ignore[no-untyped-def]
    return sk.out("logs", name).splitlines()


@pytest.mark.parametrize("mode", ["detached", "foreground"])
def test_rotation_keeps_the_newest_files(sk, name, mode):  # type: ignore[no-untyped-def]
    script = LINES.format(n=200, pause="")
    if mode == "detached":
        sk("run", "-d", "--name", name, *NONE, "--log-opt", "max-size=2k", "--log-opt", "max-file=3", "busybox",
           "sh", "-c", script)
        sk("wait", name)
    else:
        sk("run", "--name", name, *NONE, "--log-opt", "max-size=2k", "--log-opt", "max-file=3", "busybox", "sh",
           "-c", script)
    rec = json.loads(sk.out("inspect", name))[0]
    assert rec["HostConfig"]["LogConfig"] == {"Type": "json-file", "Config": {"max-size": "2k", "max-file": "3"}}
    log = rec["LogPath"]
    sizes = [len(open(p, "rb").read()) for p in (log, log + ".1", log + ".2")]
    assert all(s >= 2000 for s in sizes[1:]) and sizes[0] < 2100
    with pytest.raises(FileNotFoundError):
        open(log + ".3")
    lines = _logs(sk, name)
    first = int(lines[0].removeprefix("line-"))
    assert 0 < first and lines == [f"line-{i}" for i in range(first, 200)]  # the oldest are gone, no gap
    sk("rm", name)


def test_one_file_starts_again_empty(sk, name):  # type: ignore[no-untyped-def]
    sk("run", "--name", name, *NONE, "--log-opt", "max-size=1k", "busybox", "sh", "-c", LINES.format(n=100, pause=""))
    lines = _logs(sk, name)
    assert 0 < len(lines) < 30 and lines[-1] == "line-99"
    sk("rm", name)


def test_follow_across_rotations(sk, name):  # type: ignore[no-untyped-def]
    sk("run", "-d", "--name", name, *NONE, "--log-opt", "max-size=1k", "--log-opt", "max-file=20", "busybox",
       "sh", "-c", "sleep 0.5; " + LINES.format(n=300, pause="sleep 0.005;"))
    cp = subprocess.run(skiff_cmd(sk.root, sk.runroot, "logs", "-f", name), capture_output=True, timeout=60)
    assert cp.returncode == 0
    assert cp.stdout.decode().splitlines() == [f"line-{i}" for i in range(300)]
    sk("rm", name)


def test_log_driver_none(sk, name):  # type: ignore[no-untyped-def]
    assert sk.out("run", "--name", name, *NONE, "--log-driver", "none", "busybox", "echo", "hi") == "hi\n"
    cp = sk("logs", name, check=False)
    assert cp.returncode == 1
    assert cp.stderr.decode().strip() == "Error: configured logging driver does not support reading"
    rec = json.loads(sk.out("inspect", name))[0]
    assert rec["HostConfig"]["LogConfig"] == {"Type": "none", "Config": {}}
    assert not os.path.exists(rec["LogPath"])
    sk("rm", name)
