"""`state`, `kill` and `delete` stay light: they read state.json without the spec types, typing, dataclasses or
ctypes, and `state` prints exactly what the codec would print for Runtime.state()."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from skiff.oci.runtime import SPEC_VERSION
from skiff.runtime import state as st
from skiff.runtime.container import STATE_VERSION, Runtime, _state_obj, state_json
from skiff.runtime.state import Record, Status


@pytest.mark.parametrize("status", list(Status))
@pytest.mark.parametrize(("bundle", "annotations"), [("/b", {"a": "1"}), ("", {})])
def test_state_obj_is_the_codec_json_of_state(status: Status, bundle: str, annotations: dict[str, str]) -> None:
    rec = Record(id="c1", pid=42, pid_start=7, bundle=bundle, rootfs="/b/rootfs", created="now", cgroup="skiff/c1",
                 annotations=annotations, owner="me")
    rt = Runtime(Path("/nonexistent"))
    expected = state_json(rt._state(rec, status))
    got = _state_obj(rec, status)
    assert got == expected and list(got) == list(expected)
    assert STATE_VERSION == SPEC_VERSION


def test_record_round_trips_through_state_json(tmp_path: Path) -> None:
    rec = Record(id="c1", pid=1, pid_start=2, bundle="/b", rootfs="/r", created="t", cgroup="g", late_hooks=True)
    (tmp_path / "c1").mkdir()
    st.save(tmp_path / "c1", rec)
    assert list(json.loads((tmp_path / "c1" / "state.json").read_text())) == list(Record.FIELDS)
    assert st.load(tmp_path, "c1") == rec


def test_state_and_kill_load_no_heavy_modules(tmp_path: Path) -> None:
    rec = Record(id="c1", pid=os.getpid(), pid_start=st.proc_start_time(os.getpid()) or 0, bundle="/b",
                 rootfs="/r", created="t", cgroup="skiff/c1")
    (tmp_path / "c1").mkdir()
    st.save(tmp_path / "c1", rec)
    code = ("import sys, json\n"
            "from skiff.runtime.argv import parse\n"
            "from skiff.runtime.cli import dispatch\n"
            f"dispatch(parse(['--root', {str(tmp_path)!r}, 'state', 'c1']))\n"
            f"dispatch(parse(['--root', {str(tmp_path)!r}, 'kill', 'c1', '0']))\n"
            "heavy = {'typing', 'dataclasses', 'ctypes', 'argparse', 'skiff.oci.runtime', 'skiff.runtime.process'}\n"
            "print(json.dumps(sorted(heavy & set(sys.modules))))\n")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    state_text, loaded = out[:out.rindex("\n", 0, -1)], out.splitlines()[-1]
    assert json.loads(loaded) == []
    assert json.loads(state_text)["status"] == "running"


def test_runtime_modules_do_not_import_pathlib() -> None:
    """pathlib (with urllib.parse and ipaddress) would cost every skiff-runtime start a few milliseconds."""
    mods = ("cli", "container", "process", "bundle", "state", "validate", "seccomp", "init", "rootfs",
            "cgroups.base", "cgroups.v1", "cgroups.v2")
    code = f"import sys, {', '.join('skiff.runtime.' + m for m in mods)}; print('pathlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.split() == ["False"]
