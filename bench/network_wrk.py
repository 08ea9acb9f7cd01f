#!/usr/bin/env python3
"""wrk against busybox httpd in a container: skiff's published port on 127.0.0.1, the container's address
directly, the same server on the host, and the same two paths with Podman (netavark, --rootfs). Also the
time skiff's default bridge adds to a container start (attach + release, warm and cold).

Run as root: ``.venv/bin/python bench/network_wrk.py [--duration 5] [--connections 32]``. Only 127.0.0.0/8 and
the benchmark's own containers are contacted; everything created is removed at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import shutil
import socket
import statistics
import string
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))


def make_rootfs(dest: Path) -> Path:
    (dest / "bin").mkdir(parents=True)
    (dest / "www").mkdir()
    for d in ("proc", "sys", "dev", "etc", "tmp"):
        (dest / d).mkdir()
    shutil.copy2("/bin/busybox", dest / "bin" / "busybox")
    (dest / "bin" / "sh").symlink_to("busybox")
    (dest / "www" / "index.html").write_text("x" * 612)  # nginx's default page size
    return dest


def wait_tcp(ip: str, port: int, timeout: float = 10) -> None:
    end = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((ip, port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > end:
                raise
            time.sleep(0.05)


def wrk(url: str, duration: int, conns: int) -> float:
    out = subprocess.run(["wrk", "-t2", f"-c{conns}", f"-d{duration}s", url], capture_output=True, text=True,
                         check=True).stdout
    m = re.search(r"Requests/sec:\s*([0-9.]+)", out)
    if not m:
        raise RuntimeError(f"wrk output without Requests/sec:\n{out}")
    return float(m.group(1))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def spawn(argv: list[str]) -> Iterator[subprocess.Popen[bytes]]:
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield p
    finally:
        p.kill()
        p.wait()


def measure(targets: dict[str, str], args: argparse.Namespace, res: dict[str, float]) -> None:
    """Interleaved rounds over all targets (the machine is shared); the median round per target."""
    runs: dict[str, list[float]] = {k: [] for k in targets}
    for _ in range(args.rounds):
        for k, url in targets.items():
            runs[k].append(wrk(url, args.duration, args.connections))
    for k, v in runs.items():
        res[k] = statistics.median(v)


def bench_skiff(tmp: Path, rootfs: Path, args: argparse.Namespace, res: dict[str, float],
                extra: dict[str, str]) -> None:
    from skiff.network.manager import NetworkManager
    from skiff.network.ports import parse_publish

    tag = "skb" + "".join(random.choices(string.ascii_lowercase, k=4))
    mgr = NetworkManager(tmp / "root", tmp / "run", bridge_prefix=tag, table=tag,
                         default_subnet=f"10.77.{random.randint(0, 255)}.0/24", dns_upstreams=[])
    try:
        with spawn(["unshare", "--net", "busybox", "sleep", "600"]) as ctr:
            time.sleep(0.05)
            ns = f"/proc/{ctr.pid}/ns/net"
            att = mgr.attach("bench" * 8, ns, ports=parse_publish("127.0.0.1::80"))
            with spawn(["nsenter", f"--net={ns}", "busybox", "httpd", "-f", "-p", "80", "-h",
                        str(rootfs / "www")]):
                wait_tcp(att.ip, 80)
                measure({"skiff_published": f"http://127.0.0.1:{att.ports[0].host_port}/",
                         "skiff_direct": f"http://{att.ip}/", **extra}, args, res)
            mgr.release_all("bench" * 8)
        # start cost: attach on the default bridge with a fresh namespace each time; "first" when no other
        # container runs (the nft table is created), "steady" while another one runs
        for label, resident in (("first", False), ("steady", True)):
            with contextlib.ExitStack() as stack:
                if resident:
                    r = stack.enter_context(spawn(["unshare", "--net", "busybox", "sleep", "600"]))
                    time.sleep(0.05)
                    mgr.attach("resident" * 8, f"/proc/{r.pid}/ns/net")
                times = []
                for i in range(args.starts):
                    with spawn(["unshare", "--net", "busybox", "sleep", "60"]) as ctr:
                        time.sleep(0.02)
                        t0 = time.perf_counter()
                        mgr.attach(f"start{i:03d}" * 7, f"/proc/{ctr.pid}/ns/net")
                        times.append((time.perf_counter() - t0) * 1000)
                        mgr.release_all(f"start{i:03d}" * 7)
                mgr.release_all("resident" * 8)
            res[f"skiff_attach_ms_{label}_median"] = statistics.median(times)
            res[f"skiff_attach_ms_{label}_p90"] = sorted(times)[int(len(times) * 0.9) - 1]
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "from skiff.network import rtnl; rtnl.load()"], check=True)
        t1 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import skiff.network"], check=True)
        res["netlink_import_ms"] = ((t1 - t0) - (time.perf_counter() - t1)) * 1000
    finally:
        mgr.teardown()


@contextlib.contextmanager
def host_server(rootfs: Path) -> Iterator[dict[str, str]]:
    port = free_port()
    with spawn(["busybox", "httpd", "-f", "-p", f"127.0.0.1:{port}", "-h", str(rootfs / "www")]):
        wait_tcp("127.0.0.1", port)
        yield {"host": f"http://127.0.0.1:{port}/"}


@contextlib.contextmanager
def podman_server(rootfs: Path) -> Iterator[dict[str, str]]:
    if shutil.which("podman") is None:
        yield {}
        return
    port = free_port()
    name = "skiffbench" + "".join(random.choices(string.ascii_lowercase, k=6))
    cp = subprocess.run(["podman", "run", "-d", "--name", name, "-p", f"127.0.0.1:{port}:80", "--rootfs",
                         str(rootfs), "/bin/busybox", "httpd", "-f", "-p", "80", "-h", "/www"],
                        capture_output=True, text=True)
    if cp.returncode != 0:
        print(f"podman run failed: {cp.stderr.strip()}", file=sys.stderr)
        yield {}
        return
    try:
        info = json.loads(subprocess.run(["podman", "inspect", name], capture_output=True, text=True,
                                         check=True).stdout)[0]
        nets = info["NetworkSettings"]["Networks"]
        ip = next(iter(nets.values()))["IPAddress"]
        wait_tcp("127.0.0.1", port)
        yield {"podman_published": f"http://127.0.0.1:{port}/", "podman_direct": f"http://{ip}/"}
    finally:
        subprocess.run(["podman", "rm", "-f", "-t", "0", name], capture_output=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--starts", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-podman", action="store_true")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("run as root", file=sys.stderr)
        return 2
    old_fwd = Path("/proc/sys/net/ipv4/ip_forward").read_text()
    load_start = os.getloadavg()
    res: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="skiff-bench-") as d:
        tmp = Path(d)
        rootfs = make_rootfs(tmp / "rootfs")
        try:
            with contextlib.ExitStack() as stack:
                extra = stack.enter_context(host_server(rootfs))
                if not args.no_podman:
                    extra.update(stack.enter_context(podman_server(rootfs)))
                bench_skiff(tmp, rootfs, args, res, extra)
        finally:
            Path("/proc/sys/net/ipv4/ip_forward").write_text(old_fwd)
    load_before = os.getloadavg()
    for k, v in res.items():
        print(f"{k:30s} {v:12.1f}")
    for a, b in (("skiff_published", "skiff_direct"), ("skiff_published", "host"), ("skiff_direct", "host"),
                 ("podman_published", "podman_direct"), ("podman_published", "host"),
                 ("podman_direct", "host"), ("skiff_published", "podman_published")):
        if a in res and b in res:
            print(f"{a + '/' + b:36s} {100 * res[a] / res[b]:7.1f}%")
    print("load average at start: " + " ".join(f"{x:.2f}" for x in load_start)
          + ", at end: " + " ".join(f"{x:.2f}" for x in load_before) + f" ({os.cpu_count()} CPUs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
