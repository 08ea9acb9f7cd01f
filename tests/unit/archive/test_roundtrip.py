"""create_layer -> apply_layer reproduces trees exactly; digests are stable."""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
from pathlib import Path

import pytest

from skiff.archive import apply_layer, create_layer, detect_compression, list_layer

from .treeutil import snapshot

CAP_NET_RAW = bytes.fromhex("0100000200200000000000000000000000000000")  # vfs cap v2: net_raw in permitted


def make_tree(root: Path) -> None:
    (root / "a/b").mkdir(parents=True)
    (root / "a/b/f").write_bytes(b"hello\n")
    os.chmod(root / "a/b/f", 0o4755)
    os.link(root / "a/b/f", root / "a/hard")
    os.symlink("../x/y", root / "a/link")
    os.symlink("/etc/passwd", root / "abs")
    os.mkfifo(root / "fifo", 0o640)
    (root / "big").write_bytes(os.urandom(3 << 20))
    (root / "empty").write_bytes(b"")
    long = root / ("d" * 120) / ("n" * 150)
    long.parent.mkdir()
    long.write_bytes(b"long name")
    (root / "caps").write_bytes(b"#!/bin/sh\n")
    os.setxattr(root / "caps", "security.capability", CAP_NET_RAW)
    os.setxattr(root / "a/b", "user.note", b"\xff\x00binary")
    os.chown(root / "a/b", 1000, 2000)
    os.chown(root / "empty", 70000, 70001)
    os.chown(root / "a/link", 5, 6, follow_symlinks=False)
    (root / "ünïcode name").write_text("u")
    os.chmod(root / "a", 0o1777)
    for dirpath, dirs, files in os.walk(root, topdown=False):
        for n in dirs + files:
            os.utime(os.path.join(dirpath, n), (1_600_000_000, 1_600_000_000), follow_symlinks=False)


@pytest.mark.parametrize("compression", ["gzip", "zstd", "none"])
def test_round_trip_exact(tmp_path: Path, compression: str) -> None:
    src, dst = tmp_path / "src", tmp_path / "dst"
    src.mkdir()
    dst.mkdir()
    make_tree(src)
    blob = io.BytesIO()
    res = create_layer(src, blob, compression=compression)  # type: ignore[arg-type]
    data = blob.getvalue()
    assert res.size == len(data)
    assert detect_compression(data[:6]) == compression
    assert res.media_type.endswith({"gzip": "+gzip", "zstd": "+zstd", "none": "tar"}[compression])
    applied = apply_layer(io.BytesIO(data), dst)
    assert applied.diff_id == res.diff_id
    assert applied.digest == res.digest
    assert snapshot(dst) == snapshot(src)


def test_same_input_same_digest_and_sde_clamps(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    make_tree(src)
    a, b = io.BytesIO(), io.BytesIO()
    ra = create_layer(src, a, source_date_epoch=1_000)
    os.utime(src / "big", (2_000_000_000, 2_000_000_000))  # newer than SDE: clamped away
    rb = create_layer(src, b, source_date_epoch=1_000)
    assert ra.digest == rb.digest and a.getvalue() == b.getvalue()
    mtimes = {e.name: e.mtime for e in list_layer(io.BytesIO(a.getvalue()))}
    assert set(mtimes.values()) == {1_000}


def test_gnu_tar_and_python_tarfile_read_our_tars(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    make_tree(src)
    path = tmp_path / "l.tar"
    with open(path, "wb") as f:
        create_layer(src, f, compression="none")
    names = subprocess.run(["tar", "-tf", str(path)], capture_output=True, text=True, check=True).stdout.split("\n")
    assert "a/b/f" in names and "a/" in names
    with tarfile.open(path) as tf:
        m = tf.getmember("caps")
        assert m.pax_headers["SCHILY.xattr.security.capability"].encode("utf-8", "surrogateescape") == CAP_NET_RAW
        assert tf.getmember("a/hard").islnk() and tf.getmember("a/hard").linkname == "a/b/f"
        assert tf.getmember("empty").uid == 70000


def test_reads_gnu_tar_output(tmp_path: Path) -> None:
    """Tars from GNU tar (GNU long names, gzip via gzip(1)) apply like ours."""
    src, dst = tmp_path / "src", tmp_path / "dst"
    src.mkdir()
    dst.mkdir()
    make_tree(src)
    out = tmp_path / "gnu.tgz"
    subprocess.run(["tar", "--format=gnu", "--numeric-owner", "--xattrs", "--xattrs-include=*", "-C", str(src),
                    "-czf", str(out), "."], check=True)
    with open(out, "rb") as f:
        apply_layer(f, dst)
    assert snapshot(dst) == snapshot(src)


def test_multi_member_gzip_and_trailing_data_hashed(tmp_path: Path) -> None:
    import gzip

    src = tmp_path / "src"
    (src / "d").mkdir(parents=True)
    (src / "d/f").write_bytes(b"abc")
    raw = io.BytesIO()
    create_layer(src, raw, compression="none")
    tar = raw.getvalue()
    blob = gzip.compress(tar[:1000]) + gzip.compress(tar[1000:])
    dst = tmp_path / "dst"
    dst.mkdir()
    res = apply_layer(io.BytesIO(blob), dst)
    assert (dst / "d/f").read_bytes() == b"abc"
    import hashlib

    assert res.diff_id.value == "sha256:" + hashlib.sha256(tar).hexdigest()
    assert res.digest.value == "sha256:" + hashlib.sha256(blob).hexdigest()


@pytest.mark.skipif(os.geteuid() != 0, reason="owners need root")
def test_set_group_id_folders_do_not_leak_their_group(tmp_path: Path) -> None:
    """Under a set-group-ID folder the kernel gives new entries the folder's group (and new folders the bit):
    root:root entries and plain folders inside such a folder must come out as the tar says (found by the
    property test; Debian's /usr/local/share/fonts is root:staff 2775)."""
    src, dst = tmp_path / "src", tmp_path / "dst"
    src.mkdir()
    dst.mkdir()
    (src / "sg").mkdir()
    os.chown(src / "sg", 0, 50)
    os.chmod(src / "sg", 0o2775)
    (src / "sg" / "f").write_bytes(b"x")
    os.chown(src / "sg" / "f", 0, 0)
    (src / "sg" / "d").mkdir()
    os.chown(src / "sg" / "d", 0, 0)
    os.chmod(src / "sg" / "d", 0o755)
    os.symlink("f", src / "sg" / "l")
    os.chown(src / "sg" / "l", 0, 0, follow_symlinks=False)
    os.mkfifo(src / "sg" / "p", 0o600)
    os.chown(src / "sg" / "p", 0, 0)
    blob = io.BytesIO()
    res = create_layer(src, blob)
    assert apply_layer(io.BytesIO(blob.getvalue()), dst).diff_id == res.diff_id
    assert snapshot(dst) == snapshot(src)
    for name in ("f", "d", "l", "p"):
        st = os.lstat(dst / "sg" / name)
        assert st.st_gid == 0, name
    assert os.stat(dst / "sg" / "d").st_mode & 0o7777 == 0o755


@pytest.mark.parametrize("compression", ["gzip", "zstd", "none"])
@pytest.mark.parametrize("size", [0, 1000, (1 << 20) - 1, 1 << 20, (3 << 20) + 7])
def test_layer_writer_small_and_large(compression: str, size: int) -> None:
    """A layer below one chunk is written in the caller's thread (builtin sha256, zlib), a larger one by
    OpenSSL and isal in a worker: both give the digests of what was written and read back, and the same
    bytes give the same blob."""
    import gzip
    import hashlib

    import zstandard

    from skiff.archive.compression import LayerWriter

    data = os.urandom(size // 2) + bytes(size - size // 2)
    blobs = []
    for _ in range(2):
        out = io.BytesIO()
        w = LayerWriter(out, compression)  # type: ignore[arg-type]
        for i in range(0, len(data), 100_000):
            w.write(data[i:i + 100_000])
        w.close()
        blob = out.getvalue()
        assert w.diff_id == "sha256:" + hashlib.sha256(data).hexdigest()
        assert w.digest == "sha256:" + hashlib.sha256(blob).hexdigest()
        assert (w.tar_size, w.size) == (len(data), len(blob))
        if compression == "gzip":
            assert gzip.decompress(blob) == data
        elif compression == "zstd":
            assert zstandard.ZstdDecompressor().stream_reader(io.BytesIO(blob)).read() == data
        else:
            assert blob == data
        blobs.append(blob)
    assert blobs[0] == blobs[1]
