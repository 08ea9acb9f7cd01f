"""What a `cgroup` mount shows (skiff.runtime.cgroupfs): the container's own folder of each v1 hierarchy it
joins, named as the hierarchy, symlinks for merged ones, the hybrid v2 tree as `unified`; on v2 one folder."""

from __future__ import annotations

import os
from pathlib import Path

from skiff.runtime.cgroupfs import CgroupView
from skiff.runtime.cgroups.v1 import V1Manager
from skiff.runtime.cgroups.v2 import V2Manager


def _hierarchy(root: Path, name: str) -> None:
    (root / name).mkdir()
    (root / name / "cgroup.procs").write_text("")


def test_v1_view_names_hierarchies_and_links_merged_ones(tmp_path: Path) -> None:
    _hierarchy(tmp_path, "cpu,cpuacct")
    os.symlink("cpu,cpuacct", tmp_path / "cpu")
    os.symlink("cpu,cpuacct", tmp_path / "cpuacct")
    for name in ("memory", "pids"):
        _hierarchy(tmp_path, name)
    _hierarchy(tmp_path, "hugetlb")  # not a hierarchy skiff joins: never shown
    view = V1Manager(tmp_path, "skiff/c1", tmp_path / "unified" / "skiff" / "c1").view()
    assert view.unified is False
    assert sorted(view.binds) == sorted([
        (str(tmp_path / "cpu" / "skiff" / "c1"), "cpu,cpuacct"),
        (str(tmp_path / "memory" / "skiff" / "c1"), "memory"),
        (str(tmp_path / "pids" / "skiff" / "c1"), "pids"),
        (str(tmp_path / "unified" / "skiff" / "c1"), "unified")])
    assert sorted(view.links) == [("cpu", "cpu,cpuacct"), ("cpuacct", "cpu,cpuacct")]


def test_v2_view_is_the_containers_folder(tmp_path: Path) -> None:
    view = V2Manager(tmp_path / "skiff" / "c1", "skiff/c1").view()
    assert view == CgroupView(unified=True, binds=[(str(tmp_path / "skiff" / "c1"), "")])


def test_default_spec_mounts_cgroup_read_only() -> None:
    from skiff.runtime.defaults import default_spec

    m = next(m for m in default_spec(["sh"]).mounts if m.destination == "/sys/fs/cgroup")
    assert (m.type, m.source) == ("cgroup", "cgroup")
    assert set(m.options) == {"ro", "nosuid", "noexec", "nodev"}
