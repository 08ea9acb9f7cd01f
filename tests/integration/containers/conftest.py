"""A store with a busybox image (``skiff import`` of the test rootfs) shared by a module's tests, and a
runner for the real CLI. At the end every container is force-removed and nothing may be left behind: no
mount under the store, no cgroup, no process."""

from __future__ import annotations

import os
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers.cli import skiff_cmd
from helpers.containers import leftovers  # noqa: F401  (re-exported for the tests)


class Sk:
    def __init__(self, root: Path, runroot: Path) -> None:
        self.root = root
        self.runroot = runroot

    def __call__(self, *args: str, check: bool = True, input: bytes | None = None, timeout: float = 60,
                 env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
        cp = subprocess.run(skiff_cmd(self.root, self.runroot, *args), capture_output=True, input=input,
                            timeout=timeout, env=dict(os.environ, **(env or {})))
        if check and cp.returncode != 0:
            raise AssertionError(f"skiff {' '.join(args)} exited {cp.returncode}:\n{cp.stderr.decode()}")
        return cp

    def out(self, *args: str, **kw: object) -> str:
        return self(*args, **kw).stdout.decode()  # type: ignore[arg-type]

    def popen(self, *args: str, **kw: object) -> subprocess.Popen[bytes]:
        return subprocess.Popen(skiff_cmd(self.root, self.runroot, *args), **kw)  # type: ignore[call-overload]


@pytest.fixture(scope="session")
def busybox_tar(busybox_rootfs: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    tar = tmp_path_factory.mktemp("bbtar") / "busybox.tar"
    with tarfile.open(tar, "w") as t:
        t.add(busybox_rootfs, arcname=".")
    return tar




@pytest.fixture(scope="module")
def sk(tmp_path_factory: pytest.TempPathFactory, busybox_tar: Path) -> Iterator[Sk]:
    base = tmp_path_factory.mktemp("store")
    s = Sk(base / "root", base / "run")
    s.root.mkdir()
    s.runroot.mkdir()
    s("import", "--change", 'CMD ["sh"]', str(busybox_tar), "busybox")
    try:
        yield s
    finally:
        ids = s.out("ps", "-aq", "--no-trunc", check=False).split()
        if ids:
            s("rm", "-f", "-v", *ids, check=False)
        ids_left = os.listdir(s.root / "containers") if (s.root / "containers").is_dir() else []
        for d in (s.root / "containers", s.runroot / "containers"):
            for cid in ids_left if d.is_dir() else []:
                _kill_leftover(s, d / cid)
        if (s.root / "networks").exists():  # the bridge, addresses and firewall rules of this store
            from skiff.engine.networks import network_manager

            network_manager(s.root, s.runroot).teardown()
        left = leftovers(s.root)
        for m in left:
            if m.startswith(str(s.root)):
                subprocess.run(["umount", "-l", m], check=False)
        assert not [m for m in left if m.startswith(str(s.root))], f"mounts left behind: {left}"


def _kill_leftover(s: Sk, d: Path) -> None:
    import json
    import signal

    try:
        st = json.loads((d / "state.json").read_text())
    except (OSError, ValueError):
        return
    for key in ("Pid", "MonitorPid"):
        pid = st.get(key) or 0
        if pid > 0 and os.path.exists(f"/proc/{pid}") and str(s.root) in _cmdline(pid):
            os.kill(pid, signal.SIGKILL)


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return ""


@pytest.fixture
def name(request: pytest.FixtureRequest) -> str:
    """A container name unique to the test."""
    return request.node.name.replace("[", "_").replace("]", "").replace("-", "_")[:60]
