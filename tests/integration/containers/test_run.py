"""skiff run: output, exit codes, environment, workdir, user, read-only rootfs, limits, init."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

NONE = ("--network", "none")


def test_output_and_exit_code(sk):  # type: ignore[no-untyped-def]
    cp = sk("run", "--rm", *NONE, "busybox", "sh", "-c", "echo out; echo err >&2; exit 3", check=False)
    assert cp.returncode == 3
    assert cp.stdout == b"out\n"
    assert cp.stderr == b"err\n"


def test_image_cmd_default_and_entrypoint_rules(sk):  # type: ignore[no-untyped-def]
    # the image's CMD is ["sh"]; with stdin closed sh exits 0
    assert sk("run", "--rm", *NONE, "busybox").returncode == 0
    assert sk.out("run", "--rm", *NONE, "--entrypoint", "echo", "busybox", "a", "b") == "a b\n"
    # --entrypoint drops the image's CMD
    assert sk.out("run", "--rm", *NONE, "--entrypoint", "echo", "busybox") == "\n"


def test_env_workdir_user(sk, tmp_path: Path):  # type: ignore[no-untyped-def]
    envf = tmp_path / "env"
    envf.write_text("# comment\nFROM_FILE=yes\n")
    out = sk.out("run", "--rm", *NONE, "-e", "A=1", "--env-file", str(envf), "-w", "/made/here", "-u", "app",
                 "busybox", "sh", "-c", 'echo $A $FROM_FILE $HOME; pwd; id -u; id -g; id -G')
    assert out.split("\n")[:5] == ["1 yes /home/app", "/made/here", "1000", "1000", "1000 2000"]
    out = sk.out("run", "--rm", *NONE, "-u", "1000:2000", "--group-add", "tty", "busybox", "id")
    assert "uid=1000" in out and "gid=2000" in out and "5(tty)" in out
    out = sk.out("run", "--rm", *NONE, "--hostname", "box1", "busybox", "sh", "-c", "hostname; echo $HOSTNAME")
    assert out == "box1\nbox1\n"


def test_exit_codes_126_127_125(sk):  # type: ignore[no-untyped-def]
    cp = sk("run", "--rm", *NONE, "busybox", "nosuchcmd", check=False)
    assert cp.returncode == 127
    assert b'exec: "nosuchcmd": executable file not found in $PATH' in cp.stderr
    cp = sk("run", "--rm", *NONE, "busybox", "/etc/passwd", check=False)
    assert cp.returncode == 126
    assert b"permission denied" in cp.stderr
    cp = sk("run", "--rm", *NONE, "--pull", "never", "nosuchimage", "true", check=False)
    assert cp.returncode == 125
    assert b"No such image" in cp.stderr
    before = sk.out("ps", "-aq")
    for bad in (["--frobnicate"], ["-v", "a:/b:ro:x"], ["-v", "vol:rel"], ["-v", "/a:/b:zz"], ["-e", "=x"],
                ["--memory", "lots"], ["--restart", "sometimes"], ["--ulimit", "nofile=9:1"],
                ["--cap-add", "NOT_A_CAP"], ["--cpus", "x"]):
        cp = sk("run", "--rm", *NONE, *bad, "busybox", "true", check=False)
        assert cp.returncode == 125, bad
        err = cp.stderr.decode().strip()
        assert err.startswith("Error: ") and len(err.splitlines()) <= 2, err
    assert sk.out("ps", "-aq") == before  # nothing was created


def test_read_only_rootfs_and_tmpfs(sk):  # type: ignore[no-untyped-def]
    cp = sk("run", "--rm", *NONE, "--read-only", "--tmpfs", "/scratch", "busybox", "sh", "-c",
            "touch /scratch/ok && touch /nope", check=False)
    assert cp.returncode == 1
    assert b"Read-only file system" in cp.stderr


@pytest.mark.slow
def test_oom_kill_137(sk, name):  # type: ignore[no-untyped-def]
    cp = sk("run", "--name", name, *NONE, "--memory", "16m", "--memory-swap", "16m", "busybox", "sh", "-c",
            "dd if=/dev/zero bs=64M count=1 of=/dev/null", check=False)
    assert cp.returncode == 137
    state = json.loads(sk.out("inspect", name))[0]["State"]
    assert state["OOMKilled"] is True and state["ExitCode"] == 137
    sk("rm", name)


def test_pids_limit(sk):  # type: ignore[no-untyped-def]
    cp = sk("run", "--rm", *NONE, "--pids-limit", "8", "busybox", "sh", "-c",
            "for i in 1 2 3 4 5 6 7 8 9 10 11 12; do sleep 5 & done; wait", check=False)
    assert cp.returncode != 0 or b"fork" in cp.stderr.lower()
    assert b"can't fork" in cp.stderr or b"Resource temporarily unavailable" in cp.stderr


def test_init_reaps_zombies(sk, name):  # type: ignore[no-untyped-def]
    """An orphan is reparented to PID 1: the init reaps it, a plain `sleep` as PID 1 leaves a zombie."""
    import time

    script = "(sleep 0.1 &); exec sleep 30"
    zombies = {}
    for flag in ("--init", "--no-init"):
        extra = ["--init"] if flag == "--init" else []
        sk("run", "-d", "--name", f"{name}{flag}", *NONE, *extra, "busybox", "sh", "-c", script)
    time.sleep(0.8)
    for flag in ("--init", "--no-init"):
        out = sk.out("exec", f"{name}{flag}", "ps", "-o", "stat")
        zombies[flag] = sum(1 for line in out.splitlines() if line.startswith("Z"))
    assert zombies == {"--init": 0, "--no-init": 1}
    cmd = sk.out("exec", f"{name}--init", "cat", "/proc/1/cmdline")
    assert cmd.startswith("/sbin/docker-init")
    sk("rm", "-f", f"{name}--init", f"{name}--no-init")


def test_caps_and_privileged(sk):  # type: ignore[no-untyped-def]
    def capeff(*flags: str) -> int:
        out = sk.out("run", "--rm", *NONE, *flags, "busybox", "grep", "CapEff", "/proc/self/status")
        return int(out.split()[1], 16)

    default = capeff()
    assert default & (1 << 21) == 0  # no CAP_SYS_ADMIN
    assert capeff("--cap-add", "SYS_ADMIN") & (1 << 21)
    assert capeff("--cap-drop", "ALL") == 0
    assert capeff("--privileged") & (1 << 21)


def test_name_conflict(sk, name):  # type: ignore[no-untyped-def]
    sk("create", "--name", name, *NONE, "busybox", "true")
    cp = sk("create", "--name", name, *NONE, "busybox", "true", check=False)
    assert cp.returncode == 125
    assert f'The container name "/{name}" is already in use' in cp.stderr.decode()
    sk("rm", name)


def test_security_opts_ulimit_shm(sk):  # type: ignore[no-untyped-def]
    def status(*flags: str) -> dict[str, str]:
        out = sk.out("run", "--rm", *NONE, *flags, "busybox", "cat", "/proc/self/status")
        return dict(line.split(":\t", 1) for line in out.splitlines() if ":\t" in line)

    default = status()
    assert default["NoNewPrivs"].strip() == "1" and default["Seccomp"].strip() == "2"
    relaxed = status("--security-opt", "no-new-privileges=false", "--security-opt", "seccomp=unconfined")
    assert relaxed["NoNewPrivs"].strip() == "0" and relaxed["Seccomp"].strip() == "0"
    out = sk.out("run", "--rm", *NONE, "--ulimit", "nofile=256:512", "--shm-size", "8m", "busybox", "sh", "-c",
                 "ulimit -n; ulimit -Hn; df -k /dev/shm | tail -1")
    soft, hard, shm = out.splitlines()
    assert (soft, hard) == ("256", "512") and shm.split()[1] == "8192"
    cp = sk("run", "--rm", *NONE, "--security-opt", "bogus", "busybox", "true", check=False)
    assert cp.returncode == 125 and b"invalid --security-opt" in cp.stderr


def test_network_none_has_loopback_up(sk, name):  # type: ignore[no-untyped-def]
    # the runtime brings lo up in the container's new namespace (runc and crun do too)
    script = "cat /sys/class/net/lo/operstate; ls /sys/class/net; nc -l -p 7 -e true & sleep 0.2; nc 127.0.0.1 7 </dev/null && echo reached"
    out = sk.out("run", "--rm", *NONE, "busybox", "sh", "-c", script).split()
    assert out[0] == "unknown" and out[1:] == ["lo", "reached"]  # lo reports "unknown" when it is up
    sk("run", "-d", "--name", name, *NONE, "busybox", "sleep", "30")
    assert sk.out("exec", name, "cat", "/sys/class/net/lo/flags").strip() == "0x9"  # IFF_UP | IFF_LOOPBACK
    sk("rm", "-f", name)
