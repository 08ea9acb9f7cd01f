"""Bad bundles: one clear line naming the field, a non-zero exit, and nothing left behind."""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conformance.conftest import RuntimeUnderTest, leftover_cgroups
from skiff.oci.codec import to_obj
from skiff.oci.runtime import Mount
from skiff.runtime.defaults import default_mounts


def _edit(rt: RuntimeUnderTest, change: Callable[[dict[str, Any]], None]) -> tuple[str, Path]:
    cid, b = rt.bundle(rt.spec(["true"]))
    cfg = json.loads((b / "config.json").read_text())
    change(cfg)
    (b / "config.json").write_text(json.dumps(cfg))
    return cid, b


def _assert_refused(rt: RuntimeUnderTest, cid: str, b: Path, needle: str, code: int | None = None) -> None:
    cp = rt.call("run", "--bundle", str(b), cid)
    assert cp.returncode != 0
    if code is not None:
        assert cp.returncode == code, cp.stderr
    lines = cp.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], cp.stderr
    assert not (rt.state_root / cid).exists()
    assert not leftover_cgroups(f"skiff/{cid}")


CASES: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "unknown-major": (lambda c: c.update(ociVersion="2.0.0"), "ociVersion"),
    "unknown-minor": (lambda c: c.update(ociVersion="1.9.0"), "ociVersion"),
    "missing-root": (lambda c: c.pop("root"), "root"),
    "missing-process": (lambda c: c.pop("process"), "process"),
    "mount-type": (lambda c: c["mounts"].append({"destination": "/x", "type": "bogusfs", "source": "x"}),
                   f"mounts[{len(default_mounts())}].type"),  # the one appended after the defaults
    "capability": (lambda c: c["process"]["capabilities"]["effective"].append("CAP_BOGUS"),
                   "process.capabilities.effective[14]"),
    "args-type": (lambda c: c["process"].update(args="true"), "process.args"),
    "namespace": (lambda c: c["linux"]["namespaces"].append({"type": "bogus"}), "linux.namespaces[6].type"),
    "rlimit": (lambda c: c["process"]["rlimits"].append({"type": "RLIMIT_BOGUS", "soft": 1, "hard": 1}),
               "process.rlimits[1].type"),
    "rootfs-missing": (lambda c: c["root"].update(path="/nonexistent/rootfs"), "root.path"),
    "rootfs-file": (lambda c: c["root"].update(path="/etc/hostname"), "root.path"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_invalid_config(skiff_rt: RuntimeUnderTest, case: str) -> None:
    change, needle = CASES[case]
    cid, b = _edit(skiff_rt, change)
    _assert_refused(skiff_rt, cid, b, needle)


def test_bad_json(skiff_rt: RuntimeUnderTest) -> None:
    cid, b = skiff_rt.bundle(skiff_rt.spec(["true"]))
    (b / "config.json").write_text('{"ociVersion": "1.0.2", "process": ')
    _assert_refused(skiff_rt, cid, b, "config.json: invalid JSON")


def test_command_not_found_127(skiff_rt: RuntimeUnderTest) -> None:
    cid, b = skiff_rt.bundle(skiff_rt.spec(["/bin/no-such-command"]))
    _assert_refused(skiff_rt, cid, b, "not found", code=127)
    cid, b = skiff_rt.bundle(skiff_rt.spec(["no-such-command"]))
    _assert_refused(skiff_rt, cid, b, "not found in $PATH", code=127)


def test_command_not_executable_126(skiff_rt: RuntimeUnderTest, rootfs_copy: Callable[[], Path]) -> None:
    rootfs = rootfs_copy()
    (rootfs / "bin" / "script").write_text("#!/bin/sh\necho hi\n")
    os.chmod(rootfs / "bin" / "script", 0o644)
    cid, b = skiff_rt.bundle(skiff_rt.spec(["/bin/script"]), rootfs=rootfs)
    _assert_refused(skiff_rt, cid, b, "permission denied", code=126)
    cid, b = skiff_rt.bundle(skiff_rt.spec(["/etc"]), rootfs=rootfs)
    _assert_refused(skiff_rt, cid, b, "permission denied", code=126)


def test_failing_mount_leaves_nothing(skiff_rt: RuntimeUnderTest, rootfs_copy: Callable[[], Path]) -> None:
    spec = skiff_rt.spec(["true"])
    spec = dataclasses.replace(spec, mounts=[*spec.mounts, Mount(destination="/data", type="bind",
                                                                 source="/nonexistent/dir", options=["rbind"])])
    rootfs = rootfs_copy()
    cid, b = skiff_rt.bundle(spec, rootfs=rootfs)
    _assert_refused(skiff_rt, cid, b, "/nonexistent/dir")
    assert not (rootfs / "data").exists()


_ = to_obj
