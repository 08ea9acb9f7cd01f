"""A private dockerd for the benchmarks: started and stopped (by pid) by the bench itself.

Docker with BuildKit is the builder the issues measure skiff against. The daemon gets its own data root, exec
root and socket under a temporary folder, and no iptables rules, no bridge and no IP forwarding, so it
leaves nothing on the host; builds use ``--network host``. BuildKit has no bind mounts for RUN, so the host
CA (PyPI is reached through a TLS-inspecting proxy) is baked into docker's copy of the base image: one extra
small layer on top of the same python:3.11-slim the other tools use.

Needs Debian's docker.io (``dockerd`` and its own ``/usr/bin/docker`` CLI, which drives BuildKit without the
buildx plugin newer CLIs require).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

CLI = "/usr/bin/docker"
CA = "/etc/ssl/certs/ca-certificates.crt"


def builtin_frontend(dockerfile: Path) -> None:
    """Drop a ``# syntax=`` directive: BuildKit would pull that frontend image from Docker Hub, which is not
    reachable here; its built-in Dockerfile frontend has everything skiff's generated files use (RUN --mount)."""
    lines = dockerfile.read_text().splitlines(keepends=True)
    dockerfile.write_text("".join(ln for ln in lines if not ln.lower().replace(" ", "").startswith("#syntax=")))


def available() -> bool:
    return shutil.which("dockerd") is not None and os.path.exists(CLI)


class DockerDaemon:
    def __init__(self, work: Path) -> None:
        self.work = work
        work.mkdir(parents=True, exist_ok=True)
        self.sock = work / "docker.sock"
        self.env = {**os.environ, "DOCKER_HOST": f"unix://{self.sock}", "DOCKER_BUILDKIT": "1"}
        self.log = open(work / "dockerd.log", "wb")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen(
            ["dockerd", "--data-root", str(work / "data"), "--exec-root", str(work / "exec"), "-H",
             f"unix://{self.sock}", "--pidfile", str(work / "dockerd.pid"), "--iptables=false", "--ip-masq=false",
             "--bridge=none", "--ip-forward=false"], stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True)
        for _ in range(300):
            if subprocess.run([CLI, "version"], capture_output=True, env=self.env).returncode == 0:
                return
            if self.proc.poll() is not None:
                raise RuntimeError(f"dockerd exited {self.proc.returncode}; see {work / 'dockerd.log'}")
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("dockerd did not answer in 30 s")

    def cmd(self, *args: str) -> list[str]:
        return [CLI, *args]

    def load_base(self, archive: Path | str, ref: str = "python:3.11-slim") -> None:
        """Load the base image archive and put the host CA into it (tagged ``ref`` again)."""
        subprocess.run([CLI, "load", "-q", "-i", str(archive)], check=True, capture_output=True, env=self.env)
        ca = self.work / "ca-base"
        ca.mkdir(exist_ok=True)
        shutil.copy(CA, ca / "ca.crt")
        (ca / "Dockerfile").write_text(f"FROM {ref}\nCOPY ca.crt /etc/ssl/certs/ca-certificates.crt\n")
        subprocess.run([CLI, "build", "-q", "-t", ref, str(ca)], check=True, capture_output=True,
                       env=self.env)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        mounts = [line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines()]
        for m in sorted((m for m in mounts if m.startswith(f"{self.work}/")), key=len, reverse=True):
            subprocess.run(["umount", "-l", m], capture_output=True)
