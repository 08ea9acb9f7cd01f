"""Bad input: each case gives one clear line, exit code 1 (Docker's, for commands other than run/create),
and leaves the store exactly as it was."""

from __future__ import annotations

import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path
from typing import Any

import pytest

from helpers.images import store_state


def _add(t: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    t.addfile(info, io.BytesIO(data))


def layer(entries: list[tarfile.TarInfo | tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        for e in entries:
            if isinstance(e, tarfile.TarInfo):
                t.addfile(e)
            else:
                _add(t, *e)
    return buf.getvalue()


def link(name: str, target: str, kind: bytes = tarfile.SYMTYPE) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info


def docker_archive(path: Path, layers: list[bytes], tag: str = "evil:1") -> None:
    diff_ids = ["sha256:" + hashlib.sha256(x).hexdigest() for x in layers]
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                         "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
    with tarfile.open(path, "w") as t:
        _add(t, "config.json", config)
        for i, x in enumerate(layers):
            _add(t, f"l{i}/layer.tar", x)
        _add(t, "manifest.json", json.dumps([{"Config": "config.json", "RepoTags": [tag],
                                              "Layers": [f"l{i}/layer.tar" for i in range(len(layers))]}]).encode())


def expect_refused(skiff: Any, args: list[str], pattern: str, input: bytes | None = None) -> None:
    before = store_state(skiff.root)
    cp = skiff(*args, check=False, input=input)
    err = cp.stderr.decode().strip().splitlines()
    assert cp.returncode == 1, cp.stderr
    assert len(err) == 1 and err[0].startswith("Error: ") and pattern in err[0], err
    assert store_state(skiff.root) == before
    assert not [p for p in (skiff.root / "tmp").glob("*")] if (skiff.root / "tmp").exists() else True


@pytest.mark.parametrize(("name", "entries", "msg"), [
    ("traversal", [("../../outside", b"x")], "outside"),
    ("absolute-symlink-escape", [link("esc", "/tmp"), ("esc/skiff-pwned", b"x")], "esc"),
    ("relative-symlink-escape", [link("up", "../../../../.."), ("up/tmp/skiff-pwned2", b"x")], "up"),
    ("hardlink-escape", [link("pw", "../../../../etc/hostname", tarfile.LNKTYPE)], "pw"),
    ("bare-whiteout", [(".wh.", b"")], ".wh."),
    ("dotdot-whiteout", [("etc/.wh...", b"")], ".wh."),
])
def test_hostile_layers_are_refused(bb: Any, tmp_path: Path, name: str, entries: Any, msg: str) -> None:
    arch = tmp_path / f"{name}.tar"
    docker_archive(arch, [layer(entries)])
    if "symlink" in name:
        # Following a symlink inside the layer root (as Docker does) is safe: the file must stay inside it.
        cp = bb("load", "-i", str(arch), check=False)
        assert cp.returncode in (0, 1), cp.stderr
        if cp.returncode == 0:
            assert list(bb.root.glob("overlay/*/diff/**/skiff-pwned*"))
    else:
        expect_refused(bb, ["load", "-i", str(arch)], msg)
    assert not Path("/tmp/skiff-pwned").exists() and not Path("/tmp/skiff-pwned2").exists()
    assert not (bb.root.parent / "outside").exists()
    expect_refused(bb, ["import", str(tmp_path / f"{name}-l.tar")], "no such file")
    if "symlink" not in name:
        (tmp_path / f"{name}-l.tar").write_bytes(layer(entries))
        expect_refused(bb, ["import", str(tmp_path / f"{name}-l.tar"), "evil:2"], msg)


def test_corrupted_blob(bb: Any, tmp_path: Path) -> None:
    good = tmp_path / "good"
    bb("save", "--format", "oci-dir", "-o", str(good), "busybox")
    bb("rmi", "busybox")
    blobs = sorted((good / "blobs/sha256").iterdir(), key=lambda p: p.stat().st_size)
    big = blobs[-1]  # the layer
    data = bytearray(big.read_bytes())
    data[1000] ^= 0xFF
    big.write_bytes(bytes(data))
    expect_refused(bb, ["load", "-i", str(good)], "content has digest")


def test_manifest_names_missing_blob(bb: Any, tmp_path: Path) -> None:
    good = tmp_path / "good"
    bb("save", "--format", "oci-dir", "-o", str(good), "busybox")
    bb("rmi", "busybox")
    big = max((good / "blobs/sha256").iterdir(), key=lambda p: p.stat().st_size)
    big.unlink()
    expect_refused(bb, ["load", "-i", str(good)], f"names blob sha256:{big.name}, which is missing")


def test_truncated_and_garbage_archives(bb: Any, tmp_path: Path) -> None:
    full = tmp_path / "full.tar"
    bb("save", "-o", str(full), "busybox")
    bb("rmi", "busybox")
    data = full.read_bytes()
    cut = tmp_path / "cut.tar"
    cut.write_bytes(data[: len(data) // 2])
    expect_refused(bb, ["load", "-i", str(cut)], "truncated")
    expect_refused(bb, ["load"], "truncated", input=data[: len(data) // 3])
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"this is not a tar file at all" * 100)
    expect_refused(bb, ["load", "-i", str(junk)], "junk.tar")
    expect_refused(bb, ["load", "-i", str(tmp_path / "absent.tar")], "absent.tar")


def test_kill_during_load_leaves_no_image_and_no_lock(skiff: Any, tmp_path: Path) -> None:
    payload = os.urandom(32 << 20)
    arch = tmp_path / "big.tar"
    docker_archive(arch, [layer([("big.bin", payload)])], tag="big:1")
    for _ in range(2):
        exe = str(Path(sys.executable).parent / "skiff")
        proc = subprocess.Popen([exe, "--root", str(skiff.root), "--runroot", str(skiff.runroot), "load", "-i",
                                 str(arch)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 30
        while time.time() < deadline and not any((skiff.root / "tmp").glob("*")) and proc.poll() is None:
            time.sleep(0.005)
        time.sleep(0.05)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        if proc.returncode == -signal.SIGKILL:
            break
    assert proc.returncode == -signal.SIGKILL, "load finished before it could be killed"
    assert skiff("images", "-q").stdout == b""
    cp = skiff("load", "-i", str(arch), timeout=120)  # no lock left held, leftovers repaired
    assert cp.stdout.decode().strip() == "Loaded image: big:1"
    assert not [n for n in os.listdir(skiff.root / "overlay") if n.startswith(".tmp-")]
    skiff("image", "prune", "-f")  # gc collects what the killed command left in ROOT/tmp
    assert list((skiff.root / "tmp").iterdir()) == []
