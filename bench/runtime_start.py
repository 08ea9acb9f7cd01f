"""Start-to-exit of /bin/true in a busybox bundle: skiff-runtime run vs crun run vs runc run, the engine's
in-process path (skiff.runtime.Runtime.run in this process) and the floor (unshare ... chroot ROOTFS
/bin/true). Runs are interleaved; prints medians and ratios.

    .venv/bin/python bench/runtime_start.py [-n 30]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))


def _cpu() -> float:
    """CPU seconds used by this process and every child it has reaped (user + system)."""
    import resource

    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=30)
    opts = ap.parse_args()
    from helpers.rootfs import make_busybox_rootfs
    from skiff.oci.codec import to_obj
    from skiff.runtime import Runtime
    from skiff.runtime.defaults import default_spec

    work = Path(tempfile.mkdtemp(prefix="skiff-bench-"))
    try:
        rootfs = make_busybox_rootfs(work / "bundle" / "rootfs")
        spec = default_spec(["/bin/true"], readonly_rootfs=True, cgroups_path="/skiff/bench")
        (work / "bundle" / "config.json").write_text(json.dumps(to_obj(spec)))
        bundle = work / "bundle"
        devnull = os.open(os.devnull, os.O_RDWR)
        counter = iter(range(10**9))
        # An installed skiff has its .pyc files (pip compiles them); with PYTHONDONTWRITEBYTECODE set, an
        # editable checkout would compile every module on every start instead, so let the warm-up write them.
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

        def cli(binary: str) -> Callable[[], None]:
            def go() -> None:
                cp = subprocess.run([binary, "--root", str(work / "state"), "run", "--bundle", str(bundle),
                                     f"b{next(counter)}"], stdin=devnull, stdout=devnull, stderr=subprocess.PIPE,
                                    env=env)
                if cp.returncode != 0:
                    raise SystemExit(f"{binary}: exit {cp.returncode}: {cp.stderr.decode()}")
            return go

        rt = Runtime(work / "lib-state")

        def in_process() -> None:
            code = rt.run(f"l{next(counter)}", bundle, stdio=(devnull, devnull, devnull))
            assert code == 0

        def floor() -> None:
            subprocess.run(["unshare", "-m", "-u", "-i", "-n", "-p", "-f", "chroot", str(rootfs), "/bin/true"],
                           check=True)

        cases: dict[str, Callable[[], None]] = {
            "skiff-runtime run": cli(str(Path(sys.executable).parent / "skiff-runtime")),
            "in-process (engine)": in_process,
            "floor (unshare+chroot)": floor,
        }
        for name in ("crun", "runc"):
            path = shutil.which(name)
            if path:
                cases[f"{name} run"] = cli(path)
        times: dict[str, list[float]] = {k: [] for k in cases}
        cpu: dict[str, list[float]] = {k: [] for k in cases}
        for fn in cases.values():  # warm up (page cache, pyc)
            fn()
        for _ in range(opts.n):
            for name, fn in cases.items():
                r0 = _cpu()
                t0 = time.perf_counter()
                fn()
                times[name].append((time.perf_counter() - t0) * 1000)
                cpu[name].append((_cpu() - r0) * 1000)
        med = {k: statistics.median(v) for k, v in times.items()}
        crun = med.get("crun run")
        cpu_crun = statistics.median(cpu["crun run"]) if "crun run" in cpu else None
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; {opts.n} runs each, interleaved")
        print(f"{'case':<24} {'median ms':>10} {'p10':>7} {'p90':>7} {'vs crun':>8} {'vs floor':>9} "
              f"{'cpu ms':>7} {'cpu vs crun':>11}")
        for name, m in med.items():
            qs = statistics.quantiles(times[name], n=10)
            vs_crun = f"{m / crun:.2f}x" if crun else "-"
            c = statistics.median(cpu[name])
            cvs = f"{c / cpu_crun:.2f}x" if cpu_crun else "-"
            print(f"{name:<24} {m:>10.1f} {qs[0]:>7.1f} {qs[-1]:>7.1f} {vs_crun:>8} "
                  f"{m / med['floor (unshare+chroot)']:>8.2f}x {c:>7.1f} {cvs:>11}")
        print(f"targets: skiff-runtime run <= 3x crun ({'met' if crun and med['skiff-runtime run'] <= 3 * crun else 'missed'}),"
              f" in-process <= 2x crun ({'met' if crun and med['in-process (engine)'] <= 2 * crun else 'missed'})")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
