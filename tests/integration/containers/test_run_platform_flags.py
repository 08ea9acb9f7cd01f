"""run/create flags Docker's daemon takes on Linux with its own checks: --isolation, --io-maxbandwidth and
--io-maxiops, --cpu-count and --cpu-percent (Windows'), --kernel-memory, --cpu-rt-period/--cpu-rt-runtime on
the real cgroup v1 cpu controller, --gpus without a device driver, --ip6 and --link-local-ip."""

from __future__ import annotations

import json
import os

import pytest

RT = "/sys/fs/cgroup/cpu/cpu.rt_runtime_us"


@pytest.mark.parametrize(("args", "words", "code"), [
    (("--isolation", "hyperv"), "Invalid isolation: \"hyperv\" - linux only supports 'default'", 125),
    (("--io-maxbandwidth", "10m"), "Invalid QoS settings: linux does not support configuration of maximum bandwidth",
     125),
    (("--io-maxbandwidth", "lots"), "--io-maxbandwidth", 125),
    (("--io-maxiops", "10"), "Invalid QoS settings: linux does not support configuration of maximum IOPs", 125),
    (("--io-maxiops", "x"), 'invalid argument "x" for "--io-maxiops" flag: strconv.ParseUint', 125),
    (("--kernel-memory", "1m"), "Minimum kernel memory limit allowed is 6MB", 125),
    (("--cpu-rt-period", "10000", "--cpu-rt-runtime", "20000"),
     "cpu real-time runtime cannot be higher than cpu real-time period", 125),
    (("--gpus", "x"), 'invalid argument "x" for "--gpus" flag: count must be an integer: strconv.Atoi: parsing "x"',
     125),
    (("--gpus", "count=1,count=2"), "gpu request key 'count' can be specified only once", 125),
    (("--gpus", "vendor=x"), "unexpected key 'vendor' in 'vendor=x'", 125),
    (("--ip6", "2001:db8::7"), "user specified IP address is supported on user defined networks only", 125),
    (("--ip6", "10.1.2.3"), "invalid IPv6 address: 10.1.2.3", 125),
    (("--link-local-ip", "nope"), "invalid link-local IP address: nope", 125),
], ids=["isolation", "io-bw", "io-bw-size", "io-iops", "io-iops-syntax", "kmem-min", "rt-order", "gpus-count",
        "gpus-twice", "gpus-key", "ip6-bridge", "ip6-v4", "link-local"])
def test_refused_before_anything_is_made(sk, args, words, code):  # type: ignore[no-untyped-def]
    before = sk.out("ps", "-aq")
    cp = sk("run", "--rm", *args, "busybox", "true", check=False)
    assert cp.returncode == code and words in cp.stderr.decode(), cp.stderr
    assert len(cp.stderr.decode().strip().splitlines()) <= 2  # one line (and docker/cli's "See ... --help")
    assert sk.out("ps", "-aq") == before


def test_windows_flags_and_isolation_recorded(sk, name):  # type: ignore[no-untyped-def]
    cp = sk("create", "--name", name, "--isolation", "Default", "--cpu-count", "2", "--cpu-percent", "40",
            "--disable-content-trust", "busybox", "true")
    try:
        assert cp.stderr.decode().strip() == "WARNING: linux does not support CPU percent. Percent discarded."
        hc = json.loads(sk.out("inspect", "-f", "{{json .HostConfig}}", name))
        assert (hc["Isolation"], hc["CpuCount"], hc["CpuPercent"]) == ("Default", 2, 0)
        assert sk.out("start", "-a", name) == ""
    finally:
        sk("rm", "-f", name, check=False)


def test_gpus_recorded_and_start_fails_without_a_driver(sk, name):  # type: ignore[no-untyped-def]
    cp = sk("run", "--name", name, "--gpus", '"capabilities=compute,utility",device=0', "busybox", "true",
            check=False)
    try:
        assert cp.returncode == 125
        assert 'could not select device driver "" with capabilities: [[compute utility gpu]]' in cp.stderr.decode()
        assert sk.out("inspect", "-f", "{{.State.Status}}", name).strip() == "created"
        reqs = json.loads(sk.out("inspect", "-f", "{{json .HostConfig.DeviceRequests}}", name))
        assert reqs == [{"Driver": "", "Count": 0, "DeviceIDs": ["0"], "Capabilities": [["compute", "utility", "gpu"]],
                         "Options": {}}]
    finally:
        sk("rm", "-f", name, check=False)
    cp = sk("run", "--rm", "--gpus", "all", "busybox", "true", check=False)
    assert cp.returncode == 125 and 'could not select device driver "" with capabilities: [[gpu]]' in \
        cp.stderr.decode()
    assert name not in sk.out("ps", "-a", "--format", "{{.Names}}").split()


@pytest.mark.skipif(not os.path.exists("/sys/fs/cgroup/memory/memory.kmem.limit_in_bytes"),
                    reason="no cgroup v1 kernel memory controller")
def test_kernel_memory_warned_and_written(sk, name):  # type: ignore[no-untyped-def]
    cp = sk("run", "-d", "--name", name, "--kernel-memory", "64m", "busybox", "sleep", "600")
    try:
        assert "WARNING: Specifying a kernel memory limit is deprecated and will be removed in a future release." \
            in cp.stderr.decode()
        assert sk.out("inspect", "-f", "{{.HostConfig.KernelMemory}}", name).strip() == str(64 << 20)
        cid = sk.out("inspect", "-f", "{{.Id}}", name).strip()
        # the spec carries it and the runtime writes it (newer kernels accept the write and ignore the limit)
        bundle = json.loads(open(sk.runroot / "containers" / cid / "bundle" / "config.json").read())
        assert bundle["linux"]["resources"]["memory"]["kernel"] == 64 << 20
    finally:
        sk("rm", "-f", name, check=False)


@pytest.mark.skipif(not os.path.exists(RT), reason="no cgroup v1 cpu real-time scheduler")
def test_realtime_budget_granted_to_the_parent(sk, name):  # type: ignore[no-untyped-def]
    """A new cgroup has no real-time budget: the runtime raises the shared parent's to what its children hold,
    so two containers' requests both fit (runtime/period shares add up), and chrt-style SCHED_FIFO works."""
    a, b = f"{name}-a", f"{name}-b"
    try:
        sk("run", "-d", "--name", a, "--cpu-rt-runtime", "95000", "busybox", "sleep", "600")
        sk("run", "-d", "--name", b, "--cpu-rt-runtime", "50000", "--cpu-rt-period", "500000", "busybox", "sleep",
           "600")
        ids = {n: sk.out("inspect", "-f", "{{.Id}}", n).strip() for n in (a, b)}
        base = "/sys/fs/cgroup/cpu/skiff"
        assert open(f"{base}/{ids[a]}/cpu.rt_runtime_us").read().strip() == "95000"
        assert open(f"{base}/{ids[b]}/cpu.rt_period_us").read().strip() == "500000"
        assert open(f"{base}/{ids[b]}/cpu.rt_runtime_us").read().strip() == "50000"
        assert int(open(f"{base}/cpu.rt_runtime_us").read()) >= 195000  # 0.095 + 0.1 of a second
        hc = json.loads(sk.out("inspect", "-f", "{{json .HostConfig}}", b))
        assert (hc["CpuRealtimePeriod"], hc["CpuRealtimeRuntime"]) == (500000, 50000)
        # the budget is real: the container's process may be made SCHED_FIFO (the kernel refuses that in a
        # cgroup without real-time runtime, as in a container started without the flag)
        pid = int(sk.out("inspect", "-f", "{{.State.Pid}}", a))
        os.sched_setscheduler(pid, os.SCHED_FIFO, os.sched_param(10))
        assert os.sched_getscheduler(pid) == os.SCHED_FIFO
        sk("run", "-d", "--name", f"{name}-c", "busybox", "sleep", "600")
        other = int(sk.out("inspect", "-f", "{{.State.Pid}}", f"{name}-c"))
        with pytest.raises(PermissionError):
            os.sched_setscheduler(other, os.SCHED_FIFO, os.sched_param(10))
    finally:
        sk("rm", "-f", a, b, f"{name}-c", check=False)
    cp = sk("run", "--rm", "--cpu-rt-runtime", "2000000", "busybox", "true", check=False)
    assert cp.returncode == 125 and "cpu.rt_runtime_us" in cp.stderr.decode() and "real-time CPU" in \
        cp.stderr.decode()


def test_link_local_ip_on_the_interface(sk, name):  # type: ignore[no-untyped-def]
    sk("run", "-d", "--name", name, "--link-local-ip", "169.254.8.8", "busybox", "sleep", "600")
    try:
        nets = json.loads(sk.out("inspect", "-f", "{{json .NetworkSettings.Networks}}", name))
        assert nets["bridge"]["IPAMConfig"]["LinkLocalIPs"] == ["169.254.8.8"]
        assert "inet 169.254.8.8/16" in sk.out("exec", name, "ip", "-4", "addr", "show", "eth0")
        sk("create", "--name", f"{name}-2", "--link-local-ip", "169.254.9.9", "busybox", "sleep", "600")
        sk("start", f"{name}-2")  # attached by the CLI itself, not the network helper `run` starts
        assert "inet 169.254.9.9/16" in sk.out("exec", f"{name}-2", "ip", "-4", "addr", "show", "eth0")
    finally:
        sk("rm", "-f", f"{name}-2", check=False)
        sk("rm", "-f", name, check=False)
    cp = sk("run", "--rm", "--link-local-ip", "10.0.0.9", "busybox", "true", check=False)
    assert cp.returncode == 125 and "invalid link-local IP address 10.0.0.9" in cp.stderr.decode()


@pytest.mark.skipif(not os.path.exists(RT), reason="no cgroup v1 cpu real-time scheduler")
def test_update_realtime(sk, name):  # type: ignore[no-untyped-def]
    sk("run", "-d", "--name", name, "busybox", "sleep", "600")
    try:
        sk("update", "--cpu-rt-runtime", "30000", name)
        cid = sk.out("inspect", "-f", "{{.Id}}", name).strip()
        assert open(f"/sys/fs/cgroup/cpu/skiff/{cid}/cpu.rt_runtime_us").read().strip() == "30000"
        cp = sk("update", "--cpu-rt-period", "10000", name, check=False)
        assert cp.returncode == 1 and "cpu real-time runtime cannot be higher than cpu real-time period" in \
            cp.stderr.decode()
        hc = json.loads(sk.out("inspect", "-f", "{{json .HostConfig}}", name))
        assert (hc["CpuRealtimeRuntime"], hc["CpuRealtimePeriod"]) == (30000, 0)
    finally:
        sk("rm", "-f", name, check=False)
