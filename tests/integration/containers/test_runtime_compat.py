"""What a container sees of the host, as Docker shows it: the default RLIMIT_NOFILE (the engine's own limits),
/sys/fs/cgroup (the container's own cgroups, read-only), and the host's devices in a --privileged container;
under skiff's runtime, crun and runc alike."""

from __future__ import annotations

import os
import resource
import shutil
import stat

import pytest

NONE = ("--network", "none")
RUNTIMES = ["skiff"] + [r for r in ("crun", "runc") if shutil.which(r)]


def _rt(runtime: str) -> tuple[str, ...]:
    return () if runtime == "skiff" else ("--runtime", runtime)


def _oci(v: int) -> str:
    return "unlimited" if v == resource.RLIM_INFINITY else str(v)


# -- RLIMIT_NOFILE ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("runtime", RUNTIMES)
def test_nofile_defaults_to_the_engines_limits(sk, runtime):  # type: ignore[no-untyped-def]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    out = sk.out(*_rt(runtime), "run", "--rm", *NONE, "busybox", "sh", "-c", "ulimit -n; ulimit -Hn")
    assert out.split() == [_oci(soft), _oci(hard)]
    # --ulimit still wins
    out = sk.out(*_rt(runtime), "run", "--rm", *NONE, "--ulimit", "nofile=300:400", "busybox", "sh", "-c",
                 "ulimit -n; ulimit -Hn")
    assert out.split() == ["300", "400"]


def test_nofile_follows_a_lower_engine_limit(sk):  # type: ignore[no-untyped-def]
    """The CLI's own limits, whatever they are (here lowered for the CLI only), never above its hard limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    low = min(hard, 4096)

    def lower() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(soft, 2000), low))

    import subprocess

    from helpers.cli import skiff_cmd

    cp = subprocess.run(skiff_cmd(sk.root, sk.runroot, "run", "--rm", *NONE, "busybox", "sh", "-c",
                                  "ulimit -n; ulimit -Hn"), capture_output=True, preexec_fn=lower, timeout=60)
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout.split() == [str(min(soft, 2000)).encode(), str(low).encode()]


# -- /sys/fs/cgroup --------------------------------------------------------------------------------------------
_CGROUP_PROBE = r"""
set -u
grep ' /sys/fs/cgroup ' /proc/self/mountinfo | head -1
echo "ls: $(ls /sys/fs/cgroup | tr '\n' ' ')"
if [ -d /sys/fs/cgroup/memory ]; then
  grep ' /sys/fs/cgroup/memory ' /proc/self/mountinfo | sed 's/^/memory mount: /'
  echo "limit: $(cat /sys/fs/cgroup/memory/memory.limit_in_bytes)"
  ls /sys/fs/cgroup/memory/release_agent >/dev/null 2>&1 && echo "release_agent: visible"
  echo 1 > /sys/fs/cgroup/memory/notify_on_release 2>/dev/null && echo "notify_on_release: written"
  mkdir /sys/fs/cgroup/memory/escape 2>/dev/null && echo "mkdir: made"
  echo "memory entries: $(ls /sys/fs/cgroup/memory | grep -c -v -e '^memory\.' -e '^cgroup\.' -e '^tasks$' \
      -e '^notify_on_release$')"
else
  echo "limit: $(cat /sys/fs/cgroup/memory.max)"
fi
touch /sys/fs/cgroup/x 2>/dev/null && echo "touch: made"
ls /sys/fs/cgroup/release_agent >/dev/null 2>&1 && echo "release_agent: visible"
echo 1 > /sys/fs/cgroup/unified/cgroup.procs 2>/dev/null && echo "unified: written"
echo done
"""


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_sys_fs_cgroup_is_the_containers_own_read_only(sk, runtime):  # type: ignore[no-untyped-def]
    out = sk.out(*_rt(runtime), "run", "--rm", *NONE, "--memory", "64m", "busybox", "sh", "-c", _CGROUP_PROBE)
    lines = out.splitlines()
    assert lines[-1] == "done", out
    mem = [x for x in lines if x.startswith("memory mount: ")]
    if mem:
        assert "ro" in mem[0].split()[7].split(","), out
    tolerated = set()
    if runtime != "skiff" and mem:  # crun 1.8 and runc 1.1 leave the tmpfs holding the v1 hierarchies rw
        tolerated = {"touch: made"}
    else:
        assert "ro" in lines[0].split()[5].split(","), out
    assert "limit: 67108864" in lines or "limit: 67108864" in out, out
    # nothing writable, no release_agent (the hierarchy's root is never shown), no host cgroup below
    for bad in ("release_agent: visible", "notify_on_release: written", "mkdir: made", "touch: made",
                "unified: written"):
        assert bad in tolerated or bad not in out, (runtime, out)
    if "memory entries:" in out:  # v1: only the container's own cgroup, no child folder of the host's
        assert "memory entries: 0" in out, out
        names = next(x for x in lines if x.startswith("ls: ")).split()[1:]
        assert {"memory", "pids", "cpuset"} <= set(names), out


def test_sys_fs_cgroup_privileged_is_writable_own_cgroup(sk):  # type: ignore[no-untyped-def]
    """--privileged lifts the read-only flag (Docker clears it), still the container's own cgroup only."""
    out = sk.out("run", "--rm", *NONE, "--privileged", "--memory", "64m", "busybox", "sh", "-c",
                 "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max;"
                 "grep ' /sys/fs/cgroup ' /proc/self/mountinfo | head -1")
    first, mnt = out.splitlines()[:2]
    assert first == "67108864", out
    assert "ro" not in mnt.split()[5].split(","), out


# -- --privileged devices --------------------------------------------------------------------------------------
def _a_host_device() -> tuple[str, str, int, int]:
    """(path, kind, major, minor) of a device this host has and a test may open harmlessly."""
    for path in ("/dev/loop-control", "/dev/kvm", "/dev/net/tun", "/dev/vda", "/dev/loop0", "/dev/kmsg"):
        try:
            st = os.stat(path)
        except OSError:
            continue
        if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
            return path, "c" if stat.S_ISCHR(st.st_mode) else "b", os.major(st.st_rdev), os.minor(st.st_rdev)
    pytest.skip("no usable host device")


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_privileged_gets_the_host_devices(sk, runtime):  # type: ignore[no-untyped-def]
    path, kind, major, minor = _a_host_device()
    host = {e for e in os.listdir("/dev")}
    script = (f"ls /dev | sort; echo ---; stat -c '%t %T %F' {path}; "
              f"(exec 3<{path}) && echo opened; ls -l /dev/ptmx; test -c /dev/console || echo no-console-node")
    out = sk.out(*_rt(runtime), "run", "--rm", *NONE, "--privileged", "busybox", "sh", "-c", script)
    listing, _, rest = out.partition("---\n")
    seen = set(listing.split())
    assert len(seen) > 30 and len(seen & host) > 0.6 * len(host), out
    first = rest.splitlines()[0].split()
    assert (int(first[0], 16), int(first[1], 16)) == (major, minor), out
    assert ("character" if kind == "c" else "block") in rest.splitlines()[0], out
    assert "opened" in rest, out  # the device cgroup allows every device
    assert "/dev/ptmx -> pts/ptmx" in rest, out  # the container's own devpts, never the host's ptmx


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_unprivileged_device_cgroup_denies_host_devices(sk, runtime):  # type: ignore[no-untyped-def]
    path, kind, major, minor = _a_host_device()
    # the device cgroup refuses mknod ("m") and open ("rw") of any device the runtime did not create
    script = (f"ls {path} 2>/dev/null && echo present; if mknod /tmp/d {kind} {major} {minor} 2>/dev/null; then "
              "(exec 3</tmp/d) 2>/dev/null && echo opened || echo denied; else echo denied; fi; "
              "echo x > /dev/null && echo null-ok")
    out = sk.out(*_rt(runtime), "run", "--rm", *NONE, "busybox", "sh", "-c", script)
    assert "present" not in out and "opened" not in out, out
    assert "denied" in out and "null-ok" in out, out


# -- health checks and exec -d go through the runtime's exec ---------------------------------------------------
@pytest.mark.parametrize("runtime", RUNTIMES)
def test_health_probe_and_detached_exec(sk, name, runtime):  # type: ignore[no-untyped-def]
    """The probe is the process `exec --detach` starts: its pid comes back from crun/runc too (--pid-file)."""
    import json

    sk(*_rt(runtime), "run", "-d", "--name", name, *NONE, "--health-cmd", "echo ok; exit 0",
       "--health-interval", "1h", "busybox", "sleep", "60")
    try:
        assert sk("container", "healthcheck", name).returncode == 0
        health = json.loads(sk.out("inspect", name))[0]["State"]["Health"]
        assert health["Status"] == "healthy" and health["Log"][-1]["Output"] == "ok\n"
        sk("exec", "-d", name, "touch", "/tmp/from-exec")
        for _ in range(50):
            if sk("exec", name, "test", "-e", "/tmp/from-exec", check=False).returncode == 0:
                break
        else:
            raise AssertionError("exec -d did not run")
    finally:
        sk("rm", "-f", name)


# -- a read-only bind is read-only all the way down --------------------------------------------------------
@pytest.mark.parametrize("runtime", RUNTIMES)
def test_read_only_bind_covers_its_submounts(sk, runtime, tmp_path):  # type: ignore[no-untyped-def]
    """-v SRC:DST:ro with a mount inside SRC: Docker 25 makes the bind read-only recursively ("rro",
    mount_setattr) where the kernel can; the submount used to stay writable."""
    import subprocess

    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    subprocess.run(["mount", "-t", "tmpfs", "tmpfs", str(src / "sub")], check=True)
    try:
        out = sk.out(*_rt(runtime), "run", "--rm", *NONE, "-v", f"{src}:/x:ro", "busybox", "sh", "-c",
                     "touch /x/a 2>/dev/null || echo top-ro; touch /x/sub/b 2>/dev/null || echo sub-ro")
        assert out.split() == ["top-ro", "sub-ro"]
        assert not (src / "sub" / "b").exists()
    finally:
        subprocess.run(["umount", str(src / "sub")], check=True)
