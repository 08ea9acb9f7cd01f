"""Docker's run/create flags beyond the basics, on real containers: --sysctl, --oom-score-adj, the memory and
CPU cgroup knobs, --domainname, --pid/--ipc/--uts/--cgroupns (host, none, container:NAME), --device with its
cgroup permissions, --volumes-from and --cidfile; each as Docker records it in inspect."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

NONE = ("--network", "none")


def _inspect(sk, name):  # type: ignore[no-untyped-def]
    return json.loads(sk.out("inspect", name))[0]


def test_sysctls_are_set_in_the_container(sk, name):  # type: ignore[no-untyped-def]
    out = sk.out("run", "--name", name, *NONE, "--sysctl", "net.ipv4.ip_forward=1", "--sysctl",
                 "kernel.shmmni=1000", "busybox", "cat", "/proc/sys/net/ipv4/ip_forward", "/proc/sys/kernel/shmmni")
    assert out.split() == ["1", "1000"]
    assert _inspect(sk, name)["HostConfig"]["Sysctls"] == {"net.ipv4.ip_forward": "1", "kernel.shmmni": "1000"}
    sk("rm", name)


def test_oom_score_adj_and_memory_knobs(sk, name):  # type: ignore[no-untyped-def]
    out = sk.out("run", "--name", name, *NONE, "--oom-score-adj", "500", "-m", "64m", "--memory-reservation",
                 "32m", "--memory-swappiness", "10", "--oom-kill-disable", "busybox", "cat",
                 "/proc/self/oom_score_adj", "/sys/fs/cgroup/memory/memory.soft_limit_in_bytes",
                 "/sys/fs/cgroup/memory/memory.swappiness", "/sys/fs/cgroup/memory/memory.oom_control")
    lines = out.splitlines()
    assert lines[:3] == ["500", str(32 << 20), "10"] and "oom_kill_disable 1" in lines
    hc = _inspect(sk, name)["HostConfig"]
    assert (hc["OomScoreAdj"], hc["MemoryReservation"], hc["MemorySwappiness"], hc["OomKillDisable"]) == \
        (500, 32 << 20, 10, True)
    sk("rm", name)


def test_cpu_period_and_quota(sk):  # type: ignore[no-untyped-def]
    out = sk.out("run", "--rm", *NONE, "--cpu-period", "50000", "--cpu-quota", "25000", "busybox", "cat",
                 "/sys/fs/cgroup/cpu/cpu.cfs_period_us", "/sys/fs/cgroup/cpu/cpu.cfs_quota_us")
    assert out.split() == ["50000", "25000"]


def test_domainname(sk):  # type: ignore[no-untyped-def]
    assert sk.out("run", "--rm", *NONE, "--domainname", "example.org", "busybox", "cat",
                  "/proc/sys/kernel/domainname").strip() == "example.org"


def _ns(kind: str, pid: str = "self") -> str:
    return os.readlink(f"/proc/{pid}/ns/{kind}")


@pytest.mark.parametrize("kind", ["pid", "ipc", "uts", "cgroup"])
def test_host_namespaces(sk, name, kind):  # type: ignore[no-untyped-def]
    flag = "--cgroupns" if kind == "cgroup" else f"--{kind}"
    ns = sk.out("run", "--name", name, *NONE, flag, "host", "busybox", "readlink", f"/proc/self/ns/{kind}")
    assert ns.strip() == _ns(kind)
    key = {"pid": "PidMode", "ipc": "IpcMode", "uts": "UTSMode", "cgroup": "CgroupnsMode"}[kind]
    assert _inspect(sk, name)["HostConfig"][key] == "host"
    own = sk.out("run", "--rm", *NONE, "busybox", "readlink", f"/proc/self/ns/{kind}")
    assert own.strip() != _ns(kind)
    sk("rm", name)


def test_uts_host_has_the_host_name(sk):  # type: ignore[no-untyped-def]
    assert sk.out("run", "--rm", *NONE, "--uts", "host", "busybox", "hostname").strip() == os.uname().nodename


def test_ipc_none_has_no_dev_shm(sk):  # type: ignore[no-untyped-def]
    assert " /dev/shm " not in sk.out("run", "--rm", *NONE, "--ipc", "none", "busybox", "cat", "/proc/mounts")
    assert " /dev/shm " in sk.out("run", "--rm", *NONE, "busybox", "cat", "/proc/mounts")


def test_pid_and_ipc_of_another_container(sk, name):  # type: ignore[no-untyped-def]
    sk("run", "-d", "--name", name, *NONE, "--ipc", "shareable", "busybox", "sh", "-c",
       "echo shared > /dev/shm/mark; sleep 60")
    try:
        pid = str(_inspect(sk, name)["State"]["Pid"])
        out = sk.out("run", "--rm", *NONE, "--pid", f"container:{name}", "--ipc", f"container:{name}", "busybox",
                     "sh", "-c", "readlink /proc/self/ns/pid; readlink /proc/self/ns/ipc; cat /dev/shm/mark; ps -o comm")
        lines = out.splitlines()
        assert lines[:3] == [_ns("pid", pid), _ns("ipc", pid), "shared"]
        assert "sleep" in lines  # the other container's processes are visible
    finally:
        sk("rm", "-f", name)
    assert not any(str(sk.runroot) in line and "/shm " in line for line in open("/proc/mounts"))
    cp = sk("run", "--rm", *NONE, "--pid", "container:nosuch_ctr", "busybox", "true", check=False)
    assert cp.returncode == 125 and cp.stderr.decode().strip() == "Error: No such container: nosuch_ctr"


def test_only_a_shareable_ipc_can_be_joined(sk, name):  # type: ignore[no-untyped-def]
    sk("run", "-d", "--name", name, *NONE, "busybox", "sleep", "60")
    try:
        cp = sk("run", "--rm", *NONE, "--ipc", f"container:{name}", "busybox", "true", check=False)
        assert cp.returncode == 125 and cp.stderr.decode().strip() == (
            f"Error: cannot join IPC of container {name}: non-shareable IPC (hint: use IpcMode:shareable for "
            "the donor container)")
    finally:
        sk("rm", "-f", name)


def test_joining_a_stopped_container_fails_at_start(sk, name):  # type: ignore[no-untyped-def]
    sk("create", "--name", name, *NONE, "busybox", "true")
    cp = sk("run", "--rm", *NONE, "--pid", f"container:{name}", "busybox", "true", check=False)
    assert cp.returncode == 125
    assert cp.stderr.decode().strip() == f"Error: cannot join PID of a non running container: {name}"
    assert sk.out("ps", "-aq").split() == [_inspect(sk, name)["Id"][:12]]  # --rm removed the failed one
    sk("rm", name)


@pytest.mark.skipif(not os.path.exists("/dev/loop-control"), reason="no /dev/loop-control on this host")
def test_device_with_read_only_permission(sk, name):  # type: ignore[no-untyped-def]
    out = sk.out("run", "--name", name, *NONE, "--device", "/dev/loop-control:/dev/lc:r", "busybox", "sh", "-c",
                 "ls -l /dev/lc; (exec 3</dev/lc) && echo read-ok; (exec 4>/dev/lc) 2>/dev/null || echo write-denied")
    assert out.startswith("crw") and "10, 237" in out and "read-ok" in out and "write-denied" in out
    assert _inspect(sk, name)["HostConfig"]["Devices"] == [
        {"PathOnHost": "/dev/loop-control", "PathInContainer": "/dev/lc", "CgroupPermissions": "r"}]
    assert "lc" not in sk.out("run", "--rm", *NONE, "busybox", "ls", "/dev")
    sk("rm", name)


def test_volumes_from(sk, name, tmp_path: Path):  # type: ignore[no-untyped-def]
    (tmp_path / "f").write_text("from host\n")
    donor = f"{name}_donor"
    sk("create", "--name", donor, *NONE, "-v", f"{name}_vol:/data", "-v", f"{tmp_path}:/b:ro", "-v", "/anon",
       "busybox", "true")
    try:
        out = sk.out("run", "--rm", *NONE, "--volumes-from", donor, "busybox", "sh", "-c",
                     "echo one > /data/x; echo two > /anon/y; cat /b/f; echo z > /b/z || echo b-ro")
        assert out.splitlines() == ["from host", "b-ro"]
        cp = sk("run", "--name", name, *NONE, "--volumes-from", f"{donor}:ro", "busybox", "sh", "-c",
                "cat /data/x /anon/y; echo q > /data/q || echo ro", check=False)
        assert cp.stdout.decode().splitlines() == ["one", "two", "ro"]
        rec = _inspect(sk, name)
        assert rec["HostConfig"]["VolumesFrom"] == [f"{donor}:ro"]
        assert sorted((m["Destination"], m["RW"]) for m in rec["Mounts"]) == [
            ("/anon", False), ("/b", False), ("/data", False)]
        sk("rm", "-v", name)  # the donor still uses the anonymous volume: it stays
        assert sk.out("run", "--rm", *NONE, "--volumes-from", donor, "busybox", "cat", "/anon/y").strip() == "two"
    finally:
        sk("rm", "-f", "-v", name, donor, check=False)
        sk("volume", "rm", f"{name}_vol", check=False)


def test_cidfile(sk, tmp_path: Path):  # type: ignore[no-untyped-def]
    path = tmp_path / "cid"
    cid = sk.out("run", "-d", *NONE, "--cidfile", str(path), "busybox", "true").strip()
    assert path.read_text() == cid  # no newline, as Docker writes it
    before = sk.out("ps", "-aq")
    cp = sk("run", "--rm", *NONE, "--cidfile", str(path), "busybox", "true", check=False)
    assert cp.returncode == 125 and cp.stderr.decode().strip() == (
        f"Error: container ID file found, make sure the other container isn't running or delete {path}")
    assert sk.out("ps", "-aq") == before
    failed = tmp_path / "cid2"
    cp = sk("run", "--rm", *NONE, "--pull", "never", "--cidfile", str(failed), "nosuch_image", "true", check=False)
    assert cp.returncode == 125 and not failed.exists()  # removed again when the create fails
    sk("rm", "-f", cid)


def test_nil_pointers_print_as_go_does(sk, name):  # type: ignore[no-untyped-def]
    sk("create", "--name", name, *NONE, "busybox", "true")
    out = sk.out("inspect", "-f", "{{.HostConfig.PidsLimit}} {{.HostConfig.MemorySwappiness}} "
                 "{{.HostConfig.VolumesFrom}} {{json .HostConfig.PidsLimit}}", name)
    assert out.strip() == "<nil> <nil> [] null"
    sk("rm", name)


def _block_device() -> str | None:
    """A block device of this host to throttle (the tests never read or write it)."""
    for name in sorted(os.listdir("/sys/block")):
        if not name.startswith(("loop", "ram", "zram")) and os.path.exists(f"/dev/{name}"):
            return f"/dev/{name}"
    return None


@pytest.mark.skipif(_block_device() is None, reason="no block device on this host")
def test_block_io_throttles(sk, name):  # type: ignore[no-untyped-def]
    dev = _block_device()
    st = os.stat(dev)  # type: ignore[arg-type]
    numbers = f"{os.major(st.st_rdev)}:{os.minor(st.st_rdev)}"
    out = sk.out("run", "--name", name, *NONE, "--device-read-bps", f"{dev}:1mb", "--device-write-iops",
                 f"{dev}:100", "busybox", "cat", "/sys/fs/cgroup/blkio/blkio.throttle.read_bps_device",
                 "/sys/fs/cgroup/blkio/blkio.throttle.write_iops_device")
    assert out.splitlines() == [f"{numbers} 1048576", f"{numbers} 100"]
    hc = _inspect(sk, name)["HostConfig"]
    assert hc["BlkioDeviceReadBps"] == [{"Path": dev, "Rate": 1048576}]
    assert hc["BlkioDeviceWriteIOps"] == [{"Path": dev, "Rate": 100}]
    sk("rm", name)


def test_device_cgroup_rule_cpuset_mems_and_annotations(sk, name):  # type: ignore[no-untyped-def]
    out = sk.out("run", "--name", name, *NONE, "--device-cgroup-rule", "c 10:237 r", "--cpuset-mems", "0",
                 "--annotation", "org.example.a=1", "busybox", "sh", "-c",
                 "cat /sys/fs/cgroup/cpuset/cpuset.mems; grep '^c 10:237 ' /sys/fs/cgroup/devices/devices.list")
    assert out.splitlines() == ["0", "c 10:237 r"]
    hc = _inspect(sk, name)["HostConfig"]
    assert (hc["DeviceCgroupRules"], hc["CpusetMems"], hc["Annotations"]) == (["c 10:237 r"], "0",
                                                                              {"org.example.a": "1"})
    sk("rm", name)


def test_network_of_another_container(sk, name):  # type: ignore[no-untyped-def]
    sk("run", "-d", "--name", name, *NONE, "-h", "donorhost", "busybox", "sh", "-c",
       "echo served > /tmp/index.html; exec busybox httpd -f -p 127.0.0.1:8080 -h /tmp")
    try:
        donor = _inspect(sk, name)
        out = sk.out("run", "--rm", "--network", f"container:{name}", "busybox", "sh", "-c",
                     "readlink /proc/self/ns/net; hostname; "
                     "for i in 1 2 3 4 5 6 7 8 9 10; do busybox wget -qO- http://127.0.0.1:8080/index.html && break;"
                     " sleep 0.2; done")
        assert out.splitlines() == [_ns("net", str(donor["State"]["Pid"])), "donorhost", "served"]
        joined = f"{name}_joined"
        sk("create", "--name", joined, "--network", f"container:{name}", "busybox", "true")
        rec = _inspect(sk, joined)
        assert rec["HostConfig"]["NetworkMode"] == f"container:{donor['Id']}"
        assert rec["Config"]["Hostname"] == "donorhost" and rec["NetworkSettings"]["Networks"] == {}
        sk("rm", joined)
    finally:
        sk("rm", "-f", name)
    cp = sk("run", "--rm", "--network", f"container:{name}", "busybox", "true", check=False)
    assert cp.returncode == 125 and cp.stderr.decode().strip() == "Error: No such container: " + name


@pytest.mark.parametrize(("args", "words"), [
    (("-h", "x"), "conflicting options: hostname and the network mode"),
    (("-p", "8080:80"), "conflicting options: port publishing and the container type network mode"),
    (("--dns", "1.1.1.1"), "conflicting options: dns and the network mode"),
    (("--add-host", "a:1.2.3.4"), "conflicting options: custom host-to-IP mapping and the network mode"),
    (("--expose", "80"), "conflicting options: port exposing and the container type network mode"),
], ids=["hostname", "publish", "dns", "add-host", "expose"])
def test_network_container_conflicts(sk, name, args, words):  # type: ignore[no-untyped-def]
    sk("create", "--name", name, *NONE, "busybox", "true")
    cp = sk("run", "--rm", "--network", f"container:{name}", *args, "busybox", "true", check=False)
    assert cp.returncode == 125 and cp.stderr.decode().strip() == f"Error: {words}"
    stopped = sk("run", "--rm", "--network", f"container:{name}", "busybox", "true", check=False)
    assert stopped.returncode == 125 and "cannot join network of a non running container: " in stopped.stderr.decode()
    sk("rm", name)


def test_create_warnings(sk, name):  # type: ignore[no-untyped-def]
    cp = sk("create", "--name", name, *NONE, "--oom-kill-disable", "busybox", "true")
    assert cp.stderr.decode().splitlines() == [
        "WARNING: OOM killer is disabled for the container, but no memory limit is set, this can result in the "
        "system running out of resources."]
    assert sk("run", "--rm", *NONE, "-m", "32m", "--oom-kill-disable", "busybox", "true").stderr == b""
    sk("rm", name)


@pytest.mark.skipif(any(os.path.exists(f"/sys/fs/cgroup/blkio/{f}") for f in ("blkio.weight", "blkio.bfq.weight")),
                    reason="this kernel supports blkio weights")
def test_blkio_weight_without_kernel_support_is_discarded(sk, name):  # type: ignore[no-untyped-def]
    cp = sk("run", "--name", name, *NONE, "--blkio-weight", "300", "busybox", "true")
    assert cp.stderr.decode().strip() == ("WARNING: Your kernel does not support Block I/O weight or the cgroup is "
                                          "not mounted. Weight discarded.")
    assert _inspect(sk, name)["HostConfig"]["BlkioWeight"] == 0
    sk("rm", name)


def test_attach_streams(sk):  # type: ignore[no-untyped-def]
    script = ("busybox", "sh", "-c", "echo out; echo err >&2")
    cp = sk("run", "--rm", *NONE, "-a", "stdout", *script)
    assert (cp.stdout, cp.stderr) == (b"out\n", b"")
    cp = sk("run", "--rm", *NONE, "-a", "STDERR", *script)
    assert (cp.stdout, cp.stderr) == (b"", b"err\n")
    cp = sk("run", "--rm", *NONE, *script)
    assert (cp.stdout, cp.stderr) == (b"out\n", b"err\n")
    cp = sk("run", "--rm", *NONE, "-i", "-a", "stdin", "-a", "stdout", "busybox", "cat", input=b"fed\n")
    assert cp.stdout == b"fed\n"
    for args, err in [(("-d", "-a", "stdout"), "Conflicting options: -a and -d"),
                      (("-a", "bogus"), 'invalid argument "bogus" for "-a, --attach" flag: valid streams are STDIN, '
                                        "STDOUT and STDERR")]:
        cp = sk("run", "--rm", *NONE, *args, "busybox", "true", check=False)
        assert cp.returncode == 125 and cp.stderr.decode().strip() == f"Error: {err}"


@pytest.mark.parametrize("proxy", [True, False])
def test_sig_proxy(sk, name, proxy):  # type: ignore[no-untyped-def]
    """A SIGTERM to `run` reaches the container (exit 3 from its trap), or with --sig-proxy=false ends the CLI
    only: the container runs on under its monitor."""
    import signal
    import subprocess

    flags = [] if proxy else ["--sig-proxy=false"]
    p = sk.popen("run", "--name", name, *NONE, *flags, "busybox", "sh", "-c",
                 "trap 'echo got-term; exit 3' TERM; echo ready; while true; do sleep 0.1; done",
                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert p.stdout.readline() == b"ready\n"
        p.send_signal(signal.SIGTERM)
        out, _ = p.communicate(timeout=20)
        state = sk.out("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", name).strip()
        if proxy:
            assert (p.returncode, out, state) == (3, b"got-term\n", "exited 3")
        else:
            assert (p.returncode, state) == (-signal.SIGTERM, "running 0")
    finally:
        if p.poll() is None:
            p.kill()
        sk("rm", "-f", name)


def test_cgroup_parent(sk, name):  # type: ignore[no-untyped-def]
    """--cgroup-parent: the container's cgroup is PARENT/ID in each hierarchy (made when missing, left after the
    container, as Docker's cgroupfs driver leaves it); stats, top and the limits follow it."""
    import glob

    parent = f"skifftest-{os.getpid()}-{name[-8:]}"
    sk("run", "-d", "--name", name, *NONE, "--cgroup-parent", f"/{parent}", "-m", "64m", "busybox", "sleep", "60")
    try:
        rec = _inspect(sk, name)
        assert rec["HostConfig"]["CgroupParent"] == f"/{parent}"
        with open(f"/proc/{rec['State']['Pid']}/cgroup") as f:
            assert any(line.rstrip().endswith(f":/{parent}/{rec['Id']}") for line in f)
        with open(f"/sys/fs/cgroup/memory/{parent}/{rec['Id']}/memory.limit_in_bytes") as f:
            assert f.read().strip() == str(64 << 20)
        assert "64MiB" in sk.out("stats", "--no-stream", name)
        assert "sleep 60" in sk.out("top", name)
        sk("rm", "-f", name)
        assert not glob.glob(f"/sys/fs/cgroup/*/{parent}/{rec['Id']}")
        assert glob.glob(f"/sys/fs/cgroup/*/{parent}")
    finally:
        sk("rm", "-f", name, check=False)
        for d in glob.glob(f"/sys/fs/cgroup/*/{parent}"):
            os.rmdir(d)
    cp = sk("run", "--rm", *NONE, "--cgroup-parent", "../escape", "busybox", "true", check=False)
    assert cp.returncode == 125 and cp.stderr.decode().strip() == "Error: invalid --cgroup-parent: ../escape"
