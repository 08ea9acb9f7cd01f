"""Isolation, as seen from inside the container: the same bundle under every runtime prints the same."""

from __future__ import annotations

import dataclasses
import os
import shutil
from pathlib import Path

from conformance.conftest import RuntimeUnderTest, sh
from skiff.oci.runtime import (
    LinuxIDMapping,
    LinuxMemory,
    LinuxNamespace,
    LinuxPids,
    LinuxResources,
    Mount,
    POSIXRlimit,
)
from skiff.runtime.capabilities import mask
from skiff.runtime.defaults import DOCKER_CAPS, default_mounts


def test_pid1_hostname_only_lo_exit_status(rt: RuntimeUnderTest) -> None:
    cp = rt.run(rt.spec(sh("echo $$; hostname; ls /sys/class/net; exit 7")))
    assert cp.returncode == 7, cp.stderr
    assert cp.stdout.split() == ["1", "box", "lo"]


def test_new_network_namespace_has_loopback_up(rt: RuntimeUnderTest) -> None:
    """A network namespace of the container's own gets ``lo`` up (runc's loopback network, crun's too): a
    server on 127.0.0.1 is reachable from inside."""
    script = ("cat /sys/class/net/lo/flags; nc -l -p 7 -e true & sleep 0.2; "
              "nc 127.0.0.1 7 </dev/null && echo reached")
    cp = rt.run(rt.spec(sh(script)))
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout.split() == ["0x9", "reached"]  # IFF_UP | IFF_LOOPBACK


def test_masked_and_readonly_paths(rt: RuntimeUnderTest) -> None:
    script = ("for f in /proc/kcore /proc/keys /proc/timer_list; do "
              "[ -e $f ] && echo $f $(wc -c < $f) || echo $f absent; done; "
              "echo firmware $(ls -A /sys/firmware | wc -l); "
              "echo 1 > /proc/sysrq-trigger 2>/dev/null && echo sysrq-writable || echo sysrq-ro; "
              "echo x > /proc/sys/kernel/domainname 2>/dev/null && echo sys-writable || echo sys-ro")
    cp = rt.run(rt.spec(sh(script)))
    assert cp.returncode == 0, cp.stderr
    lines = cp.stdout.splitlines()
    kcore = "/proc/kcore 0" if os.path.exists("/proc/kcore") else "/proc/kcore absent"
    assert lines == [kcore, "/proc/keys 0", "/proc/timer_list 0", "firmware 0", "sysrq-ro", "sys-ro"]


def test_capabilities_and_no_new_privs(rt: RuntimeUnderTest) -> None:
    cp = rt.run(rt.spec(["grep", "-E", "^(Cap|NoNewPrivs)", "/proc/self/status"]))
    assert cp.returncode == 0, cp.stderr
    got = dict(line.split(":\t") for line in cp.stdout.splitlines())
    want = f"{mask(list(DOCKER_CAPS)):016x}"
    assert got == {"CapInh": "0" * 16, "CapPrm": want, "CapEff": want, "CapBnd": want, "CapAmb": "0" * 16,
                   "NoNewPrivs": "1"}  # SECURITY.md 14: inheritable and ambient empty


def test_seccomp_blocks_new_user_namespace(rt: RuntimeUnderTest) -> None:
    script = "unshare -U true 2>&1; echo rc=$?"
    blocked = rt.run(rt.spec(sh(script)))
    assert "Operation not permitted" in blocked.stdout and "rc=1" in blocked.stdout, blocked.stdout
    allowed = rt.run(rt.spec(sh(script), seccomp=False))
    assert allowed.stdout.strip() == "rc=0", allowed.stdout


def test_memory_limit_oom_kills(rt: RuntimeUnderTest) -> None:
    mem = 32 * 1024 * 1024
    res = LinuxResources(memory=LinuxMemory(limit=mem, swap=mem))
    cp = rt.run(rt.spec(["dd", "if=/dev/zero", "of=/dev/null", "bs=128M", "count=1"], resources=res))
    assert cp.returncode == 137, (cp.returncode, cp.stderr)


def test_pids_limit_refuses_forks(rt: RuntimeUnderTest) -> None:
    res = LinuxResources(pids=LinuxPids(limit=4))
    script = "n=0; for i in 1 2 3 4 5 6; do sleep 2 & n=$((n+1)); done; echo started"
    cp = rt.run(rt.spec(sh(script), resources=res))
    assert "fork" in cp.stderr.lower() or "resource temporarily unavailable" in cp.stderr.lower(), cp.stderr
    unlimited = rt.run(rt.spec(sh(script)))
    assert unlimited.stderr == "" and unlimited.stdout.strip() == "started"


def test_rlimits(rt: RuntimeUnderTest) -> None:
    spec = rt.spec(sh("ulimit -n; ulimit -Hn; ulimit -c"))
    assert spec.process is not None
    proc = dataclasses.replace(spec.process, rlimits=[POSIXRlimit(type="RLIMIT_NOFILE", soft=777, hard=888),
                                                      POSIXRlimit(type="RLIMIT_CORE", soft=0, hard=0)])
    cp = rt.run(dataclasses.replace(spec, process=proc))
    assert cp.stdout.split() == ["777", "888", "0"], cp.stderr


def test_bind_mount_read_only(rt: RuntimeUnderTest, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "hello").write_text("hi\n")
    mounts = [*default_mounts(), Mount(destination="/var/www", type="bind", source=str(data),
                                       options=["rbind", "ro", "nosuid", "nodev"])]
    cp = rt.run(rt.spec(sh("cat /var/www/hello; touch /var/www/x 2>&1 | grep -o Read-only"), mounts=mounts))
    assert cp.stdout.split() == ["hi", "Read-only"], cp.stdout + cp.stderr
    assert not (data / "x").exists()


def test_user_namespace_maps_root_to_unprivileged_uid(rt: RuntimeUnderTest, open_dir: Path,
                                                      busybox_rootfs: Path) -> None:
    rootfs = open_dir / "rootfs"
    shutil.copytree(busybox_rootfs, rootfs, symlinks=True)
    data = open_dir / "shared"
    data.mkdir()
    data.chmod(0o777)
    mounts = [*default_mounts(), Mount(destination="/var/www", type="bind", source=str(data), options=["rbind"])]
    spec = rt.spec(sh("id -u; cat /proc/self/uid_map; touch /var/www/made-by-root"), mounts=mounts,
                   userns_map=(100000, 65536))
    cp = rt.run(spec, rootfs=rootfs)
    assert cp.returncode == 0, cp.stderr
    out = cp.stdout.split()
    assert out[0] == "0" and out[1:4] == ["0", "100000", "65536"]
    assert (data / "made-by-root").stat().st_uid == 100000


def test_joins_existing_network_namespace(rt: RuntimeUnderTest, netns: str) -> None:
    spec = rt.spec(["readlink", "/proc/self/ns/net"])
    assert spec.linux is not None
    ns = [n if n.type != "network" else LinuxNamespace(type="network", path=netns)
          for n in spec.linux.namespaces]
    spec = dataclasses.replace(spec, linux=dataclasses.replace(spec.linux, namespaces=ns))
    cp = rt.run(spec)
    assert cp.stdout.strip() == f"net:[{os.stat(netns).st_ino}]", cp.stderr


def test_uid_gid_groups_umask_cwd_env(rt: RuntimeUnderTest) -> None:
    spec = rt.spec(sh("id; umask; pwd; echo $GREETING"), uid=1000, gid=1000, additional_gids=[2000],
                   cwd="/home/app", env=["PATH=/bin:/usr/bin", "GREETING=hello"])
    cp = rt.run(spec)
    assert cp.returncode == 0, cp.stderr
    lines = cp.stdout.splitlines()
    assert lines[0].startswith("uid=1000(app) gid=1000(app) groups=") and "2000" in lines[0]
    assert lines[1:] == ["0022", "/home/app", "hello"]


def test_home_comes_from_passwd_when_the_spec_has_none(rt: RuntimeUnderTest) -> None:
    """runc and crun set HOME from the container's /etc/passwd when the process env lacks it (pip's cache, git
    and others need it in RUN steps); a HOME in the spec wins. skiff follows runc."""
    homes = []
    for uid, env in ((0, []), (1000, []), (4242, []), (0, ["HOME=/data"])):
        cp = rt.run(rt.spec(sh("echo $HOME"), uid=uid, gid=uid, env=["PATH=/bin:/usr/bin", *env]))
        assert cp.returncode == 0, cp.stderr
        homes.append(cp.stdout.strip())
    unknown = "" if rt.name == "crun" else "/"  # a uid not in passwd: runc (and Docker) say /, crun leaves it unset
    assert homes == ["/root", "/home/app", unknown, "/data"]


_ = (LinuxIDMapping,)


def test_signals_start_default_and_unblocked(rt: RuntimeUnderTest) -> None:
    cp = rt.run(rt.spec(["grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status"]))
    assert cp.stdout.split() == ["SigBlk:", "0" * 16, "SigIgn:", "0" * 16], cp.stdout
