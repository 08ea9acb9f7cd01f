"""SECURITY.md rows that belong to the runtime: 7, 11, 14 (see test_isolation), 16, 26, 27, 29, and no host
mount propagation into a running container."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from conformance.conftest import RuntimeUnderTest, sh
from skiff.oci.runtime import Mount
from skiff.runtime.defaults import MASKED_PATHS


def test_row7_every_masked_proc_path_is_empty(rt: RuntimeUnderTest) -> None:
    present = [p for p in MASKED_PATHS if os.path.exists(p)]
    cp = rt.run(rt.spec(sh("for p in " + " ".join(present) + "; do "
                           "if [ -d $p ]; then echo $p $(ls -A $p | wc -l); "
                           "else echo $p $(cat $p 2>/dev/null | wc -c); fi; done")))
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout.split() == [x for p in present for x in (p, "0")]


def test_row11_proc_self_exe_is_not_executed(skiff_rt: RuntimeUnderTest,
                                             rootfs_copy: Callable[[], Path]) -> None:
    cp = skiff_rt.run(skiff_rt.spec(["/proc/self/exe"]))
    assert cp.returncode == 126 and "/proc" in cp.stderr, cp.stderr
    rootfs = rootfs_copy()
    (rootfs / "bin" / "evil").write_text("#!/proc/self/exe\n")
    os.chmod(rootfs / "bin" / "evil", 0o755)
    cp = skiff_rt.run(skiff_rt.spec(["/bin/evil"]), rootfs=rootfs)
    assert cp.returncode == 126 and "/proc" in cp.stderr, cp.stderr


def test_row11_runtime_not_reachable_from_container(skiff_rt: RuntimeUnderTest) -> None:
    """While the container runs, /proc/1/exe is the user's program (busybox), never the host interpreter."""
    cp = skiff_rt.run(skiff_rt.spec(sh("readlink /proc/1/exe; readlink /proc/self/exe")))
    assert cp.stdout.split() == ["/bin/busybox", "/bin/busybox"], cp.stdout + cp.stderr


def test_row16_only_stdio_crosses_and_cwd_cannot_be_a_host_folder(rt: RuntimeUnderTest, tmp_path: Path) -> None:
    leak = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    high = os.dup2(leak, 57, inheritable=True)
    try:
        cid, b = rt.bundle(rt.spec(sh("ls /proc/$$/fd")))
        cp = subprocess.run(rt.cmd("run", "--bundle", str(b), cid), pass_fds=(high,), capture_output=True,
                            text=True, timeout=30)
        assert cp.returncode == 0, cp.stderr
        assert "57" not in cp.stdout.split()
        if rt.name == "skiff-runtime":  # older Debian runc builds may predate the CVE-2024-21626 fix
            cid, b = rt.bundle(rt.spec(["pwd"], cwd="/proc/self/fd/57"))
            cp = subprocess.run(rt.cmd("run", "--bundle", str(b), cid), pass_fds=(high,),
                                capture_output=True, text=True, timeout=30)
            assert cp.returncode != 0 or not cp.stdout.startswith(str(tmp_path)), cp.stdout
            assert str(tmp_path) not in cp.stdout
    finally:
        os.close(high)
        os.close(leak)


def test_row26_masked_path_source_swapped_for_symlink(skiff_rt: RuntimeUnderTest,
                                                      rootfs_copy: Callable[[], Path]) -> None:
    rootfs = rootfs_copy()
    (rootfs / "dev" / "null").symlink_to("/proc/sys/kernel/core_pattern")
    spec = skiff_rt.spec(sh("cat /proc/keys"))
    spec = dataclasses.replace(spec, mounts=[m for m in spec.mounts if not m.destination.startswith("/dev")])
    before = Path("/proc/sys/kernel/core_pattern").read_text()
    cp = skiff_rt.run(spec, rootfs=rootfs)
    assert cp.returncode != 0 and "null device" in cp.stderr, cp.stdout + cp.stderr
    assert Path("/proc/sys/kernel/core_pattern").read_text() == before


def test_row29_dev_symlink_in_image_stays_inside(rt: RuntimeUnderTest, rootfs_copy: Callable[[], Path],
                                                 open_dir: Path) -> None:
    rootfs = rootfs_copy()
    host_dir = open_dir / "host-dev"
    host_dir.mkdir()
    (rootfs / "dev").rmdir()
    (rootfs / "dev").symlink_to(str(host_dir))
    rt.run(rt.spec(["true"]), rootfs=rootfs)
    if rt.name == "runc" and list(host_dir.iterdir()):
        pytest.xfail("Debian's runc 1.1.5 creates /dev links through the image's symlink (CVE-2026-41579)")
    assert list(host_dir.iterdir()) == []


def test_row27_console_symlink_in_image(skiff_rt: RuntimeUnderTest, rootfs_copy: Callable[[], Path],
                                        open_dir: Path) -> None:
    rootfs = rootfs_copy()
    target = open_dir / "target"
    target.write_text("untouched")
    (rootfs / "dev" / "console").symlink_to(str(target))
    spec = skiff_rt.spec(["true"])
    spec = dataclasses.replace(spec, mounts=[m for m in spec.mounts if m.destination != "/dev"])
    skiff_rt.run(spec, rootfs=rootfs)
    assert target.read_text() == "untouched"


def test_no_host_mount_propagates_in(skiff_rt: RuntimeUnderTest, rootfs_copy: Callable[[], Path],
                                     tmp_path: Path) -> None:
    rootfs = rootfs_copy()
    (rootfs / "mnt").mkdir(exist_ok=True)
    spec = skiff_rt.spec(["sleep", "30"])
    spec = dataclasses.replace(spec, root=dataclasses.replace(spec.root, readonly=None))  # type: ignore[arg-type]
    cid, b = skiff_rt.bundle(spec, rootfs=rootfs)
    cp = skiff_rt.call("run", "-d", "--bundle", str(b), cid, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, capture_output=False)
    assert cp.returncode == 0
    subprocess.run(["mount", "--make-rshared", str(rootfs / "mnt")], check=False)
    subprocess.run(["mount", "-t", "tmpfs", "skiff-test", str(rootfs / "mnt")], check=True)
    try:
        (rootfs / "mnt" / "from-host").write_text("x")
        time.sleep(0.05)
        ex = skiff_rt.call("exec", cid, "ls", "-A", "/mnt")
        assert ex.returncode == 0, ex.stderr
        assert ex.stdout.strip() == ""
    finally:
        subprocess.run(["umount", "-l", str(rootfs / "mnt")], check=False)


_ = Mount
