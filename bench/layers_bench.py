"""Layer pack/unpack speed against GNU tar (and umoci when an OCI layout is given).

Usage: python bench/layers_bench.py [--files 50000] [--tree /usr/lib/python3.11] [--keep]
Prints wall times and ratios skiff/tar. Run as root (ownership is restored on extraction, as tar does).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from skiff.archive import apply_layer, create_layer


def make_synthetic(root: Path, files: int) -> None:
    """``files`` small files (0-4 KiB) spread over 100-file folders, plus some links."""
    root.mkdir(parents=True)
    for i in range(files):
        d = root / f"d{i // 1000:03d}" / f"s{(i // 100) % 10}"
        if i % 100 == 0:
            d.mkdir(parents=True, exist_ok=True)
        (d / f"f{i:06d}.txt").write_bytes(os.urandom(i % 4096 // 2) * 2)
        if i % 500 == 0:
            os.symlink(f"f{i:06d}.txt", d / f"l{i:06d}")


def timed(fn, repeat: int = 3, setup=None) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(repeat):
        if setup is not None:
            setup()
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def make_oci_layout(layout: Path, blob: Path) -> None:
    """A one-layer OCI image layout around ``blob`` (gzip layer), tagged ``bench``, for umoci."""
    import hashlib
    import json

    from skiff.archive.compression import LayerReader

    def put(data: bytes) -> tuple[str, int]:
        d = hashlib.sha256(data).hexdigest()
        (layout / "blobs/sha256" / d).write_bytes(data)
        return "sha256:" + d, len(data)

    (layout / "blobs/sha256").mkdir(parents=True)
    with open(blob, "rb") as f:
        r = LayerReader(f)
        r.finish()
    shutil.copy(blob, layout / "blobs/sha256" / r.digest.split(":")[1])
    cfg = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                      "rootfs": {"type": "layers", "diff_ids": [r.diff_id]}}).encode()
    cd, cs = put(cfg)
    man = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                      "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cs},
                      "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": r.digest,
                                  "size": r.compressed_size}]}).encode()
    md, ms = put(man)
    (layout / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    (layout / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": ms,
         "annotations": {"org.opencontainers.image.ref.name": "bench"}}]}))


def bench_tree(name: str, src: Path, work: Path, repeat: int) -> None:
    tar_path = work / "layer.tar"
    out = work / "out"

    def fresh() -> None:
        if out.exists():
            shutil.rmtree(out)
        out.mkdir()

    def tar_pack() -> None:
        subprocess.run(["tar", "--numeric-owner", "-C", str(src), "-cf", str(tar_path), "."], check=True)

    def skiff_pack() -> None:
        with open(work / "skiff.tar", "wb") as f:
            create_layer(src, f, compression="none")

    def skiff_pack_gz() -> None:
        with open(work / "skiff.tar.gz", "wb") as f:
            create_layer(src, f, compression="gzip")

    def skiff_pack_zst() -> None:
        with open(work / "skiff.tar.zst", "wb") as f:
            create_layer(src, f, compression="zstd")

    def tar_pack_gz() -> None:
        subprocess.run(["tar", "--numeric-owner", "-C", str(src), "-czf", str(work / "tar.tar.gz"), "."],
                       check=True)

    results: dict[str, float] = {}
    results["pack tar"] = timed(tar_pack, repeat)
    results["pack skiff"] = timed(skiff_pack, repeat)
    results["pack tar -z"] = timed(tar_pack_gz, 1)
    results["pack skiff gzip"] = timed(skiff_pack_gz, repeat)
    results["pack skiff zstd"] = timed(skiff_pack_zst, repeat)

    def unpack_tar() -> None:
        subprocess.run(["tar", "--numeric-owner", "-C", str(out), "-xf", str(tar_path)], check=True)

    def unpack_skiff() -> None:
        with open(tar_path, "rb") as f:
            apply_layer(f, out)

    def unpack_skiff_gz() -> None:
        with open(work / "skiff.tar.gz", "rb") as f:
            apply_layer(f, out)

    def unpack_skiff_zst() -> None:
        with open(work / "skiff.tar.zst", "rb") as f:
            apply_layer(f, out)

    def unpack_tar_gz() -> None:
        subprocess.run(["tar", "--numeric-owner", "-C", str(out), "-xzf", str(work / "skiff.tar.gz")], check=True)

    # the target is emptied before each run, outside the timing
    results["unpack tar"] = timed(unpack_tar, repeat, fresh)
    results["unpack skiff"] = timed(unpack_skiff, repeat, fresh)
    results["unpack tar -z"] = timed(unpack_tar_gz, repeat, fresh)
    results["unpack skiff gzip"] = timed(unpack_skiff_gz, repeat, fresh)
    results["unpack skiff zstd"] = timed(unpack_skiff_zst, repeat, fresh)
    if shutil.which("umoci"):
        layout, bundle = work / "oci", work / "bundle"
        make_oci_layout(layout, work / "skiff.tar.gz")

        def clear_bundle() -> None:
            if bundle.exists():
                shutil.rmtree(bundle)

        def umoci_unpack() -> None:
            subprocess.run(["umoci", "unpack", "--image", f"{layout}:bench", str(bundle)], check=True,
                           stdout=subprocess.DEVNULL)

        results["unpack umoci gzip"] = timed(umoci_unpack, repeat, clear_bundle)
        clear_bundle()
    nfiles = sum(len(f) + len(d) for _, d, f in os.walk(src))
    size = (work / "skiff.tar").stat().st_size
    print(f"\n== {name}: {nfiles} entries, {size / 1e6:.1f} MB tar")
    for k, v in results.items():
        print(f"  {k:<20} {v:7.3f} s", flush=True)
    print(f"  ratio unpack skiff/tar        {results['unpack skiff'] / results['unpack tar']:.2f}x")
    print(f"  ratio unpack gzip skiff/tar   {results['unpack skiff gzip'] / results['unpack tar -z']:.2f}x")
    if "unpack umoci gzip" in results:
        print(f"  ratio unpack gzip skiff/umoci {results['unpack skiff gzip'] / results['unpack umoci gzip']:.2f}x")
    print(f"  ratio pack skiff/tar          {results['pack skiff'] / results['pack tar']:.2f}x")
    print(f"  ratio pack gzip skiff/tar -z  {results['pack skiff gzip'] / results['pack tar -z']:.2f}x")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=50_000)
    ap.add_argument("--tree", default="/usr/lib/python3.11")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workdir", default=None)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(dir=a.workdir, prefix="skiff-bench-") as tmp:
        work = Path(tmp)
        syn = work / "synthetic"
        make_synthetic(syn, a.files)
        (work / "w1").mkdir()
        bench_tree(f"synthetic {a.files} files", syn, work / "w1", a.repeat)
        shutil.rmtree(syn)
        if a.tree and os.path.isdir(a.tree):
            real = work / "real"
            subprocess.run(["cp", "-a", a.tree, str(real)], check=True)
            (work / "w2").mkdir()
            bench_tree(f"copy of {a.tree}", real, work / "w2", a.repeat)


if __name__ == "__main__":
    main()
