"""Cost of the default bridge to `skiff run`: NetworkManager import and attach() in a fresh interpreter.

Run as root: ``.venv/bin/python bench/network_attach.py [-n 20] [--profile]``. One stand-in container (a
process in its own network namespace) is attached first, so the bridge and the nft table exist; then each
round starts a new stand-in and a fresh interpreter that imports the manager, attaches it and releases it (each
timed apart, wall and CPU). Prints medians and the load average. Everything is created under its own bridge
prefix and nft table, and removed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import json, sys, time
t0, c0 = time.perf_counter(), time.process_time()
from skiff.network.manager import NetworkManager
t1, c1 = time.perf_counter(), time.process_time()
mgr = NetworkManager(sys.argv[1], sys.argv[2], bridge_prefix=sys.argv[3], table=sys.argv[3], dns_upstreams=[])
if sys.argv[6] == "profile":
    import cProfile, pstats
    pr = cProfile.Profile()
    pr.enable()
mgr.attach(sys.argv[4], sys.argv[5], "bridge", name="b")
t2, c2 = time.perf_counter(), time.process_time()
if sys.argv[6] == "profile":
    pr.disable()
    pstats.Stats(pr, stream=sys.stderr).sort_stats("cumulative").print_stats(35)
t3, c3 = time.perf_counter(), time.process_time()
mgr.release_all(sys.argv[4])
t4, c4 = time.perf_counter(), time.process_time()
mods = sorted(m for m in sys.modules if m.startswith("pyroute2"))
print(json.dumps({"import_ms": (t1 - t0) * 1e3, "attach_ms": (t2 - t1) * 1e3, "total_ms": (t2 - t0) * 1e3,
                  "import_cpu_ms": (c1 - c0) * 1e3, "attach_cpu_ms": (c2 - c1) * 1e3, "total_cpu_ms": (c2 - c0) * 1e3,
                  "release_ms": (t4 - t3) * 1e3, "release_cpu_ms": (c4 - c3) * 1e3,
                  "pyroute2_modules": len(mods)}))
"""


def stand_in() -> subprocess.Popen[bytes]:
    p = subprocess.Popen(["unshare", "--net", "sleep", "600"])
    me = os.readlink("/proc/self/ns/net")
    for _ in range(400):
        try:
            if os.readlink(f"/proc/{p.pid}/ns/net") != me:
                break
        except OSError:
            pass
        time.sleep(0.005)
    return p


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=20)
    ap.add_argument("--profile", action="store_true", help="cProfile one attach (stderr)")
    a = ap.parse_args()
    from skiff.network.manager import NetworkManager

    tag = "skb" + "".join(random.choices(string.ascii_lowercase, k=4))
    tmp = Path(tempfile.mkdtemp(prefix="skiff-netbench-"))
    root, run = tmp / "root", tmp / "run"
    mgr = NetworkManager(root, run, bridge_prefix=tag, table=tag, dns_upstreams=[])
    procs = [stand_in()]
    try:
        mgr.attach("f" * 64, f"/proc/{procs[0].pid}/ns/net", "bridge", name="first")
        rows = []
        for i in range(1 if a.profile else a.n):
            p = stand_in()
            procs.append(p)
            cid = f"{i:064x}"
            cp = subprocess.run([sys.executable, "-c", CHILD, str(root), str(run), tag, cid,
                                 f"/proc/{p.pid}/ns/net", "profile" if a.profile else "-"],
                                capture_output=True, text=True, check=True)
            if a.profile:
                print(cp.stderr)
            rows.append(json.loads(cp.stdout))
            mgr.release_all(cid)  # a no-op unless the child failed to
            p.kill()
            p.wait()
        for key in ("import_ms", "attach_ms", "total_ms", "import_cpu_ms", "attach_cpu_ms", "total_cpu_ms",
                    "release_ms", "release_cpu_ms"):
            vals = [r[key] for r in rows]
            print(f"{key:13} median {statistics.median(vals):7.1f}  min {min(vals):7.1f}  max {max(vals):7.1f}")
        print(f"pyroute2 modules loaded: {rows[-1]['pyroute2_modules']}")
        print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}  python {sys.version.split()[0]}")
    finally:
        for p in procs:
            p.kill()
            p.wait()
        mgr.teardown()
        subprocess.run(["nft", "delete", "table", "inet", tag], capture_output=True)
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
