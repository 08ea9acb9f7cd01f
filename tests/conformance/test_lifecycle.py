"""create / start / state / exec / kill / delete / list, and the state machine refusing what the spec forbids."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

from conformance.conftest import RuntimeUnderTest, sh


def _wait_status(rt: RuntimeUnderTest, cid: str, status: str, timeout: float = 5) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while True:
        st = rt.state(cid)
        if st["status"] == status or time.monotonic() > deadline:
            return st
        time.sleep(0.02)


def test_lifecycle(rt: RuntimeUnderTest, tmp_path: Path) -> None:
    out = tmp_path / "out"
    cid, b = rt.bundle(rt.spec(sh("echo started; exec sleep 30")))
    pid_file = tmp_path / "pid"
    err = tmp_path / "err"
    with open(out, "w") as f, open(err, "w") as e:
        cp = rt.call("create", "--bundle", str(b), "--pid-file", str(pid_file), cid, stdout=f,
                     stderr=e, stdin=subprocess.DEVNULL, capture_output=False)
    assert cp.returncode == 0, err.read_text()
    st = rt.state(cid)
    assert st["status"] == "created" and st["id"] == cid and st["pid"] == int(pid_file.read_text())
    assert out.read_text() == ""  # the user's command has not run yet
    assert rt.call("start", cid).returncode == 0
    assert _wait_status(rt, cid, "running")["status"] == "running"
    assert rt.call("start", cid).returncode != 0  # start of a running container is refused
    ex = rt.call("exec", cid, "sh", "-c", "echo $$ $(hostname); exit 5")
    assert ex.returncode == 5 and ex.stdout.split()[1] == "box", ex.stderr
    assert int(ex.stdout.split()[0]) > 1
    proc = tmp_path / "process.json"
    proc.write_text(json.dumps({"args": ["sh", "-c", "id -u; pwd"], "cwd": "/tmp", "env": ["PATH=/bin"],
                                "user": {"uid": 1000, "gid": 1000}}))
    ex = rt.call("exec", "--process", str(proc), cid)
    assert ex.returncode == 0 and ex.stdout.split() == ["1000", "/tmp"], ex.stderr
    listed = rt.call("list", "-q")
    assert cid in listed.stdout.split()
    assert rt.call("delete", cid).returncode != 0  # delete of a running container is refused
    assert rt.call("kill", cid, "KILL").returncode == 0
    assert _wait_status(rt, cid, "stopped")["status"] == "stopped"
    assert out.read_text() == "started\n"
    assert rt.call("kill", cid, "9").returncode != 0  # nothing left to signal
    assert rt.call("delete", cid).returncode == 0
    assert rt.call("state", cid).returncode != 0


def test_kill_by_number_and_delete_force(rt: RuntimeUnderTest) -> None:
    cid, b = rt.bundle(rt.spec(["sleep", "30"]))
    cp = rt.call("run", "-d", "--bundle", str(b), cid, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                 stderr=subprocess.DEVNULL, capture_output=False)
    assert cp.returncode == 0
    assert _wait_status(rt, cid, "running")["status"] == "running"
    assert rt.call("kill", cid, "9").returncode == 0  # pid 1 ignores an unhandled SIGTERM
    assert _wait_status(rt, cid, "stopped")["status"] == "stopped"
    cid2, b2 = rt.bundle(rt.spec(["sleep", "30"]))
    rt.call("run", "-d", "--bundle", str(b2), cid2, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, capture_output=False)
    assert rt.call("delete", "-f", cid2).returncode == 0
    assert rt.call("state", cid2).returncode != 0


def test_oci_versions_accepted(rt: RuntimeUnderTest) -> None:
    import dataclasses

    versions = ["1.0.0", "1.0.2", "1.1.0"]
    if rt.name == "skiff-runtime":  # Debian's crun 1.8 knows versions up to 1.1 only
        versions += ["1.2.0", "1.2.1", "1.3.0"]
    for version in versions:
        spec = dataclasses.replace(rt.spec(["true"]), oci_version=version)
        cp = rt.run(spec)
        assert cp.returncode == 0, (version, cp.stderr)
