"""Rows 3, 4, 6: image archives and registry content that name things with `../`, lie about digests, or
decompress to far more than the disk holds. Each is refused with one line, exit 1, and the store is unchanged;
no decompressor program is ever run."""

from __future__ import annotations

import gzip
import io
import lzma
import os
import subprocess
import tarfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from security.conftest import (
    StaticRegistry,
    assert_one_line_error,
    docker_archive,
    layer,
    oci_archive,
    reg,
    sha,
)

UP = "../" * 10


def test_row4_docker_archive_names_with_dotdot(skiff: Any, host: Path, tmp_path: Path) -> None:
    good = layer([reg("f", b"x")])
    for i, kw in enumerate([
        {"diff_ids": ["sha256:" + UP + str(host)[1:]]},
        {"diff_ids": ["sha256:" + "0" * 63 + "/"]},
    ]):
        arch = docker_archive(tmp_path / f"ids{i}.tar", [good], **kw)  # type: ignore[arg-type]
        assert_one_line_error(skiff("load", "-i", str(arch), check=False))
    assert skiff("images", "-q").stdout == b""


def test_row4_archive_never_reads_outside_itself(skiff: Any, tmp_path: Path) -> None:
    """manifest.json / index.json naming a host file with `../`: a valid layer there must not be loaded."""
    outside = tmp_path / "outside"
    outside.mkdir()
    planted = layer([reg("planted", b"from the host")])
    (outside / "layer.tar").write_bytes(planted)
    (outside / "c.json").write_bytes(docker_cfg := b'{"os":"linux","architecture":"amd64","rootfs":'
                                     b'{"type":"layers","diff_ids":["' + sha(planted).encode() + b'"]}}')
    # a docker archive without the members, naming the host files
    arch = tmp_path / "ptr.tar"
    rel = UP + str(outside)[1:]
    import json

    with tarfile.open(arch, "w") as t:
        data = json.dumps([{"Config": rel + "/c.json", "RepoTags": ["ptr:1"], "Layers": [rel + "/layer.tar"]}])
        info = tarfile.TarInfo("manifest.json")
        info.size = len(data)
        t.addfile(info, io.BytesIO(data.encode()))
    assert_one_line_error(skiff("load", "-i", str(arch), check=False))
    # an OCI layout folder whose index names a digest that climbs out of blobs/
    lay = tmp_path / "lay"
    arch2 = oci_archive(tmp_path / "o.tar", [layer([reg("f")])])
    with tarfile.open(arch2) as t:
        t.extractall(lay)  # our own archive, made just above
    (outside / ("x" * 64)).write_bytes(docker_cfg)
    idx = json.loads((lay / "index.json").read_text())
    idx["manifests"][0]["digest"] = "sha256:../../../outside/" + "x" * 64
    (lay / "index.json").write_text(json.dumps(idx))
    assert_one_line_error(skiff("load", "-i", str(lay), check=False))
    assert skiff("images", "-q").stdout == b""


def test_row4_oci_index_digest_with_dotdot(skiff: Any, host: Path, tmp_path: Path) -> None:
    for i, digest in enumerate(["sha256:" + UP + str(host)[1:] + "/secret", "sha256:../blobs/sha256/x",
                                "md5:" + "0" * 32, "sha256:" + "A" * 64]):
        arch = oci_archive(tmp_path / f"oci{i}.tar", [layer([reg("f")])], manifest_digest=digest)
        assert_one_line_error(skiff("load", "-i", str(arch), check=False))
    assert skiff("images", "-q").stdout == b""


def test_row4_registry_digests_with_dotdot(skiff: Any, host: Path, static_registry: StaticRegistry,
                                           isolated_env: dict[str, str]) -> None:
    bad = "sha256:" + UP + str(host)[1:] + "/secret"
    ref = static_registry.add_image("evil", "1", [layer([reg("f")])], layer_digests=[bad])
    cp = skiff("pull", "-q", "--tls-verify=false", ref, check=False, env=isolated_env, timeout=60)
    assert_one_line_error(cp)
    cp = skiff("pull", "-q", "--tls-verify=false", f"{static_registry.host}/evil@{bad}", check=False,
               env=isolated_env, timeout=60)
    assert_one_line_error(cp)
    assert skiff("images", "-q").stdout == b""


def test_row4_tag_and_name_with_dotdot_refused(bb: Any) -> None:
    for ref in ["../../evil", "busybox:../x", "a/../../b:1"]:
        assert_one_line_error(bb("tag", "busybox", ref, check=False))
    out = bb("images", "--format", "{{.Repository}}:{{.Tag}}").stdout.decode().split()
    assert out == ["busybox:latest"]


def test_row4_layer_id_collision_does_not_poison(bb: Any, tmp_path: Path, bb_layer: bytes) -> None:
    """CVE-2014-8178: a layer that claims an existing diff_id with other content is refused, and the stored
    layer is not replaced (by load or by pull)."""
    evil = layer([reg("bin/sh", b"#!/bin/busybox sh\necho pwned\n")])
    diff = sha(bb_layer)
    arch = docker_archive(tmp_path / "collide.tar", [evil], diff_ids=[diff], tag="collide:1")
    assert_one_line_error(bb("load", "-i", str(arch), check=False), "sha256:")
    assert bb("run", "--rm", "--network", "none", "busybox", "echo", "fine").stdout == b"fine\n"


def test_row4_registry_blob_not_matching_its_digest(skiff: Any, static_registry: StaticRegistry,
                                                    isolated_env: dict[str, str]) -> None:
    real = layer([reg("f", b"real")])
    ref = static_registry.add_image("lie", "1", [real], gzipped=False)
    d = sha(real)
    static_registry.blobs[d] = layer([reg("f", b"fake")])  # served under the real digest
    cp = skiff("pull", "-q", "--tls-verify=false", ref, check=False, env=isolated_env, timeout=60)
    assert_one_line_error(cp, "sha256:")
    assert skiff("images", "-q").stdout == b""


def gzip_bomb(size: int, name: str = "zeros") -> bytes:
    """A gzip'd layer tar holding one file of ``size`` zero bytes (about size/1000 compressed)."""
    info = tarfile.TarInfo(name)
    info.size = size
    header = info.tobuf(tarfile.GNU_FORMAT)
    co = zlib.compressobj(1, zlib.DEFLATED, 31)
    out = [co.compress(header)]
    chunk = bytes(1 << 22)
    for _ in range(size // len(chunk)):
        out.append(co.compress(chunk))
    out.append(co.compress(bytes(size % len(chunk) + 1024)))  # padding and the end-of-archive blocks
    out.append(co.flush())
    return b"".join(out)


def test_row6_bomb_against_small_max_size_library(tmp_path: Path) -> None:
    from skiff.archive import LayerTooLargeError, apply_layer

    dest = tmp_path / "dest"
    dest.mkdir()
    bomb = gzip_bomb(64 << 20)
    assert len(bomb) < 1 << 20
    with pytest.raises(LayerTooLargeError):
        apply_layer(io.BytesIO(bomb), dest, max_bytes=1 << 20)
    used = sum(p.stat().st_size for p in dest.rglob("*") if p.is_file())
    assert used <= 1 << 20
    # a gzip'd archive as a whole: the spool of its decompressed bytes is bounded too, and removed
    from skiff.errors import SkiffError
    from skiff.transfer.bundle import TarBundle

    arch = tmp_path / "bomb.tar.gz"
    arch.write_bytes(bomb)
    spool = tmp_path / "spool"
    with pytest.raises(SkiffError, match="exceeds"):
        TarBundle(arch, spool, max_bytes=1 << 20)
    assert list(spool.iterdir()) == []


@pytest.fixture
def small_store(skiff: Any) -> Iterator[Any]:
    """The store root on its own 1040 MiB tmpfs: skiff keeps 1 GiB free, so a layer may use about 16 MiB."""
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1040m", "skiff-sec-bomb", str(skiff.root)], check=True)
    try:
        yield skiff
    finally:
        subprocess.run(["umount", "-l", str(skiff.root)], check=False)


def _used(path: Path) -> int:
    st = os.statvfs(path)
    return (st.f_blocks - st.f_bfree) * st.f_frsize


@pytest.mark.slow
def test_row6_gzip_bomb_layer_and_archive_via_load(small_store: Any, tmp_path: Path) -> None:
    size = 160 << 20
    bomb = gzip_bomb(size)
    arch = docker_archive(tmp_path / "bomb.tar", [b""], diff_ids=["sha256:" + "1" * 64], compressed=[bomb])
    before = _used(small_store.root)
    cp = small_store("load", "-i", str(arch), check=False, timeout=120)
    assert_one_line_error(cp)
    assert _used(small_store.root) - before < 8 << 20, "a refused bomb left its bytes in the store"
    # the whole archive gzip'd: the spool of the decompressed archive is bounded the same way
    gz = tmp_path / "bomb.tar.gz"
    gz.write_bytes(bomb)
    cp = small_store("load", "-i", str(gz), check=False, timeout=120)
    assert_one_line_error(cp)
    assert _used(small_store.root) - before < 8 << 20


@pytest.fixture
def trap_path(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """PATH led by fake gzip/xz/zstd/tar/unpigz programs that only record that they ran."""
    bin_dir = tmp_path / "trapbin"
    bin_dir.mkdir()
    canary = tmp_path / "trap-ran"
    for name in ("gzip", "gunzip", "pigz", "unpigz", "xz", "unxz", "zstd", "unzstd", "bzip2", "tar", "zcat"):
        p = bin_dir / name
        p.write_text(f"#!/bin/sh\necho {name} >> {canary}\nexit 1\n")
        p.chmod(0o755)
    return {"PATH": f"{bin_dir}:{os.environ.get('PATH', '/usr/bin:/bin')}"}, canary


def test_row3_no_decompressor_program_runs_on_load(skiff: Any, tmp_path: Path,
                                                   trap_path: tuple[dict[str, str], Path]) -> None:
    import zstandard

    env, canary = trap_path
    data = layer([reg("hello", b"hi")])
    arch = docker_archive(tmp_path / "gz.tar", [data], tag="gz:1", compressed=[gzip.compress(data)])
    skiff("load", "-i", str(arch), env=env)
    arch = docker_archive(tmp_path / "zst.tar", [data], tag="zst:1",
                          compressed=[zstandard.ZstdCompressor().compress(data)])
    cp = skiff("load", "-i", str(arch), env=env, check=False)
    assert cp.returncode == 0 or cp.returncode == 1
    plain = oci_archive(tmp_path / "oci.tar", [data], gzipped=True)
    xz = tmp_path / "oci.tar.xz"
    xz.write_bytes(lzma.compress(plain.read_bytes()))
    skiff("load", "-i", str(xz), env=env)
    assert not canary.exists(), canary.read_text()
