"""What the default bridge adds to a container start, side by side with podman: `run --rm busybox true` on the
default network minus `run --rm --network none busybox true`, the two run alternately (so drift in the
machine's speed hits both), N rounds; medians and the median of the paired differences.

    .venv/bin/python bench/bridge_cost.py [-n 40] [--no-podman]

Target (issue 5): the default bridge adds at most 20 ms to `skiff run --rm busybox true` (podman's network
set-up costs about 230 ms here). skiff runs on its own temp store (its own bridge and nft table, removed at the
end); podman on its default store with a busybox image imported for the bench (removed at the end).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
SKIFF = str(Path(sys.executable).parent / "skiff")


def once(cmd: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return (time.perf_counter() - t) * 1000


def pairs(none: list[str], bridge: list[str], n: int) -> tuple[float, float, float]:
    for _ in range(3):
        once(none)
        once(bridge)
    a, b = [], []
    for _ in range(n):
        a.append(once(none))
        b.append(once(bridge))
    diff = statistics.median(y - x for x, y in zip(a, b, strict=True))
    return statistics.median(a), statistics.median(b), diff


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=40)
    ap.add_argument("--no-podman", action="store_true")
    args = ap.parse_args()
    from helpers.rootfs import make_busybox_rootfs

    work = Path(tempfile.mkdtemp(prefix="skiff-bridge-"))
    sk = [SKIFF, "--root", str(work / "root"), "--runroot", str(work / "run")]
    pimg = "localhost/skiffbench-bridge:latest"
    podman = not args.no_podman and shutil.which("podman") is not None
    try:
        rootfs = make_busybox_rootfs(work / "rootfs")
        tar = work / "busybox.tar"
        with tarfile.open(tar, "w") as t:
            t.add(rootfs, arcname=".")
        subprocess.run([*sk, "import", str(tar), "busybox"], check=True, stdout=subprocess.DEVNULL)
        rows = [("skiff", *pairs([*sk, "run", "--rm", "--network", "none", "busybox", "true"],
                                 [*sk, "run", "--rm", "busybox", "true"], args.n))]
        if podman:
            subprocess.run(["podman", "import", str(tar), pimg], check=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            rows.append(("podman", *pairs(["podman", "run", "--rm", "--network", "none", pimg, "true"],
                                          ["podman", "run", "--rm", pimg, "true"], max(10, args.n // 4))))
        print(f"run --rm busybox true, default bridge vs --network none (medians, ms; load {os.getloadavg()[0]:.1f})")
        print(f"{'tool':8} {'none':>8} {'bridge':>8} {'added':>8}")
        for name, a, b, d in rows:
            print(f"{name:8} {a:8.1f} {b:8.1f} {d:8.1f}")
        print("target: skiff's added <= 20 ms")
    finally:
        if podman:
            subprocess.run(["podman", "rmi", "-f", pimg], capture_output=True)
        code = ("import sys; sys.path.insert(0, sys.argv[3]); from pathlib import Path; "
                "from skiff.engine.networks import network_manager; "
                "network_manager(Path(sys.argv[1]), Path(sys.argv[2])).teardown()")
        subprocess.run([sys.executable, "-c", code, str(work / "root"), str(work / "run"),
                        str(HERE.parent / "src")], check=False)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
