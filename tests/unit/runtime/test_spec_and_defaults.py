"""Pure parts: spec types round-trip, validation messages, the default spec and seccomp profile, mount
options, path resolution, state machine, capability masks (with the fake kernel)."""

from __future__ import annotations

import json
import os
from pathlib import Path, PurePosixPath

import pytest

from skiff.kernel import MS_BIND, MS_NODEV, MS_PRIVATE, MS_RDONLY, MS_REC, PR_CAP_AMBIENT, PR_CAPBSET_DROP
from skiff.kernel.fake import FakeKernel
from skiff.oci.codec import from_obj, to_obj
from skiff.oci.runtime import LinuxCapabilities, Spec
from skiff.runtime import capabilities
from skiff.runtime.bundle import parse_spec
from skiff.runtime.cgroups.base import cgroup_path
from skiff.runtime.cgroups.v2 import shares_to_weight
from skiff.runtime.cli import parse_signal
from skiff.runtime.defaults import DOCKER_CAPS, default_seccomp, default_spec
from skiff.runtime.errors import BundleError, ExecFailed
from skiff.runtime.paths import clean
from skiff.runtime.rootfs import open_in_root, parse_options, resolve_in_root
from skiff.runtime.state import Status
from skiff.runtime.validate import validate

RUNC_SPEC = {
    "ociVersion": "1.0.2-dev",
    "process": {"terminal": True, "user": {"uid": 0, "gid": 0}, "args": ["sh"],
                "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
                "cwd": "/", "capabilities": {"bounding": ["CAP_AUDIT_WRITE", "CAP_KILL"],
                                             "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"],
                                             "ambient": ["CAP_KILL"]},
                "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
                "noNewPrivileges": True},
    "root": {"path": "rootfs", "readonly": True},
    "hostname": "runc",
    "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}],
    "linux": {"resources": {"devices": [{"allow": False, "access": "rwm"}]},
              "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "mount"}],
              "maskedPaths": ["/proc/kcore"], "readonlyPaths": ["/proc/sys"],
              "vendorThing": {"x": 1}},
    "x-unknown": [1, 2],
}


def test_runc_spec_round_trips_with_unknown_fields() -> None:
    spec = from_obj(Spec, RUNC_SPEC)
    assert spec.process is not None and spec.process.terminal is True
    assert spec.linux is not None and spec.linux.extra == {"vendorThing": {"x": 1}}
    assert to_obj(spec) == RUNC_SPEC


def test_default_spec_facts() -> None:
    spec = default_spec(["sh"])
    assert spec.process is not None and spec.process.capabilities is not None
    caps = spec.process.capabilities
    assert sorted(caps.effective) == sorted(DOCKER_CAPS) and len(caps.bounding) == 14
    assert caps.inheritable == [] and caps.ambient == []
    assert spec.process.no_new_privileges is True
    nofile = next(r for r in spec.process.rlimits if r.type == "RLIMIT_NOFILE")
    assert nofile.hard <= 20000 and nofile.soft <= nofile.hard
    assert spec.linux is not None and "/proc/kcore" in spec.linux.masked_paths
    assert "/proc/sysrq-trigger" in spec.linux.readonly_paths
    assert {m.destination for m in spec.mounts} >= {"/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue",
                                                    "/sys"}
    assert json.loads(json.dumps(to_obj(spec)))["ociVersion"] == "1.0.2"


def test_default_seccomp_blocks_dangerous_calls() -> None:
    prof = default_seccomp()
    assert prof.default_action == "SCMP_ACT_ERRNO"
    allowed = {n for r in prof.syscalls if r.action == "SCMP_ACT_ALLOW" and not r.args for n in r.names}
    for name in ("kexec_load", "init_module", "mount", "umount2", "reboot", "swapon", "keyctl", "unshare",
                 "setns", "bpf", "open_by_handle_at", "clone", "clone3", "personality", "socket"):
        assert name not in allowed, name
    assert {"read", "write", "execve", "openat", "exit_group"} <= allowed
    assert "ptrace" in allowed  # kernel >= 4.8
    assert "ptrace" not in {n for r in default_seccomp(kernel_release="4.4.0").syscalls for n in r.names}
    clone3 = next(r for r in prof.syscalls if r.names == ["clone3"])
    assert clone3.action == "SCMP_ACT_ERRNO" and clone3.errno_ret == 38
    admin = {n for r in default_seccomp([*DOCKER_CAPS, "CAP_SYS_ADMIN"]).syscalls for n in r.names
             if r.action == "SCMP_ACT_ALLOW"}
    assert {"mount", "unshare", "setns"} <= admin


def test_seccomp_profile_builds() -> None:
    from skiff.runtime.seccomp import build

    build(default_seccomp()).release()


@pytest.mark.parametrize(("raw", "needle"), [
    (b"{", "config.json: invalid JSON"),
    (b'{"process": {}}', "ociVersion"),
    (b'{"ociVersion": "1.0.0", "process": {"args": "sh"}}', "process.args"),
    (b'{"ociVersion": "1.0.0", "hostname": 3}', "hostname"),
])
def test_parse_errors_name_the_field(raw: bytes, needle: str) -> None:
    with pytest.raises(BundleError, match=needle.replace("$", r"\$").replace(".", r"\.")):
        parse_spec(raw)


def test_validate_rules(tmp_path: Path) -> None:
    (tmp_path / "rootfs").mkdir()
    ok = default_spec(["sh"])
    validate(ok, tmp_path)
    bad = from_obj(Spec, {**to_obj(ok), "ociVersion": "0.9.0"})
    with pytest.raises(BundleError, match="ociVersion"):
        validate(bad, tmp_path)
    obj = to_obj(ok)
    obj["process"]["capabilities"]["permitted"] = ["CAP_NOPE"]
    with pytest.raises(BundleError, match=r"process\.capabilities\.permitted\[0\]"):
        validate(from_obj(Spec, obj), tmp_path)
    obj = to_obj(ok)
    obj["linux"]["seccomp"]["defaultAction"] = "SCMP_ACT_NOPE"
    with pytest.raises(BundleError, match="defaultAction"):
        validate(from_obj(Spec, obj), tmp_path)


def test_mount_options() -> None:
    flags, prop, data = parse_options(["rbind", "ro", "nodev", "rprivate", "mode=755", "size=1k"])
    assert flags == MS_BIND | MS_REC | MS_RDONLY | MS_NODEV
    assert prop == MS_PRIVATE | MS_REC and data == "mode=755,size=1k"
    assert parse_options(["ro", "rw"])[0] == 0


def test_resolve_in_root_clamps_symlinks(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    os.symlink("/etc", tmp_path / "abs")
    os.symlink("../../../../etc", tmp_path / "rel")
    os.symlink("/", tmp_path / "dev")
    assert resolve_in_root(str(tmp_path), "/abs/passwd") == str(tmp_path / "etc" / "passwd")
    assert resolve_in_root(str(tmp_path), "/rel/x") == str(tmp_path / "etc" / "x")
    assert resolve_in_root(str(tmp_path), "/dev/null") == str(tmp_path / "null")
    assert resolve_in_root(str(tmp_path), "/../../x") == str(tmp_path / "x")


@pytest.mark.parametrize("path", ["", ".", "/", "//", "///", "a", "a/", "./a/./b//c/", "/a/../b", "//a/b", "///a",
                                  "../x/.", "a/./", "./"])
def test_clean_spells_paths_as_pathlib(path: str) -> None:
    assert clean(path) == str(PurePosixPath(path))


def test_open_in_root_creates_and_clamps_through_fds(tmp_path: Path) -> None:
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    os.symlink(str(outside), root / "abs")
    os.symlink("../../outside", root / "rel")
    os.symlink("/", root / "top")

    def where(path: str, create: str | None = None) -> str:
        fd = open_in_root(str(root), path, create)
        try:
            return os.readlink(f"/proc/self/fd/{fd}")
        finally:
            os.close(fd)

    assert where("/abs/a/b", "dir") == str(root) + str(outside) + "/a/b"  # clamped to root
    assert where("/rel/f", "file") == str(root / "outside" / "f") and (root / "outside" / "f").is_file()
    assert where("/top/../../x", "dir") == str(root / "x")
    assert where("/") == str(root)
    assert list(outside.iterdir()) == []  # nothing was made outside root
    with pytest.raises(FileNotFoundError):
        open_in_root(str(root), "/missing")
    with pytest.raises(NotADirectoryError):
        open_in_root(str(root), "/outside/f/below", "dir")
    os.symlink("loop", root / "loop")
    with pytest.raises(OSError, match="too many symlinks"):
        open_in_root(str(root), "/loop/x", "dir")


def test_state_machine() -> None:
    assert Status.CREATED.can_start() and not Status.RUNNING.can_start()
    assert Status.RUNNING.can_kill() and not Status.STOPPED.can_kill()
    assert Status.STOPPED.can_delete() and not Status.RUNNING.can_delete()


def test_capabilities_with_fake_kernel() -> None:
    k = FakeKernel()
    caps = LinuxCapabilities(bounding=["CAP_KILL"], effective=["CAP_KILL"], permitted=["CAP_KILL", "CAP_CHOWN"],
                             ambient=["CAP_KILL"])
    capabilities.drop_bounding(k, caps)
    dropped = {c[1][1] for c in k.calls if c[0] == "prctl" and c[1][0] == PR_CAPBSET_DROP}
    assert 5 not in dropped and 0 in dropped  # KILL kept, CHOWN dropped
    k.calls.clear()
    capabilities.apply(k, caps)
    assert k.calls[0] == ("capset", (1 << 5, (1 << 5) | 1, 0))
    assert k.calls[-1][1][:3] == (PR_CAP_AMBIENT, 2, 5)


def test_small_helpers() -> None:
    assert parse_signal("KILL") == 9 and parse_signal("sigterm") == 15 and parse_signal("10") == 10
    assert cgroup_path("c1", None) == "skiff/c1"
    assert cgroup_path("c1", "/custom/x") == "custom/x"
    assert cgroup_path("c1", "system.slice:skiff:c1") == "skiff/c1"
    assert shares_to_weight(1024) == 39 and shares_to_weight(2) == 1
    assert ExecFailed("x", 2).exit_code == 127 and ExecFailed("x", 13).exit_code == 126
