"""Start-up benchmark, side by side in one run: `skiff --version` and `skiff images` against
`podman --version` and `podman images`, each on its own temp store holding the same busybox image.

Run: .venv/bin/python bench/images_bench.py [--runs N]
Targets: skiff --version < 50 ms; skiff images <= half of podman images. Uses the venv's own skiff
(no pyenv shim). Prints mean, median and min wall time per command (min is the least noisy on a busy box).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SKIFF = str(Path(sys.executable).parent / "skiff")


def timed(cmd: list[str], runs: int) -> tuple[list[float], float]:
    """Wall times (ms) and the mean CPU time (user+sys, ms) of the child: CPU is steadier on a busy machine."""
    for _ in range(3):
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    out = []
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        out.append((time.perf_counter() - t) * 1000)
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime) * 1000 / runs
    return out, cpu


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=30)
    args = ap.parse_args()
    sys.path.insert(0, str(HERE.parent / "tests"))
    from helpers.rootfs import make_busybox_rootfs

    work = Path(tempfile.mkdtemp(prefix="skiff-bench-"))
    prun = Path(tempfile.mkdtemp(prefix="skb-", dir="/tmp"))  # podman wants a short runroot
    try:
        rootfs = make_busybox_rootfs(work / "rootfs")
        with tarfile.open(work / "bb.tar", "w") as t:
            t.add(rootfs, arcname=".")
        sk = [SKIFF, "--root", str(work / "sroot"), "--runroot", str(work / "srun")]
        subprocess.run([*sk, "import", str(work / "bb.tar"), "busybox:latest"], check=True, capture_output=True)
        subprocess.run([*sk, "save", "-o", str(work / "bb-save.tar"), "busybox"], check=True)
        pm = ["podman", "--root", str(work / "proot"), "--runroot", str(prun), "--storage-driver", "overlay"]
        subprocess.run([*pm, "load", "-i", str(work / "bb-save.tar")], check=True, capture_output=True)
        cases = [("skiff --version", [*sk, "--version"]), ("podman --version", ["podman", "--version"]),
                 ("skiff images", [*sk, "images"]), ("podman images", [*pm, "images"])]
        res = {}
        print(f"{'command':<18}{'mean ms':>9}{'median':>9}{'min':>9}{'cpu ms':>9}   (runs={args.runs}, "
              f"load={os.getloadavg()[0]:.1f})")
        for name, cmd in cases:
            xs, cpu = timed(cmd, args.runs)
            res[name] = xs
            print(f"{name:<18}{statistics.mean(xs):9.1f}{statistics.median(xs):9.1f}{min(xs):9.1f}{cpu:9.1f}")
        ratio = statistics.median(res["skiff images"]) / statistics.median(res["podman images"])
        print(f"skiff images / podman images (median): {ratio:.2f} (target <= 0.5)")
        print(f"skiff --version median: {statistics.median(res['skiff --version']):.1f} ms (target < 50)")
        subprocess.run([*pm, "rmi", "-a", "-f"], capture_output=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(prun, ignore_errors=True)


if __name__ == "__main__":
    main()
