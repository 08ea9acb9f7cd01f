"""docker build's sandbox flags without a kernel: the steps' HostConfig from the resource flags, how it lands on a
step's Spec, --ssh values, and the ssh mounts' targets (BuildKit's /run/buildkit/ssh_agent.N numbering)."""

from __future__ import annotations

import socket
from pathlib import Path
from types import SimpleNamespace

import pytest

from skiff.build.builder.options import BuildOptions, StepLimits
from skiff.build.builder.run import ssh_mounts
from skiff.build.dockerfile import commands as c
from skiff.build.dockerfile.flags import parse_mount
from skiff.engine.build import _with_limits, parse_ssh, step_host
from skiff.errors import InvalidArgumentError
from skiff.runtime.defaults import default_spec


@pytest.mark.parametrize(("limits", "expected"), [
    (StepLimits(memory="64m"), {"memory": 64 << 20, "memory_swap": 0}),
    (StepLimits(memory="1g", memory_swap="-1"), {"memory": 1 << 30, "memory_swap": -1}),
    (StepLimits(shm_size="8m"), {"shm_size": 8 << 20}),
    (StepLimits(cpu_shares=1), {"cpu_shares": 2}),              # dockerd's minimum
    (StepLimits(cpu_shares=10**6), {"cpu_shares": 262144}),     # and maximum
    (StepLimits(cpu_period=50000, cpu_quota=25000), {"cpu_period": 50000, "cpu_quota": 25000}),
    (StepLimits(cgroup_parent="/ci//builds/"), {"cgroup_parent": "/ci/builds"}),
])
def test_step_host_fields(limits: StepLimits, expected: dict[str, object]) -> None:
    host = step_host(limits)
    assert {k: getattr(host, k) for k in expected} == expected


def test_limits_on_the_spec() -> None:
    host = step_host(StepLimits(memory="64m", cpu_shares=512, shm_size="8m", cgroup_parent="ci",
                                ulimits=("nofile=100:200", "core=0")))
    spec = _with_limits(default_spec(["true"], nofile=(1000, 1000)), host, "skiff-build-x")
    assert spec.linux is not None and spec.linux.resources is not None and spec.process is not None
    mem, cpu = spec.linux.resources.memory, spec.linux.resources.cpu
    assert mem is not None and (mem.limit, mem.swap) == (64 << 20, 128 << 20)  # Docker's default swap: 2x
    assert cpu is not None and cpu.shares == 512
    assert spec.linux.cgroups_path == "/ci/skiff-build-x"
    assert {r.type: (r.soft, r.hard) for r in spec.process.rlimits} == {"RLIMIT_NOFILE": (100, 200),
                                                                       "RLIMIT_CORE": (0, 0)}
    shm = next(m for m in spec.mounts if m.destination == "/dev/shm")
    assert f"size={8 << 20}" in shm.options and sum(o.startswith("size=") for o in shm.options) == 1
    plain = _with_limits(default_spec(["true"]), step_host(StepLimits(memory="64m")), "id")
    assert plain.linux is not None and plain.linux.cgroups_path is None  # skiff/ID, as without the flags


def test_parse_ssh(tmp_path: Path) -> None:
    sock = tmp_path / "agent.sock"
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(sock))
    try:
        assert parse_ssh(["default", f"git={sock}"], {"SSH_AUTH_SOCK": str(sock)}) == {"default": sock,
                                                                                        "git": sock}
        (tmp_path / "id_ed25519").write_text("key")
        for spec, words in ((["default"], "SSH_AUTH_SOCK is set"), ([f"k={tmp_path}/id_ed25519"], "not an agent"),
                            ([f"k={sock},{sock}"], "one agent socket"), (["=x"], "the id is empty")):
            with pytest.raises(InvalidArgumentError, match=words):
                parse_ssh(spec, {})
    finally:
        s.close()


def test_ssh_mount_targets(tmp_path: Path) -> None:
    mounts = tuple(parse_mount(m) for m in ("type=ssh", "type=ssh,id=absent", "type=ssh,id=git,target=rel",
                                            "type=cache,target=/c", "type=ssh,id=git"))
    cmd = c.RunCommand(keyword="run", cmd_line=("true",), mounts=mounts)
    b = SimpleNamespace(opts=BuildOptions(context=None, ssh={"default": tmp_path / "a", "git": tmp_path / "g"}))
    assert ssh_mounts(b, cmd, "/work") == [  # type: ignore[arg-type]
        (0, ("/run/buildkit/ssh_agent.0", tmp_path / "a")),
        (2, ("/work/rel", tmp_path / "g")),
        (4, ("/run/buildkit/ssh_agent.3", tmp_path / "g")),
    ]
    required = c.RunCommand(keyword="run", cmd_line=("true",), mounts=(parse_mount("type=ssh,id=absent,required"),))
    with pytest.raises(Exception, match="no SSH key 'absent' forwarded"):
        ssh_mounts(b, required, "/")  # type: ignore[arg-type]
