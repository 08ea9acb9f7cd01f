"""Pull and push of a Python base image from/to a local registry: skiff vs skopeo vs podman, in one run.

There is no outside registry here, so the "Python base image" is made from this machine's own files in the
shape of python:3.11-slim (5 gzip layers, ~45 MB compressed, ~150 MB unpacked): a base system layer, shared
libraries, timezone/perl data, the Python standard library, site-packages, and a small config layer.

Usage: python bench/registry_bench.py [--repeat 3] [--keep]
Prints seconds (best of N) and the ratios the issue sets as targets:
  skiff pull (into the store, unpacked) <= 0.5 x podman pull;  <= 3 x skopeo copy to a dir.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent / "tests"), str(HERE.parent / "tests" / "integration" / "registry")]

from registry_server import RegistryServer  # noqa: E402

VENV_BIN = Path(sys.executable).parent
SKIFF = shutil.which("skiff", path=str(VENV_BIN)) or "skiff"
ENV = {**os.environ, "HOME": "/nonexistent", "REGISTRY_AUTH_FILE": "/nonexistent/auth.json",
       "SKIFF_REGISTRIES_CONF": "/dev/null"}


def _tar_of(paths: list[tuple[Path, str]], limit: int | None = None) -> bytes:
    """An uncompressed layer tar of host folders (``(src, arcname prefix)``), stopping near ``limit`` bytes."""
    import io

    buf = io.BytesIO()
    total = 0
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for src, prefix in paths:
            for dirpath, dirnames, filenames in os.walk(src):
                dirnames.sort()
                for name in [*sorted(dirnames), *sorted(filenames)]:
                    p = Path(dirpath) / name
                    arc = prefix + str(p.relative_to(src))
                    try:
                        ti = tf.gettarinfo(str(p), arcname=arc)
                    except OSError:
                        continue
                    ti.uname = ti.gname = ""
                    if ti.isreg():
                        if limit is not None and total + ti.size > limit:
                            continue
                        total += ti.size
                        with open(p, "rb") as f:
                            tf.addfile(ti, f)
                    elif ti.isdir() or ti.issym():
                        tf.addfile(ti)
    return buf.getvalue()


def build_python_image(layout: Path) -> dict[str, object]:
    from isal import igzip

    from helpers.rootfs import make_busybox_rootfs

    work = layout.parent / "build"
    base = make_busybox_rootfs(work / "rootfs")
    tars = [
        _tar_of([(base, "")]),
        _tar_of([(Path("/usr/lib/x86_64-linux-gnu"), "usr/lib/x86_64-linux-gnu/")], limit=45 << 20),
        _tar_of([(Path("/usr/share/zoneinfo"), "usr/share/zoneinfo/"), (Path("/usr/share/perl"), "usr/share/perl/")]),
        _tar_of([(Path("/usr/lib/python3.11"), "usr/local/lib/python3.11/")]),
        _tar_of([(Path("/usr/lib/python3/dist-packages"), "usr/local/lib/python3.11/site-packages/")],
                limit=20 << 20),
    ]
    blobs = layout / "blobs" / "sha256"
    blobs.mkdir(parents=True)

    def put(data: bytes) -> str:
        d = hashlib.sha256(data).hexdigest()
        (blobs / d).write_bytes(data)
        return "sha256:" + d

    layers = []
    for t in tars:
        gz = igzip.compress(t, compresslevel=2)
        layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": put(gz),
                       "size": len(gz)})
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "config": {"Cmd": ["/bin/sh"], "Env": ["PATH=/usr/local/bin:/usr/bin:/bin"]},
                         "rootfs": {"type": "layers",
                                    "diff_ids": ["sha256:" + hashlib.sha256(t).hexdigest() for t in tars]}}).encode()
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": put(config),
                                      "size": len(config)}, "layers": layers}).encode()
    md = put(manifest)
    (layout / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    (layout / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": len(manifest),
        "annotations": {"org.opencontainers.image.ref.name": "3.11-slim"}}]}))
    shutil.rmtree(work)
    return {"layers": len(layers), "compressed": sum(int(str(x["size"])) for x in layers),
            "unpacked": sum(len(t) for t in tars)}


def run(cmd: list[str]) -> None:
    r = subprocess.run(cmd, capture_output=True, text=True, env=ENV)
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:4])}... failed: {r.stderr[-2000:]}")


def best_of(n: int, fn: Callable[[], None], setup: Callable[[], None] | None = None,
            cleanup: Callable[[], None] | None = None) -> float:
    times = []
    for _ in range(n):
        if setup:
            setup()
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
        if cleanup:
            cleanup()
    return min(times)


def umount_under(path: Path) -> None:
    with open("/proc/mounts") as f:
        mounts = [line.split()[1] for line in f]
    for m in sorted((m for m in mounts if m.startswith(str(path))), key=len, reverse=True):
        subprocess.run(["umount", "-l", m], capture_output=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="skiff-rb-"))
    servers: list[RegistryServer] = []
    try:
        (tmp / "auth.json").write_text('{"auths": {}}')
        ENV["REGISTRY_AUTH_FILE"] = str(tmp / "auth.json")
        info = build_python_image(tmp / "layout")
        print(f"image: {info['layers']} layers, {int(str(info['compressed'])) / 1e6:.1f} MB compressed, "
              f"{int(str(info['unpacked'])) / 1e6:.1f} MB unpacked")
        reg = RegistryServer(tmp / "reg").start()
        servers.append(reg)
        ref = f"{reg.host}/library/python:3.11-slim"
        run(["skopeo", "copy", "--dest-tls-verify=false", f"oci:{tmp / 'layout'}:3.11-slim", f"docker://{ref}"])
        s_root, p_root, dir_dest = tmp / "s", tmp / "p", tmp / "dir"
        prun = Path(tempfile.mkdtemp(prefix="skrb-"))
        podman = ["podman", "--root", str(p_root), "--runroot", str(prun), "--storage-driver", "overlay"]

        def clean(*paths: Path) -> Callable[[], None]:
            def f() -> None:
                for p in paths:
                    umount_under(p)
                    shutil.rmtree(p, ignore_errors=True)
            return f

        def podman_reset() -> None:
            subprocess.run([*podman, "rmi", "-a", "-f"], capture_output=True)
            clean(p_root, prun)()
            prun.mkdir(exist_ok=True)

        results: dict[str, float] = {}
        results["skiff pull"] = best_of(a.repeat, lambda: run([SKIFF, "--root", str(s_root / "root"), "--runroot",
                                                               str(s_root / "run"), "pull", "-q", ref]),
                                        clean(s_root))
        results["podman pull"] = best_of(a.repeat, lambda: run([*podman, "pull", "-q", "--tls-verify=false", ref]),
                                         podman_reset)
        results["skopeo copy (to dir)"] = best_of(
            a.repeat, lambda: run(["skopeo", "copy", "-q", "--src-tls-verify=false", f"docker://{ref}",
                                   f"dir:{dir_dest}"]), clean(dir_dest))
        # Pushes go to an empty registry each time (nothing to mount, every blob uploaded).
        run([SKIFF, "--root", str(s_root / "root"), "--runroot", str(s_root / "run"), "pull", "-q", ref])
        run([*podman, "pull", "-q", "--tls-verify=false", ref])
        run(["skopeo", "copy", "-q", "--src-tls-verify=false", f"docker://{ref}", f"dir:{dir_dest}"])
        target: dict[str, str] = {}
        counter = iter(range(1000))

        def fresh() -> None:
            r = RegistryServer(tmp / f"push{next(counter)}").start()
            servers.append(r)
            target["ref"] = f"{r.host}/library/python:3.11-slim"

        def stop_last() -> None:
            servers.pop().stop()

        results["skiff push"] = best_of(a.repeat, lambda: run([SKIFF, "--root", str(s_root / "root"), "--runroot",
                                                               str(s_root / "run"), "push", "-q", ref, target["ref"]]),
                                        fresh, stop_last)
        results["podman push"] = best_of(a.repeat, lambda: run([*podman, "push", "-q", "--tls-verify=false", ref,
                                                                f"docker://{target['ref']}"]), fresh, stop_last)
        results["skopeo copy (from dir)"] = best_of(
            a.repeat, lambda: run(["skopeo", "copy", "-q", "--dest-tls-verify=false", f"dir:{dir_dest}",
                                   f"docker://{target['ref']}"]), fresh, stop_last)
        podman_reset()
        print(f"{'operation':<26}{'seconds':>9}")
        for k, v in results.items():
            print(f"{k:<26}{v:>9.2f}")
        pull_vs_podman = results["skiff pull"] / results["podman pull"]
        pull_vs_skopeo = results["skiff pull"] / results["skopeo copy (to dir)"]
        push_vs_podman = results["skiff push"] / results["podman push"]
        push_vs_skopeo = results["skiff push"] / results["skopeo copy (from dir)"]
        print(f"skiff pull / podman pull       = {pull_vs_podman:.2f}  (target <= 0.50)")
        print(f"skiff pull / skopeo copy (dir) = {pull_vs_skopeo:.2f}  (target <= 3.00)")
        print(f"skiff push / podman push       = {push_vs_podman:.2f}")
        print(f"skiff push / skopeo copy (dir) = {push_vs_skopeo:.2f}")
    finally:
        for s in servers:
            s.stop()
        umount_under(tmp)
        if not a.keep:
            shutil.rmtree(tmp, ignore_errors=True)
            for p in Path(tempfile.gettempdir()).glob("skrb-*"):
                shutil.rmtree(p, ignore_errors=True)


if __name__ == "__main__":
    main()
