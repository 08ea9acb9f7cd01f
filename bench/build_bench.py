"""skiff build vs docker build (BuildKit) vs buildah bud vs podman build, side by side in one run.

Apps: the Flask example (examples/flask-hello, the seed's Dockerfile shape), and a larger multi-stage app
(bench/data/django-large: Django with a dozen dependencies, built from the multi-stage Dockerfile `skiff init`
writes for it: a builder stage with a venv and a pip cache mount, a slim final stage).
Each tool gets its own temporary store with python:3.11-slim loaded from the test helpers' cached archive, then
(the tools taking turns build by build, the order reversed every round, so that this VM's drift over a run
weighs on all of them alike):
cold build, no-op rebuild, app-change rebuild (the app's code edited), requirements-change rebuild
(requirements.txt edited, so pip runs again). Figures are wall seconds (the minimum of --reps runs for the
rebuilds); the CPU rows are the client processes' (docker's daemon and BuildKit are not counted).

PyPI is reached through a TLS-inspecting proxy whose CA is in the host's bundle: skiff gets --ca-bundle,
buildah/podman get the host bundle bind-mounted over the image's, docker gets it baked into its copy of the
base (bench/dockerd.py, which also starts and stops the private dockerd). RUN steps use the host network for
all (skiff's default; --network host for the others).

    .venv/bin/python bench/build_bench.py [--app flask|django] [--reps 5] [--tools skiff,docker,buildah,podman]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
import dockerd  # noqa: E402

APPS = {"flask": (REPO / "examples" / "flask-hello", "app.py"),
        "django": (HERE / "data" / "django-large", "mysite/views.py")}
CA = "/etc/ssl/certs/ca-certificates.crt"
BUILDKIT = {"noop": 0.087, "app": 0.109}  # BuildKit's figures for the same example (the reference)


def base_archive() -> Path:
    sys.path.insert(0, str(REPO / "tests"))
    from helpers.pybase import python_base_archive

    return python_base_archive()


APP = ["flask"]  # the app this run builds (--app)
CPU: list[float] = []  # CPU seconds (user+sys) of the last run's process tree


def run(cmd: list[str], **kw) -> float:  # type: ignore[no-untyped-def]
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, **kw)
    dt = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU[:] = [after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime]
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {r.returncode}:\n{r.stderr.decode()[-3000:]}")
    return dt


class Tool:
    name = ""

    def __init__(self, work: Path) -> None:
        self.work = work / self.name
        self.root = self.work / "root"
        self.runroot = self.work / "run"
        self.ctx = self.work / "ctx"
        src, self.code = APPS[APP[0]]
        shutil.copytree(src, self.ctx, ignore=shutil.ignore_patterns("__pycache__"))
        if not (self.ctx / "Dockerfile").exists():  # the larger app: the multi-stage Dockerfile skiff init writes
            skiff = shutil.which("skiff", path=str(Path(sys.executable).parent)) or "skiff"
            subprocess.run([skiff, "init", str(self.ctx)], check=True, capture_output=True)

    def load(self, archive: Path) -> None: ...

    def build_cmd(self) -> list[str]:
        raise NotImplementedError

    def build(self, no_cache: bool = False) -> float:
        return run(self.cmd(no_cache))

    def cmd(self, no_cache: bool) -> list[str]:
        cmd = self.build_cmd()
        if no_cache:
            cmd.insert(cmd.index("-q"), "--no-cache")
        return cmd

    def cleanup(self) -> None:
        shutil.rmtree(self.work, ignore_errors=True)


class Skiff(Tool):
    name = "skiff"

    def __init__(self, work: Path) -> None:
        super().__init__(work)
        self.exe = shutil.which("skiff", path=str(Path(sys.executable).parent)) or "skiff"
        self.env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

    def _s(self, *args: str) -> list[str]:
        return [self.exe, "--root", str(self.root), "--runroot", str(self.runroot), *args]

    def load(self, archive: Path) -> None:
        run(self._s("load", "-i", str(archive)), env=self.env)

    def build_cmd(self) -> list[str]:
        return self._s("build", "-q", "--ca-bundle", CA, "-t", "flask-bench", str(self.ctx))

    def build(self, no_cache: bool = False) -> float:
        return run(self.cmd(no_cache), env=self.env)

    def cleanup(self) -> None:
        subprocess.run(self._s("system", "prune", "-a", "-f"), capture_output=True, env=self.env)
        super().cleanup()


class Podman(Tool):
    name = "podman"

    def _p(self, *args: str) -> list[str]:
        return ["podman", "--root", str(self.root), "--runroot", str(self.runroot), "--storage-driver", "overlay",
                *args]

    def load(self, archive: Path) -> None:
        run(self._p("load", "-i", str(archive)))

    def build_cmd(self) -> list[str]:
        return self._p("build", "-q", "--pull=never", "--network", "host", "-v", f"{CA}:{CA}:ro",
                       "-t", "flask-bench", str(self.ctx))

    def cleanup(self) -> None:
        subprocess.run(self._p("rmi", "-a", "-f"), capture_output=True)
        for d in (self.root, self.runroot):
            subprocess.run(["umount", "-R", str(d)], capture_output=True)
        super().cleanup()


class Buildah(Tool):
    name = "buildah"

    def _b(self, *args: str) -> list[str]:
        return ["buildah", "--root", str(self.root), "--runroot", str(self.runroot), "--storage-driver", "overlay",
                *args]

    def load(self, archive: Path) -> None:
        run(self._b("pull", "-q", f"docker-archive:{archive}"))

    def build_cmd(self) -> list[str]:
        return self._b("bud", "-q", "--layers", "--pull-never", "--network", "host", "-v", f"{CA}:{CA}:ro",
                       "-t", "flask-bench", str(self.ctx))

    def cleanup(self) -> None:
        subprocess.run(self._b("rmi", "-a", "-f"), capture_output=True)
        for d in (self.root, self.runroot):
            subprocess.run(["umount", "-R", str(d)], capture_output=True)
        super().cleanup()


class Docker(Tool):
    """docker build with BuildKit against a private dockerd (bench/dockerd.py); RUN steps use --network host."""

    name = "docker"

    def __init__(self, work: Path) -> None:
        from dockerd import DockerDaemon

        super().__init__(work)
        self.daemon = DockerDaemon(self.work / "daemon")
        self.env = self.daemon.env

    def load(self, archive: Path) -> None:
        self.daemon.load_base(archive)

    def build_cmd(self) -> list[str]:
        dockerd.builtin_frontend(self.ctx / "Dockerfile")
        return self.daemon.cmd("build", "-q", "--network", "host", "-t", "flask-bench", str(self.ctx))

    def build(self, no_cache: bool = False) -> float:
        return run(self.cmd(no_cache), env=self.env)

    def cleanup(self) -> None:
        self.daemon.stop()
        super().cleanup()


def bench(tools: list[Tool], archive: Path, reps: int, cold_reps: int) -> dict[str, dict[str, float]]:
    """Every scenario for every tool, the tools taking turns build by build (the order reversed every round):
    this VM's speed drifts by up to 2x over minutes, and a tool measured only after another would carry it.
    A tool whose build fails is reported and left out of the rest."""
    live = list(tools)

    def each(i: int, step: Callable[[Tool], float]) -> dict[str, tuple[float, float]]:
        out = {}
        for tool in (live if i % 2 == 0 else live[::-1])[:]:
            try:
                out[tool.name] = (step(tool), CPU[0])
            except RuntimeError as e:
                print(f"{tool.name}: failed: {e}")
                live.remove(tool)
        return out

    for tool in tools:
        tool.load(archive)
    runs: dict[str, dict[str, list[tuple[float, float]]]] = {t.name: {} for t in tools}

    def record(key: str, got: dict[str, tuple[float, float]]) -> None:
        for name, v in got.items():
            runs[name].setdefault(key, []).append(v)

    # Cold builds after the first with --no-cache (pip from PyPI each time, the figure that varies most). Not
    # for an app whose Dockerfile has a pip cache mount: --no-cache keeps cache mounts, so those would not be
    # cold.
    cache_mount = "type=cache" in (tools[0].ctx / "Dockerfile").read_text()  # the same app for all tools
    record("cold", each(0, lambda t: t.build()))
    for i in range(1, 1 if cache_mount else cold_reps):
        record("cold", each(i, lambda t: t.build(no_cache=True)))
    each(0, lambda t: t.build())  # settle (first rebuild may write memos and pyc files)
    for i in range(reps):
        record("noop", each(i, lambda t: t.build()))

    def change(path: str, text: str) -> Callable[[Tool], float]:
        def step(t: Tool) -> float:
            with open(t.ctx / (t.code if path == "code" else path), "a") as f:
                f.write(text)
            return t.build()
        return step

    for i in range(reps):
        record("app", each(i, change("code", f"# change {i}\n")))
    for i in range(cold_reps):
        record("req", each(i, change("requirements.txt", f"# requirements changed {i}\n")))
    results = {}
    for tool in live:
        r = runs[tool.name]
        cold = [t for t, _ in r["cold"]]
        results[tool.name] = {
            "cold": min(cold), "cold_median": statistics.median(cold),
            "noop": min(t for t, _ in r["noop"]), "noop_cpu": min(c for _, c in r["noop"]),
            "app": min(t for t, _ in r["app"]), "app_cpu": min(c for _, c in r["app"]),
            "app_median": statistics.median(t for t, _ in r["app"]),
            "req": min(t for t, _ in r["req"]), "req_median": statistics.median(t for t, _ in r["req"])}
    return results


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--app", choices=sorted(APPS), default="flask")
    ap.add_argument("--cold-reps", type=int, default=3, help="cold and requirements-change builds per tool")
    ap.add_argument("--tools", default="skiff,docker,buildah,podman")
    args = ap.parse_args()
    APP[0] = args.app
    archive = base_archive()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "src")], capture_output=True, env=env)
    subprocess.run([sys.executable, "-m", "skiff.records"], capture_output=True, env=env)  # as setup.sh does
    classes = {"skiff": Skiff, "buildah": Buildah, "podman": Podman, "docker": Docker}
    with tempfile.TemporaryDirectory(prefix="build-bench-") as tmp:
        tools: list[Tool] = []
        try:
            for name in args.tools.split(","):
                if (name == "docker" and not dockerd.available()) or (name not in ("skiff", "docker") and \
                        shutil.which(name) is None):
                    print(f"{name}: not installed, skipped")
                    continue
                tools.append(classes[name](Path(tmp)))
            results = bench(tools, archive, args.reps, args.cold_reps)
        finally:
            for tool in tools:
                tool.cleanup()
    rows = [("cold", "cold build (min)"), ("cold_median", "cold build (median)"), ("noop", "no-op rebuild"),
            ("noop_cpu", "no-op rebuild, CPU s"),
            ("app", "app-change rebuild (min)"), ("app_median", "app-change rebuild (median)"),
            ("app_cpu", "app-change rebuild, CPU s"), ("req", "requirements-change (min)"),
            ("req_median", "requirements-change (median)")]
    names = list(results)
    print(f"{'scenario':30}" + "".join(f"{n:>10}" for n in names) + "".join(
        f"{'skiff/' + n:>14}" for n in names if n != "skiff") + f"{'skiff/buildkit':>16}")
    for key, label in rows:
        line = f"{label:30}" + "".join(f"{results[n][key]:>9.3f}s" for n in names)
        if "skiff" in results:
            s = results["skiff"][key]
            line += "".join(f"{s / results[n][key]:>14.2f}" for n in names if n != "skiff")
            bk = None if "docker" in results or APP[0] != "flask" else BUILDKIT.get(key.removesuffix("_cpu"))
            line += f"{s / bk:>16.2f}" if bk else f"{'':>16}"
        print(line)
    print(f"load average: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cpus")
    return 0


if __name__ == "__main__":
    sys.exit(main())
