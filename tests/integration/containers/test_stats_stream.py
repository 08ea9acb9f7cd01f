"""`stats` streaming as docker/cli shows it: all containers sampled over one interval; without names the
running containers are listed again each frame (a new one appears, a dead one goes); a named container that
stops while watched shows "--"; on a terminal each frame starts by clearing the screen."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import time

from helpers.cli import skiff_cmd


def _frames(sk, *args: str, seconds: float, tty: bool = False) -> bytes:  # type: ignore[no-untyped-def]
    argv = skiff_cmd(sk.root, sk.runroot, "stats", *args)
    if tty:
        pid, fd = pty.fork()
        if pid == 0:  # pragma: no cover - child
            os.execv(argv[0], argv)
        out = b""
        end = time.monotonic() + seconds
        try:
            while time.monotonic() < end:
                if select.select([fd], [], [], 0.2)[0]:
                    try:
                        out += os.read(fd, 65536)
                    except OSError:
                        break
        finally:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            os.close(fd)
        return out
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, _ = p.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        p.kill()
        out, _ = p.communicate()
    return out


def test_stream_follows_containers_and_marks_the_stopped(sk, name):  # type: ignore[no-untyped-def]
    short, late, other = f"{name}-short", f"{name}-late", f"{name}-other"
    try:
        sk("run", "-d", "--name", short, "busybox", "sleep", "1.5")
        sk("run", "-d", "--name", other, "busybox", "sleep", "600")
        starter = subprocess.Popen(["sh", "-c", "sleep 1.2; exec " + " ".join(
            skiff_cmd(sk.root, sk.runroot, "run", "-d", "--name", late, "busybox", "sleep", "600"))],
            stdout=subprocess.DEVNULL)
        out = _frames(sk, "--format", "{{.Name}} {{.CPUPerc}} {{.MemUsage}} {{.PIDs}}", seconds=4.5).decode()
        starter.wait(10)
        lines = out.splitlines()
        assert any(line.startswith(f"{short} ") for line in lines[:4])  # listed while it runs
        assert any(line.startswith(f"{late} ") for line in lines)  # started after stats did: picked up
        tail = lines[-3:]
        assert not any(line.startswith(f"{short} ") for line in tail)  # dead: no longer listed
        named = _frames(sk, short, other, "--format", "{{.Name}} {{.CPUPerc}} {{.MemUsage}} {{.PIDs}}",
                        seconds=2.5).decode().splitlines()
        assert f"{short} 0.00% 0B / 0B 0" in named  # never ran while watched: zeros, as docker's
        sk("run", "-d", "--name", f"{name}-dies", "busybox", "sleep", "1")
        seen = _frames(sk, f"{name}-dies", "--format", "{{.Name}} {{.CPUPerc}} {{.MemUsage}} {{.NetIO}} {{.PIDs}}",
                       seconds=3.5).decode().splitlines()
        assert seen[0].startswith(f"{name}-dies ") and seen[0].split()[1].endswith("%")
        assert f"{name}-dies -- -- / -- -- --" in seen  # stopped while watched: docker/cli's invalid stats
    finally:
        sk("rm", "-f", short, late, other, f"{name}-dies", check=False)


def test_terminal_frames_clear_the_screen(sk, name):  # type: ignore[no-untyped-def]
    sk("run", "-d", "--name", name, "busybox", "sleep", "600")
    try:
        out = _frames(sk, name, seconds=2.5, tty=True)
        assert out.count(b"\x1b[2J\x1b[H") >= 2 and out.count(b"CONTAINER ID") >= 2
        assert b"\x1b[2J" not in _frames(sk, name, "--no-stream", seconds=5, tty=True)
        assert b"\x1b[" not in subprocess.run(skiff_cmd(sk.root, sk.runroot, "stats", name, "--no-stream"),
                                              capture_output=True, check=True).stdout
    finally:
        sk("rm", "-f", name, check=False)
