"""Rows 8, 9, 10, 30: `skiff cp` out of and into containers whose paths hold symlinks to /, to host folders and
to host files, while a container process swaps them (the CVE-2018-15664 race); and cp never runs or loads
anything from the container (no tar, no decompressor, no libnss)."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from security.conftest import assert_one_line_error, run_detached

HOST_PASSWD = Path("/etc/passwd").read_text()


def links_script(host: Path) -> str:
    return (f"ln -s {host} /hostlink; ln -s / /rootlink; ln -s /etc /etclink; ln -s ../../../../.. /uplink; "
            f"ln -s {host}/secret /hostfile; mkdir -p {host}/sub; echo inner > {host}/secret; touch /ready; ")


def wait_ready(skiff: Any, cid: str) -> None:
    deadline = time.time() + 20
    while time.time() < deadline:
        if skiff("exec", cid, "test", "-e", "/ready", check=False).returncode == 0:
            return
        time.sleep(0.05)
    raise AssertionError("the container never became ready")


@pytest.fixture(params=["running", "stopped"])
def linked(request: pytest.FixtureRequest, bb: Any, host: Path) -> tuple[Any, str]:
    """A container whose rootfs holds links to the host folder, to / and to /etc; running or stopped."""
    if request.param == "running":
        cid = run_detached(bb, "busybox", "sh", "-c", links_script(host) + "exec sleep 60")
        wait_ready(bb, cid)
    else:
        cid = run_detached(bb, "busybox", "sh", "-c", links_script(host))
        bb("wait", cid, timeout=30)
    return bb, cid


def test_row9_cp_out_resolves_links_inside_the_container(linked: tuple[Any, str], host: Path,
                                                         tmp_path: Path) -> None:
    skiff, cid = linked
    out = tmp_path / "out"
    out.mkdir()
    for src in ("/rootlink/etc/passwd", "/uplink/etc/passwd", "/etclink/passwd", "/rootlink/../../etc/passwd"):
        dst = out / "p"
        skiff("cp", f"{cid}:{src}", str(dst))
        text = dst.read_text()
        assert "app:x:1000" in text and text != HOST_PASSWD, src
        dst.unlink()
    for src in ("/hostlink/secret", "/hostlink/sub/."):
        dst = out / "s"
        skiff("cp", f"{cid}:{src}", str(dst))
        assert "host secret" not in "".join(p.read_text() for p in ([dst] if dst.is_file() else dst.rglob("*"))
                                            if p.is_file())
        subprocess.run(["rm", "-rf", str(dst)], check=True)
    skiff("cp", f"{cid}:/hostfile", str(out / "hf"))
    assert (out / "hf").is_symlink() or (out / "hf").read_text() == "inner\n"
    skiff("cp", f"{cid}:/etclink/.", str(out / "etc"))
    assert "app:x:1000" in (out / "etc" / "passwd").read_text()


def test_row9_cp_in_lands_inside_the_container(bb: Any, host: Path, tmp_path: Path) -> None:
    skiff = bb
    cid = run_detached(bb, "busybox", "sh", "-c", links_script(host) + "exec sleep 60")
    wait_ready(bb, cid)
    src = tmp_path / "payload"
    src.write_text("payload\n")
    for dst in ("/hostlink/planted", "/rootlink" + str(host) + "/planted2", "/uplink" + str(host) + "/planted3",
                "/hostfile", "/hostlink/sub/", "/etclink/planted4"):
        skiff("cp", str(src), f"{cid}:{dst}")
    tree = tmp_path / "tree"
    (tree / "d").mkdir(parents=True)
    (tree / "d" / "f").write_text("payload\n")
    skiff("cp", str(tree / "d"), f"{cid}:/hostlink/sub")
    # the container's own view got every file (checked by copying back out: works running or stopped)
    back = tmp_path / "back"
    back.mkdir()
    skiff("cp", f"{cid}:{host}/.", str(back / "h"))
    got = sorted(str(p.relative_to(back / "h")) for p in (back / "h").rglob("*") if p.is_file())
    assert got == ["planted", "planted2", "planted3", "secret", "sub/d/f", "sub/payload"]
    assert (back / "h" / "secret").read_text() in ("payload\n", "inner\n")  # followed or replaced: inside
    skiff("cp", f"{cid}:/etc/planted4", str(back / "p4"))
    assert not Path("/etc/planted4").exists()


def test_row9_cp_follow_link_dereferences_inside_the_container(bb: Any, host: Path, tmp_path: Path) -> None:
    cid = run_detached(bb, "busybox", "sh", "-c", links_script(host))
    bb("wait", cid, timeout=30)
    bb("cp", "-L", f"{cid}:/hostfile", str(tmp_path / "hfl"))
    assert not (tmp_path / "hfl").is_symlink() and (tmp_path / "hfl").read_text() == "inner\n"


@pytest.mark.slow
def test_row8_cp_symlink_swap_race(bb: Any, host: Path, tmp_path: Path) -> None:
    """A container process swaps /w/a between a real folder and a symlink to the host folder (and to /) as
    fast as it can while cp copies in and out through /w/a for a bounded time."""
    swap = (f"mkdir -p /w/real /w/r2; echo inner > /w/real/secret; echo inner > /w/r2/secret; "
            f"ln -s {host} /w/evil; ln -s / /w/evil2; touch /ready; i=0; "
            "while :; do mv /w/real /w/a; mv /w/a /w/real; mv /w/evil /w/a; mv /w/a /w/evil; "
            "mv /w/r2 /w/a; mv /w/a /w/r2; mv /w/evil2 /w/a; mv /w/a /w/evil2; done")
    cid = run_detached(bb, "busybox", "sh", "-c", swap)
    wait_ready(bb, cid)
    payload = tmp_path / "payload"
    payload.write_text("payload\n")
    out = tmp_path / "out"
    out.mkdir()
    copies = 0
    deadline = time.time() + 1
    while time.time() < deadline:
        bb("cp", f"{cid}:/w/a{host}/secret", str(out / f"h{copies}"), check=False, timeout=30)
        bb("cp", str(payload), f"{cid}:/w/a{host}/planted", check=False, timeout=30)
        copies += 1
    # the resolver cp uses, in-process, many times a second against the live root
    from skiff.engine.containers_paths import open_in_root

    pid = int(bb("inspect", "-f", "{{.State.Pid}}", cid).stdout)
    opened = 0
    deadline = time.time() + 1.5
    while time.time() < deadline:
        for path in ("/w/a/secret", f"/w/a{host}/secret", "/w/a/etc/passwd"):
            try:
                fd = open_in_root(f"/proc/{pid}/root", path, flags=os.O_RDONLY | os.O_CLOEXEC)
            except OSError:
                continue
            try:
                data = os.read(fd, 4096).decode(errors="replace")
            finally:
                os.close(fd)
            opened += 1
            assert "host secret" not in data and data != HOST_PASSWD[:4096], path
    assert copies >= 1 and opened > 50, (copies, opened)
    for p in out.iterdir():
        assert "host secret" not in p.read_text(), p
    assert sorted(os.listdir(host)) == ["secret", "sub"]
    assert not Path("/planted").exists()


NSS_SRC = r"""
#include <stdio.h>
__attribute__((constructor)) static void ran(void) {
    FILE *f = fopen("MARKER", "a"); if (f) { fputs("nss loaded\n", f); fclose(f); }
}
int _nss_files_getpwnam_r(void) { return 0; }
"""


def test_row10_row30_cp_loads_and_runs_nothing_from_the_container(bb: Any, tmp_path: Path) -> None:
    """The container ships libnss_*.so, nsswitch.conf and tar/gzip/xz programs that leave a marker when run
    or loaded; `cp -a` in both directions (and the host's PATH trapped too) leaves no marker anywhere."""
    marker = tmp_path / "marker"
    src = tmp_path / "nss.c"
    src.write_text(NSS_SRC.replace("MARKER", str(marker)))
    so = tmp_path / "libnss_files.so.2"
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(so), str(src)], check=True, capture_output=True)
    trap = f"#!/bin/sh\necho ran >> {marker}\necho ran >> /trap-ran\n"
    cid = bb("create", "--network", "none", "busybox", "sh", "-c", "sleep 60").stdout.decode().strip()
    staging = tmp_path / "staging"
    for d in ("lib/x86_64-linux-gnu", "lib64", "usr/lib", "etc", "usr/bin", "bin"):
        (staging / d).mkdir(parents=True)
    for d in ("lib/x86_64-linux-gnu", "lib64", "usr/lib"):
        (staging / d / "libnss_files.so.2").write_bytes(so.read_bytes())
        (staging / d / "libnss_skiff.so.2").write_bytes(so.read_bytes())
    (staging / "etc" / "nsswitch.conf").write_text("passwd: skiff files\ngroup: skiff files\n")
    for name in ("tar", "gzip", "xz", "zstd", "unpigz", "getent", "id"):
        for d in ("usr/bin",):
            (staging / d / name).write_text(trap)
            (staging / d / name).chmod(0o755)
    bb("cp", "-a", str(staging) + "/.", f"{cid}:/")
    bb("start", cid)
    trapbin = tmp_path / "trapbin"
    trapbin.mkdir()
    for name in ("tar", "gzip", "xz", "zstd", "unpigz"):
        (trapbin / name).write_text(trap)
        (trapbin / name).chmod(0o755)
    env = {"PATH": f"{trapbin}:{os.environ.get('PATH', '/usr/bin:/bin')}"}
    owned = tmp_path / "owned"
    owned.mkdir()
    (owned / "f").write_text("x")
    os.chown(owned / "f", 1000, 2000)
    bb("cp", "-a", str(owned), f"{cid}:/home/app/", env=env)
    bb("cp", "-a", f"{cid}:/home/app", str(tmp_path / "back"), env=env)
    bb("cp", "-a", f"{cid}:/etc/passwd", str(tmp_path / "pw"), env=env)
    st = (tmp_path / "back" / "owned" / "f").stat()
    assert (st.st_uid, st.st_gid) == (1000, 2000)
    assert not marker.exists(), marker.read_text()
    cp = bb("exec", cid, "test", "-e", "/trap-ran", check=False)
    assert cp.returncode == 1
    assert_one_line_error(bb("cp", "-", f"{cid}:/tmp", check=False, input=b"x"), code=None)
