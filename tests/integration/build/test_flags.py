"""docker build's flags for the RUN steps' sandbox, on the real builder and runtime: --add-host, the resource
flags (--memory, --cpu-*, --cpuset-*, --shm-size, --ulimit, --cgroup-parent), --security-opt, --ssh, and the flags accepted for
compatibility (--rm, --force-rm, --compress, --isolation, --disable-content-trust, --cache-from/--cache-to);
each checked from inside a RUN step, plus the values refused before anything is built."""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_build import _ctx, _files, _inspect

CGROUP = Path("/sys/fs/cgroup")


def _has_cap(bit: int) -> bool:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("CapEff:"):
            return bool(int(line.split()[1], 16) >> bit & 1)
    return False


def _image_ids(skiff) -> set[str]:  # type: ignore[no-untyped-def]
    return set(skiff("images", "-q", "--no-trunc").stdout.decode().split())


# -- --add-host ----------------------------------------------------------------------------------------------

def test_add_host_entries_in_run_steps(skiff, busybox_image, tmp_path) -> None:  # type: ignore[no-untyped-def]
    ctx = _ctx(tmp_path, "FROM busybox\nRUN cat /etc/hosts > /hosts\nRUN --network=none cat /etc/hosts > /hosts-none\n")
    skiff("build", "-t", "hosts", "--add-host", "db:10.1.2.3", "--add-host", "cache=10.1.2.4",
          "--add-host", "v6:[fd00::1]", "--add-host", "gw:host-gateway", str(ctx))
    gateway = json.loads(skiff("network", "inspect", "bridge").stdout)[0]["IPAM"]["Config"][0]["Gateway"]
    files = _files(skiff, "hosts", tmp_path)
    lines = files["hosts"].decode().splitlines()
    # BuildKit's hosts file: its sandbox's names, then the entries in order (host-gateway: the bridge's gateway)
    assert lines == ["127.0.0.1\tlocalhost buildkitsandbox", "::1\tlocalhost ip6-localhost ip6-loopback",
                     "10.1.2.3\tdb", "10.1.2.4\tcache", "fd00::1\tv6", f"{gateway}\tgw"]
    assert files["hosts-none"] == files["hosts"]
    assert "etc/hosts" not in files  # the busybox image has none: the mount point leaves no stub

    # the entries are part of the RUN step (as in BuildKit's cache): other entries run it again
    again = skiff("build", "-t", "hosts2", "--add-host", "db:10.9.9.9", str(ctx))
    assert "CACHED" not in again.stderr.decode()
    assert "10.9.9.9\tdb" in _files(skiff, "hosts2", tmp_path)["hosts"].decode()


# -- resource flags ------------------------------------------------------------------------------------------

_PROBE = r"""FROM busybox
RUN sh -c 'for f in memory/memory.limit_in_bytes memory/memory.memsw.limit_in_bytes cpu/cpu.shares \
    cpu/cpu.cfs_period_us cpu/cpu.cfs_quota_us cpuset/cpuset.cpus; do \
    echo "$f=$(cat /sys/fs/cgroup/$f 2>/dev/null || echo missing)"; done > /cgroup; \
    echo "nofile=$(ulimit -Sn):$(ulimit -Hn) nproc=$(ulimit -Su):$(ulimit -Hu)" > /ulimits; \
    df -k /dev/shm | tail -1 | tr -s " " | cut -d" " -f2 > /shm'
"""


def _kv(text: bytes) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.decode().split())


def test_resource_flags_apply_to_run_steps(skiff, busybox_image, tmp_path) -> None:  # type: ignore[no-untyped-def]
    ctx = _ctx(tmp_path, _PROBE)
    skiff("build", "-t", "limits", "-m", "64m", "--memory-swap", "96m", "-c", "512", "--cpu-period", "50000",
          "--cpu-quota", "25000", "--cpuset-cpus", "0", "--shm-size", "8m",
          "--ulimit", "nofile=1024:2048", "--ulimit", "nproc=500:600", str(ctx))
    files = _files(skiff, "limits", tmp_path)
    cg = _kv(files["cgroup"])
    assert cg["memory/memory.limit_in_bytes"] == str(64 << 20)
    if cg["memory/memory.memsw.limit_in_bytes"] != "missing":  # swap accounting may be off
        assert cg["memory/memory.memsw.limit_in_bytes"] == str(96 << 20)
    assert (cg["cpu/cpu.shares"], cg["cpu/cpu.cfs_period_us"], cg["cpu/cpu.cfs_quota_us"]) == ("512", "50000",
                                                                                                "25000")
    assert cg["cpuset/cpuset.cpus"] == "0"
    assert _kv(files["ulimits"]) == {"nofile": "1024:2048", "nproc": "500:600"}
    assert files["shm"] == b"8192\n"


def test_run_steps_without_resource_flags_keep_the_defaults(skiff, busybox_image, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import resource

    ctx = _ctx(tmp_path, _PROBE)
    skiff("build", "-t", "nolimits", str(ctx))
    files = _files(skiff, "nolimits", tmp_path)
    cg = _kv(files["cgroup"])
    assert int(cg["memory/memory.limit_in_bytes"]) > 1 << 40 and cg["cpu/cpu.cfs_quota_us"] == "-1"
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert _kv(files["ulimits"])["nofile"] == f"{soft}:{hard}"  # inherited, as BuildKit's RUN does
    assert files["shm"] == b"65536\n"  # 64m, Docker's default


def test_security_opt_applies_to_run_steps(skiff, busybox_image, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The legacy builder's --security-opt: seccomp=unconfined drops the RUN steps' filter, no-new-privileges
    sets the flag (steps run without both by default: filter on, NNP off, as BuildKit's)."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    probe = "FROM busybox\nRUN grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status > /status\n"
    ctx = _ctx(tmp_path / "a", probe)
    skiff("build", "-t", "secdefault", str(ctx))
    default = _kv(_files(skiff, "secdefault", tmp_path / "a")["status"].replace(b":\t", b"="))
    assert default == {"Seccomp": "2", "NoNewPrivs": "0"}, default
    ctx = _ctx(tmp_path / "b", probe)
    skiff("build", "-t", "secopts", "--no-cache", "--security-opt", "seccomp=unconfined", "--security-opt",
          "no-new-privileges", str(ctx))  # not in the steps' cache keys (nor in Docker's): the first build's
    # step would be reused
    opened = _kv(_files(skiff, "secopts", tmp_path / "b")["status"].replace(b":\t", b"="))
    assert opened == {"Seccomp": "0", "NoNewPrivs": "1"}, opened


@pytest.fixture
def cgroup_parent() -> Iterator[str]:
    """A parent cgroup with a 48 MiB memory limit; removed (with anything left below it) afterwards."""
    name = "skiff-test-" + uuid.uuid4().hex[:12]
    (CGROUP / "memory" / name).mkdir()
    try:
        (CGROUP / "memory" / name / "memory.limit_in_bytes").write_text(str(48 << 20))
        yield name
    finally:
        for parent in (*CGROUP.glob(f"*/{name}"), *CGROUP.glob(f"*/*/{name}")):
            for child in sorted(parent.glob("**/"), key=lambda p: len(p.parts), reverse=True):
                try:
                    child.rmdir()
                except OSError:
                    pass


def test_cgroup_parent_places_run_steps_below_it(skiff, busybox_image, tmp_path, cgroup_parent) -> None:  # type: ignore[no-untyped-def]
    ctx = _ctx(tmp_path, "FROM busybox\nRUN grep hierarchical_memory_limit /sys/fs/cgroup/memory/memory.stat "
                         "> /limit\n")
    skiff("build", "-t", "parented", "--cgroup-parent", cgroup_parent, str(ctx))
    # the step's own cgroup has no limit: the parent's shows through the hierarchy
    assert _files(skiff, "parented", tmp_path)["limit"] == f"hierarchical_memory_limit {48 << 20}\n".encode()
    # the step's cgroup went with it; the parent stays, as Docker's cgroupfs driver leaves it
    assert [p.name for p in (CGROUP / "memory" / cgroup_parent).iterdir() if p.is_dir()] == []


def test_memory_limit_stops_a_greedy_step(skiff, busybox_image, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The limit is enforced, not only written: a step that needs more than -m allows is killed (exit 1)."""
    ctx = _ctx(tmp_path, "FROM busybox\nRUN head -c 100m /dev/zero | tail > /dev/null\n")
    r = skiff("build", "-m", "16m", "--memory-swap", "16m", "-t", "greedy", str(ctx), check=False)
    assert r.returncode == 1 and "did not complete successfully" in r.stderr.decode()
    assert skiff("build", "-t", "greedy", str(ctx)).returncode == 0


# -- --ssh ---------------------------------------------------------------------------------------------------

@pytest.fixture
def agents(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """Two listening unix sockets standing in for ssh agents (the steps only look at them)."""
    socks = []
    paths = (tmp_path / "agent-a.sock", tmp_path / "agent-b.sock")
    try:
        for p in paths:
            s = socket.socket(socket.AF_UNIX)
            s.bind(str(p))
            s.listen(1)
            socks.append(s)
        yield paths
    finally:
        for s in socks:
            s.close()


def test_ssh_agents_forwarded_to_ssh_mounts(skiff, busybox_image, tmp_path, agents) -> None:  # type: ignore[no-untyped-def]
    a, b = agents
    df = """\
FROM busybox
RUN --mount=type=ssh sh -c 'test -S "$SSH_AUTH_SOCK" && echo "$SSH_AUTH_SOCK $(stat -c %i "$SSH_AUTH_SOCK")" > /first'
RUN --mount=type=ssh,id=other,target=/agent --mount=type=ssh sh -c \
    'echo "$SSH_AUTH_SOCK $(stat -c %i /agent) $(stat -c %i /run/buildkit/ssh_agent.1)" > /second'
RUN --mount=type=ssh,id=absent sh -c 'echo "${SSH_AUTH_SOCK:-unset} $(ls /run/buildkit 2>&1 | wc -l)" > /third'
"""
    ctx = _ctx(tmp_path, df)
    skiff("build", "-t", "ssh", "--ssh", "other=" + str(b), "--ssh", "default", str(ctx),
          env={"SSH_AUTH_SOCK": str(a)})
    files = _files(skiff, "ssh", tmp_path)
    ino_a, ino_b = a.stat().st_ino, b.stat().st_ino
    assert files["first"] == f"/run/buildkit/ssh_agent.0 {ino_a}\n".encode()
    assert files["second"] == f"/agent {ino_b} {ino_a}\n".encode()  # SSH_AUTH_SOCK: the first ssh mount
    assert files["third"] == b"unset 1\n"  # an optional id not forwarded: no mount, no variable
    assert not any(k.startswith(("run/", "agent")) for k in files)
    assert not any(e.startswith("SSH_AUTH_SOCK") for e in _inspect(skiff, "ssh")["Config"]["Env"] or [])

    # a required id the build was not given fails the step (a failed build: exit 1)
    _ctx(tmp_path, "FROM busybox\nRUN --mount=type=ssh,id=nope,required true\n")
    r = skiff("build", "-t", "ssh-required", str(ctx), check=False)
    assert r.returncode == 1 and "no SSH key 'nope' forwarded" in r.stderr.decode()


# -- flags accepted for compatibility ------------------------------------------------------------------------

@pytest.mark.parametrize("flags, warnings", [
    (["--rm"], []),
    (["--rm=false", "--force-rm"], []),
    (["--force-rm=true", "--compress", "--isolation", "default"], []),
    (["--isolation=Default", "--disable-content-trust", "--disable-content-trust=false"], []),
    (["--cache-from", "busybox"], ["--cache-from busybox"]),
    (["--cache-from", "type=local,src=/nowhere", "--cache-to", "type=inline"],
     ["--cache-from type=local,src=/nowhere", "--cache-to type=inline"]),
])
def test_compatibility_flags_are_accepted(skiff, busybox_image, tmp_path, flags, warnings) -> None:  # type: ignore[no-untyped-def]
    ctx = _ctx(tmp_path, "FROM busybox\nRUN echo built > /out\n")
    r = skiff("build", "-t", "compat", *flags, str(ctx))
    assert _files(skiff, "compat", tmp_path)["out"] == b"built\n"
    shown = [line for line in r.stderr.decode().splitlines() if line.startswith("WARNING: --cache")]
    # one line per flag naming it and its values: skiff has no image or registry cache to use
    assert [line.split(" ignored:")[0] for line in shown] == [f"WARNING: {w}" for w in warnings]


# -- bad input: one line, exit 125, nothing built --------------------------------------------------------------

BAD = [
    (["--add-host", "nocolon"], 'invalid argument "nocolon" for "--add-host" flag: bad format for add-host'),
    (["--add-host", "db:999.1.1.1"], 'invalid argument "db:999.1.1.1" for "--add-host" flag: invalid IP address'),
    (["--ulimit", "nofile=lots"], 'invalid argument "nofile=lots" for "--ulimit" flag: invalid ulimit value'),
    (["--ulimit", "bogus=1"], 'invalid argument "bogus=1" for "--ulimit" flag: invalid ulimit type: bogus'),
    (["--ulimit", "nofile=10:5"], '"--ulimit" flag: ulimit soft limit must be less than or equal to hard limit'),
    (["-m", "lots"], 'invalid argument "lots" for "--memory" flag'),
    (["-m", "1m"], "Minimum memory limit allowed is 6MB"),
    (["--memory-swap", "1g"], "You should always set the Memory limit when using Memoryswap limit"),
    (["-m", "64m", "--memory-swap", "32m"], "Minimum memoryswap limit should be larger than memory limit"),
    (["--shm-size", "big"], 'invalid argument "big" for "--shm-size" flag'),
    (["--cpu-period", "10"], "CPU cfs period can not be less than 1ms"),
    (["--cpu-quota", "10"], "CPU cfs quota can not be less than 1ms"),
    (["--cpu-shares", "many"], 'invalid argument "many" for "-c, --cpu-shares" flag'),
    (["--cpuset-cpus", "4096"], "Requested CPUs are not available - requested 4096"),
    (["--cpuset-cpus", "0-x"], "Invalid value 0-x for cpuset cpus"),
    (["--cpuset-mems", "64"], "Requested memory nodes are not available - requested 64"),
    (["--cgroup-parent", "a/../../b"], "invalid --cgroup-parent: a/../../b"),
    (["--squash"], '"--squash" is only supported on a Docker daemon with experimental features enabled'),
    (["--isolation", "hyperv"], 'unsupported isolation: "hyperv"'),
    (["--security-opt", "bogus=1"], "invalid --security-opt: bogus=1"),
    (["--security-opt", "seccomp=/nonexistent.json"], "opening seccomp profile (/nonexistent.json) failed"),
    (["--rm=maybe"], 'invalid argument "maybe" for "--rm" flag'),
    (["--ssh", "default"], "--ssh: invalid empty ssh agent socket, make sure SSH_AUTH_SOCK is set"),
    (["--ssh", "key=/nonexistent/agent"], "--ssh key=/nonexistent/agent: stat /nonexistent/agent: no such file"),
    (["--ssh", "key=/etc/hostname"], "--ssh key=/etc/hostname: /etc/hostname is not an agent socket"),
]
if not _has_cap(24):  # CAP_SYS_RESOURCE: without it no step could raise a hard limit
    import resource

    _hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    BAD.append((["--ulimit", f"nofile={_hard + 1}"], f"--ulimit nofile={_hard + 1}:{_hard + 1}: the hard limit is "
                f"above this process's ({_hard})"))


@pytest.mark.parametrize("flags, message", BAD, ids=[" ".join(f) for f, _ in BAD])
def test_bad_values_are_refused_before_building(skiff, busybox_image, tmp_path, flags, message) -> None:  # type: ignore[no-untyped-def]
    ctx = _ctx(tmp_path, "FROM busybox\nRUN touch /ran\n")
    before = _image_ids(skiff)
    r = skiff("build", "-t", "bad", *flags, str(ctx), check=False, env={"SSH_AUTH_SOCK": ""})
    err = r.stderr.decode().strip()
    assert r.returncode == 125, err
    lines = [line for line in err.splitlines() if not line.startswith("See 'skiff build --help'")]  # flag errors
    assert message in err and len(lines) == 1, err
    assert _image_ids(skiff) == before
    assert not (Path(skiff.root) / "buildcache" / "records").exists() or \
        not any((Path(skiff.root) / "buildcache" / "records").iterdir())
