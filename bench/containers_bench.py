"""Containers benchmark, side by side in one run (run as root):

* ``run --rm --network none busybox true``: skiff vs podman vs crun alone (median wall time, ratios);
* start and remove 10 detached containers (skiff and podman): 10 CLI calls one after the other, then 10 at once;
* host memory per running container, monitor included, as PSS (skiff's monitor vs podman's conmon).

    .venv/bin/python bench/containers_bench.py [-n 15]

Everything lives in a temporary store (skiff) or is named ``skiffbench-*`` (podman) and is removed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(HERE / "tests"))


def timed(argv: list[str], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        out.append(time.perf_counter() - t0)
    return out


def concurrent_starts(argv_of: object, names: list[str]) -> float:
    """Start one detached container per name, all CLI processes at once; the wall time until all returned."""
    t0 = time.perf_counter()
    procs = [subprocess.Popen(argv_of(n), stdout=subprocess.DEVNULL) for n in names]  # type: ignore[operator]
    codes = [p.wait() for p in procs]
    took = time.perf_counter() - t0
    if any(codes):
        raise SystemExit(f"concurrent starts failed: exit codes {codes}")
    return took


def pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def tree(pid: int) -> list[int]:
    out = [pid]
    for c in children(pid):
        out += tree(c)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=15, help="runs per measurement")
    args = ap.parse_args()
    from helpers.rootfs import make_busybox_rootfs

    skiff_exe = str(Path(sys.executable).parent / "skiff")
    work = Path(tempfile.mkdtemp(prefix="skiff-bench-"))
    rootfs = make_busybox_rootfs(work / "bundle" / "rootfs")
    tar = work / "busybox.tar"
    with tarfile.open(tar, "w") as t:
        t.add(rootfs, arcname=".")
    sk = [skiff_exe, "--root", str(work / "root"), "--runroot", str(work / "run")]
    subprocess.run([*sk, "import", "--change", 'CMD ["sh"]', str(tar), "busybox"], check=True,
                   stdout=subprocess.DEVNULL)
    have_podman = shutil.which("podman") is not None
    pimg = "localhost/skiffbench-busybox:latest"
    if have_podman:
        subprocess.run(["podman", "import", "--change", 'CMD ["sh"]', str(tar), pimg], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # crun alone on a bundle of the same rootfs
    subprocess.run(["crun", "spec"], cwd=work / "bundle", check=True)
    spec = json.loads((work / "bundle" / "config.json").read_text())
    spec["process"]["terminal"] = False
    spec["process"]["args"] = ["true"]
    (work / "bundle" / "config.json").write_text(json.dumps(spec))
    results: dict[str, float] = {}
    try:
        for _ in range(2):  # warm caches
            subprocess.run([*sk, "run", "--rm", "--network", "none", "busybox", "true"], check=True)
        results["skiff"] = statistics.median(timed([*sk, "run", "--rm", "--network", "none", "busybox", "true"],
                                                   args.n))
        results["crun"] = statistics.median(timed(["crun", "--root", str(work / "crunroot"), "run", "-b",
                                                   str(work / "bundle"), "skiffbench-crun"], args.n))
        if have_podman:
            timed(["podman", "run", "--rm", "--network", "none", pimg, "true"], 1)
            results["podman"] = statistics.median(timed(["podman", "run", "--rm", "--network", "none", pimg,
                                                         "true"], args.n))
        print(f"run --rm --network none busybox true (median of {args.n}):")
        for k, v in results.items():
            print(f"  {k:<8}{v * 1000:8.1f} ms")
        if "podman" in results:
            print(f"  skiff/podman = {results['skiff'] / results['podman']:.2f}x (target <= 0.3x); "
                  f"skiff/crun = {results['skiff'] / results['crun']:.1f}x")
        # 10 detached starts, memory, removal. The first detached start in a store compiles the C monitor
        # into ROOT/bin (once, like installing conmon): done before the timing.
        subprocess.run([*sk, "run", "-d", "--network", "none", "--name", "warm", "busybox", "true"], check=True,
                       stdout=subprocess.DEVNULL)
        subprocess.run([*sk, "rm", "-f", "warm"], check=True, stdout=subprocess.DEVNULL)
        t0 = time.perf_counter()
        for i in range(10):
            subprocess.run([*sk, "run", "-d", "--network", "none", "--name", f"b{i}", "busybox", "sleep", "300"],
                           check=True, stdout=subprocess.DEVNULL)
        t_start = time.perf_counter() - t0
        time.sleep(1.0)
        pss = []
        for i in range(10):
            cid = subprocess.run([*sk, "inspect", f"b{i}"], check=True, capture_output=True).stdout
            c = json.loads(cid)[0]
            st = json.loads((work / "run" / "containers" / c["Id"] / "state.json").read_text())
            pss.append(sum(pss_kb(p) for p in tree(st["MonitorPid"])))
        mon_only = [pss_kb(json.loads((work / "run" / "containers" / cid / "state.json").read_text())
                           ["MonitorPid"]) for cid in os.listdir(work / "run" / "containers")]
        t0 = time.perf_counter()
        subprocess.run([*sk, "rm", "-f", *[f"b{i}" for i in range(10)]], check=True, stdout=subprocess.DEVNULL)
        t_rm = time.perf_counter() - t0
        print(f"10 detached containers: start {t_start:.2f} s (sequential CLI calls), rm -f {t_rm:.2f} s "
              "(target: start < 0.5 s)")
        print(f"skiff per running container (monitor + container, PSS): {statistics.median(pss):.0f} kB; "
              f"monitor alone {statistics.median(mon_only):.0f} kB")
        conc = concurrent_starts(lambda n: [*sk, "run", "-d", "--network", "none", "--name", n, "busybox", "sleep",
                                            "300"], [f"c{i}" for i in range(10)])
        subprocess.run([*sk, "rm", "-f", *[f"c{i}" for i in range(10)]], check=True, stdout=subprocess.DEVNULL)
        print(f"10 detached containers, 10 CLI processes at once: all started in {conc:.2f} s")
        if have_podman:
            t0 = time.perf_counter()
            for i in range(10):
                subprocess.run(["podman", "run", "-d", "--network", "none", "--name", f"skiffbench-{i}", pimg,
                                "sleep", "300"], check=True, stdout=subprocess.DEVNULL)
            p_start = time.perf_counter() - t0
            time.sleep(1.0)
            cpss, conmon = [], []
            for i in range(10):
                pid = int(subprocess.run(["podman", "inspect", "-f", "{{.State.ConmonPid}}", f"skiffbench-{i}"],
                                         check=True, capture_output=True).stdout)
                cpss.append(sum(pss_kb(p) for p in tree(pid)))
                conmon.append(pss_kb(pid))
            t0 = time.perf_counter()
            subprocess.run(["podman", "rm", "-f", "-t", "0", *[f"skiffbench-{i}" for i in range(10)]], check=True,
                           stdout=subprocess.DEVNULL)
            p_rm = time.perf_counter() - t0
            print(f"podman 10 detached: start {p_start:.2f} s, rm -f {p_rm:.2f} s")
            print(f"podman per running container (conmon + container, PSS): {statistics.median(cpss):.0f} kB; "
                  f"conmon alone {statistics.median(conmon):.0f} kB")
            pconc = concurrent_starts(lambda n: ["podman", "run", "-d", "--network", "none", "--name", n, pimg, "sleep",
                                                 "300"], [f"skiffbench-c{i}" for i in range(10)])
            subprocess.run(["podman", "rm", "-f", "-t", "0", *[f"skiffbench-c{i}" for i in range(10)]], check=True,
                           stdout=subprocess.DEVNULL)
            print(f"podman 10 detached, 10 CLI processes at once: all started in {pconc:.2f} s")
    finally:
        ids = subprocess.run([*sk, "ps", "-aq"], capture_output=True).stdout.split()
        if ids:
            subprocess.run([*sk, "rm", "-f", *[i.decode() for i in ids]], stdout=subprocess.DEVNULL)
        if have_podman:
            subprocess.run(["podman", "rm", "-f", "-t", "0", *[f"skiffbench-{i}" for i in range(10)],
                            *[f"skiffbench-c{i}" for i in range(10)]],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            subprocess.run(["podman", "rmi", pimg], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        subprocess.run(["crun", "--root", str(work / "crunroot"), "delete", "-f", "skiffbench-crun"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
