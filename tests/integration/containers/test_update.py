"""`skiff update`: new limits reach a running container's cgroup at once and its record for later starts; the
restart policy changes what happens at the next exit; Docker's refusals, one line each, nothing changed."""

from __future__ import annotations

import json

import pytest

NONE = ("--network", "none")


def _hc(sk, name):  # type: ignore[no-untyped-def]
    return json.loads(sk.out("inspect", name))[0]["HostConfig"]


def _cg(sk, name: str, controller: str, file: str) -> str:  # type: ignore[no-untyped-def]
    cid = sk.out("inspect", "-f", "{{.Id}}", name).strip()
    with open(f"/sys/fs/cgroup/{controller}/skiff/{cid}/{file}") as f:
        return f.read().strip()


def test_update_a_running_container(sk, name):  # type: ignore[no-untyped-def]
    sk("run", "-d", "--name", name, *NONE, "-m", "64m", "busybox", "sleep", "60")
    try:
        out = sk.out("update", "-m", "128m", "--memory-swap", "256m", "--cpus", "0.5", "--pids-limit", "50",
                     "--cpu-shares", "512", name)
        assert out == f"{name}\n"
        assert _cg(sk, name, "memory", "memory.limit_in_bytes") == str(128 << 20)
        assert _cg(sk, name, "memory", "memory.memsw.limit_in_bytes") == str(256 << 20)
        assert (_cg(sk, name, "cpu", "cpu.cfs_quota_us"), _cg(sk, name, "cpu", "cpu.shares")) == ("50000", "512")
        assert _cg(sk, name, "pids", "pids.max") == "50"
        hc = _hc(sk, name)
        assert (hc["Memory"], hc["MemorySwap"], hc["NanoCpus"], hc["PidsLimit"], hc["CpuShares"]) == \
            (128 << 20, 256 << 20, 500_000_000, 50, 512)
        sk("update", "--pids-limit", "-1", name)
        assert _cg(sk, name, "pids", "pids.max") == "max" and _hc(sk, name)["PidsLimit"] is None
        sk("restart", "-t", "0", name)  # the record's limits apply to the next start too
        assert _cg(sk, name, "memory", "memory.limit_in_bytes") == str(128 << 20)
    finally:
        sk("rm", "-f", name)


def test_update_the_restart_policy(sk, name):  # type: ignore[no-untyped-def]
    sk("create", "--name", name, *NONE, "busybox", "sh", "-c", "exit 3")
    sk("update", "--restart", "on-failure:2", name)
    assert _hc(sk, name)["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 2}
    sk("start", name)
    for _ in range(100):
        if sk.out("inspect", "-f", "{{.RestartCount}} {{.State.Status}}", name).strip() == "2 exited":
            break
        import time

        time.sleep(0.1)
    assert sk.out("inspect", "-f", "{{.RestartCount}} {{.State.Status}}", name).strip() == "2 exited"
    sk("rm", name)


@pytest.mark.parametrize(("args", "words"), [
    ((), "Error: you must provide one or more flags when using this command"),
    (("-m", "1k"), "Minimum memory limit allowed is 6MB"),
    (("-m", "512m"), "Memory limit should be smaller than already set memoryswap limit, update the memoryswap at "
                     "the same time"),
    (("--cpu-period", "50000"), "Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set"),
    (("--restart", "sometimes"), "invalid restart policy: unknown policy 'sometimes'"),
    (("--blkio-weight", "5"), "Range of blkio weight is from 10 to 1000"),
], ids=["none", "memory", "memory-swap", "cpu-period", "restart", "blkio"])
def test_bad_updates_change_nothing(sk, name, args, words):  # type: ignore[no-untyped-def]
    sk("create", "--name", name, *NONE, "-m", "64m", "--memory-swap", "128m", "--cpus", "1", "busybox", "true")
    before = _hc(sk, name)
    cp = sk("update", *args, name, check=False)
    err = cp.stderr.decode().strip()
    assert cp.returncode == 1 and words in err and len(err.splitlines()) == 1
    if args:
        assert err.startswith("Error response from daemon: Cannot update container ")
    assert _hc(sk, name) == before
    sk("rm", name)


def test_restart_policy_of_an_rm_container(sk, name):  # type: ignore[no-untyped-def]
    sk("create", "--rm", "--name", name, *NONE, "busybox", "true")
    cp = sk("update", "--restart", "always", name, check=False)
    assert cp.returncode == 1 and cp.stderr.decode().strip().endswith(
        "Restart policy cannot be updated because AutoRemove is enabled for the container")
    cp = sk("update", "--cpus", "1", "nosuch_ctr", check=False)
    assert cp.returncode == 1 and cp.stderr.decode().strip() == "Error response from daemon: No such container: " \
                                                               "nosuch_ctr"
    sk("rm", name)
