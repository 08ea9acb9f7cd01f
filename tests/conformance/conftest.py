"""The runtime conformance suite: the same bundles under skiff-runtime, crun and runc.

``rt`` is a :class:`RuntimeUnderTest` for each runtime binary (crun and runc are skipped only when not
installed). Bundles share the session's busybox rootfs read-only; every test's containers are deleted and
their cgroups checked gone in the fixture's finally block, pass or fail.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from skiff.oci.codec import to_obj
from skiff.oci.runtime import Spec
from skiff.runtime.defaults import default_spec

VENV_BIN = Path(sys.executable).parent
RUNTIMES = ("skiff-runtime", "crun", "runc")
CGROUP_ROOT = Path("/sys/fs/cgroup")


def runtime_binary(name: str) -> str | None:
    if name == "skiff-runtime":
        return str(VENV_BIN / "skiff-runtime")
    return shutil.which(name)


def leftover_cgroups(rel: str) -> list[Path]:
    found = []
    for d in CGROUP_ROOT.iterdir():
        p = d / rel
        if p.is_dir():
            found.append(p)
    return found


def host_mounts_under(path: Path) -> list[str]:
    with open("/proc/self/mountinfo") as f:
        return [line.split()[4] for line in f if line.split()[4].startswith(str(path))]


@dataclasses.dataclass
class RuntimeUnderTest:
    name: str
    binary: str
    state_root: Path
    workdir: Path
    busybox: Path
    ids: list[str] = dataclasses.field(default_factory=list)

    def spec(self, args: list[str], **kw: Any) -> Spec:
        cid = f"t{uuid.uuid4().hex[:10]}"
        kw.setdefault("cgroups_path", f"/skiff/{cid}")
        kw.setdefault("hostname", "box")
        spec = default_spec(args, rootfs=str(self.busybox), readonly_rootfs=True, **kw)
        return dataclasses.replace(spec, annotations={"test.id": cid})

    def bundle(self, spec: Spec, rootfs: Path | None = None) -> tuple[str, Path]:
        cid = spec.annotations.get("test.id") or f"t{uuid.uuid4().hex[:10]}"
        b = self.workdir / cid
        b.mkdir()
        if rootfs is not None:
            assert spec.root is not None
            spec = dataclasses.replace(spec, root=dataclasses.replace(spec.root, path=str(rootfs)))
        (b / "config.json").write_text(json.dumps(to_obj(spec), indent=1))
        self.ids.append(cid)
        return cid, b

    def cmd(self, *args: str) -> list[str]:
        return [self.binary, "--root", str(self.state_root), *args]

    def call(self, *args: str, timeout: float = 30, **kw: Any) -> subprocess.CompletedProcess[str]:
        kw.setdefault("capture_output", True)
        return subprocess.run(self.cmd(*args), text=True, timeout=timeout, **kw)

    def run(self, spec: Spec, rootfs: Path | None = None, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        cid, b = self.bundle(spec, rootfs)
        return self.call("run", "--bundle", str(b), cid, timeout=timeout, stdin=subprocess.DEVNULL)

    def state(self, cid: str) -> dict[str, Any]:
        cp = self.call("state", cid)
        assert cp.returncode == 0, cp.stderr
        return json.loads(cp.stdout)  # type: ignore[no-any-return]

    def cleanup(self) -> list[str]:
        problems = []
        for cid in self.ids:
            self.call("delete", "-f", cid)
            for p in leftover_cgroups(f"skiff/{cid}"):
                problems.append(f"cgroup left: {p}")
                try:
                    p.rmdir()
                except OSError:
                    pass
        for m in host_mounts_under(self.workdir):
            problems.append(f"mount left: {m}")
            subprocess.run(["umount", "-l", m], check=False)
        # crun and runc make the `skiff` parent in every hierarchy (hugetlb, name=systemd too) and leave it;
        # it is shared, so remove it only when empty (rmdir refuses otherwise).
        for parent in CGROUP_ROOT.glob("*/skiff"):
            try:
                parent.rmdir()
            except OSError:
                pass
        return problems


@pytest.fixture(params=RUNTIMES)
def rt(request: pytest.FixtureRequest, tmp_path: Path, busybox_rootfs: Path) -> Iterator[RuntimeUnderTest]:
    binary = runtime_binary(request.param)
    if binary is None:
        pytest.skip(f"{request.param} is not installed (scripts/setup.sh installs it)")
    work = tmp_path / "bundles"
    work.mkdir()
    r = RuntimeUnderTest(request.param, binary, tmp_path / "state", work, busybox_rootfs)
    try:
        yield r
    finally:
        problems = r.cleanup()
    assert not problems, problems


@pytest.fixture
def skiff_rt(tmp_path: Path, busybox_rootfs: Path) -> Iterator[RuntimeUnderTest]:
    work = tmp_path / "bundles"
    work.mkdir()
    r = RuntimeUnderTest("skiff-runtime", str(VENV_BIN / "skiff-runtime"), tmp_path / "state", work,
                         busybox_rootfs)
    try:
        yield r
    finally:
        problems = r.cleanup()
    assert not problems, problems


@pytest.fixture
def rootfs_copy(busybox_rootfs: Path, tmp_path: Path) -> Callable[[], Path]:
    def make() -> Path:
        dest = tmp_path / f"rootfs-{uuid.uuid4().hex[:6]}"
        shutil.copytree(busybox_rootfs, dest, symlinks=True)
        return dest

    return make


def sh(script: str) -> list[str]:
    return ["sh", "-c", script]


__all__ = ["RuntimeUnderTest", "os", "sh"]


@pytest.fixture
def open_dir() -> Iterator[Path]:
    """A folder every uid can traverse (pytest's tmp folders are 0700), removed afterwards."""
    import tempfile

    d = Path(tempfile.mkdtemp(prefix="skiff-rt-"))
    d.chmod(0o755)
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def netns() -> Iterator[str]:
    name = f"skifftest-{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        yield f"/run/netns/{name}"
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)
