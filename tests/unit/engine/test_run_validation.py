"""Docker's parsing and validation of run/create options, pure: restart policies, cpusets, --cpus, label
files, container names, --add-host, capabilities, no-new-privileges and the user's groups."""

from __future__ import annotations

from pathlib import Path

import pytest

from skiff.engine.bundles import ALL_CAPS, capabilities, host_caps, no_new_privileges, resolve_user
from skiff.engine.containers_options import (
    check_cpus,
    check_cpuset,
    check_device_cgroup_rule,
    check_dns_search,
    check_ip,
    parse_blkio_rate,
    parse_device,
    parse_namespace_mode,
    parse_restart,
    parse_sysctls,
    parse_uint_list,
    parse_weight_device,
    read_label_file,
)
from skiff.engine.containers_state import check_name
from skiff.errors import InvalidArgumentError, SkiffError
from skiff.network.etcfiles import parse_add_host
from skiff.runtime.defaults import DOCKER_CAPS


@pytest.mark.parametrize(("value", "name", "count"), [
    ("no", "no", 0), ("always", "always", 0), ("unless-stopped", "unless-stopped", 0),
    ("on-failure", "on-failure", 0), ("on-failure:3", "on-failure", 3), ("on-failure:0", "on-failure", 0),
    ("on-failure:+2", "on-failure", 2), ("always:0", "always", 0),
])
def test_restart_policies(value: str, name: str, count: int) -> None:
    p = parse_restart(value)
    assert (p.name, p.maximum_retry_count) == (name, count)


@pytest.mark.parametrize(("value", "message"), [
    ("on-failure:-1", "invalid restart policy: maximum retry count cannot be negative"),
    ("always:3", "invalid restart policy: maximum retry count can only be used with 'on-failure'"),
    ("no:-2", "invalid restart policy: maximum retry count can only be used with 'on-failure' and cannot be "
              "negative"),
    ("sometimes", "invalid restart policy: unknown policy 'sometimes'; use one of 'no', 'always', "
                  "'on-failure', or 'unless-stopped'"),
    (":3", "invalid restart policy format: no policy provided before colon"),
    ("on-failure:x", "invalid restart policy format: maximum retry count must be an integer"),
    ("always:2:3", "invalid restart policy format: maximum retry count must be an integer"),
    ("on-failure: 1", "invalid restart policy format: maximum retry count must be an integer"),
])
def test_bad_restart_policies(value: str, message: str) -> None:
    with pytest.raises(InvalidArgumentError) as e:
        parse_restart(value)
    assert e.value.message == message


@pytest.mark.parametrize(("value", "cpus"), [("", set()), ("0", {0}), ("0-2", {0, 1, 2}), ("0,3", {0, 3}),
                                             ("0-1,4-5", {0, 1, 4, 5}), ("2-2", {2})])
def test_uint_lists(value: str, cpus: set[int]) -> None:
    assert parse_uint_list(value) == cpus


@pytest.mark.parametrize("value", ["x", "1-", "-1", "0,,1", "3-1", "0-x", " 1"])
def test_bad_uint_lists(value: str) -> None:
    with pytest.raises(ValueError):
        parse_uint_list(value)


@pytest.mark.parametrize(("value", "message"), [
    ("7", "Requested CPUs are not available - requested 7, available: 0-1"),
    ("0-2", "Requested CPUs are not available - requested 0-2, available: 0-1"),
    ("x", "Invalid value x for cpuset cpus"),
])
def test_cpusets(value: str, message: str) -> None:
    check_cpuset("0,1", "0-1")
    with pytest.raises(InvalidArgumentError) as e:
        check_cpuset(value, "0-1")
    assert e.value.message == message


def test_cpus_range() -> None:
    check_cpus(2 * 10**9, 2)
    check_cpus(10**7, 2)
    with pytest.raises(InvalidArgumentError) as e:
        check_cpus(2 * 10**9 + 1, 2)
    assert e.value.message == "Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available"


def test_label_file(tmp_path: Path) -> None:
    f = tmp_path / "labels"
    f.write_text("# comment\n\n a=1\nb=x=y\n\tbare\nc=\n")
    assert read_label_file(str(f)) == ["a=1", "b=x=y", "bare", "c="]
    for bad, message in (("a b=1\n", "poorly formatted environment: variable 'a b' contains whitespaces"),
                         ("=1\n", "poorly formatted environment: no variable name on line '=1'")):
        f.write_text(bad)
        with pytest.raises(InvalidArgumentError) as e:
            read_label_file(str(f))
        assert e.value.message == message
    with pytest.raises(InvalidArgumentError, match="no such file or directory"):
        read_label_file(str(tmp_path / "missing"))


@pytest.mark.parametrize("name", ["ab", "/ab", "a1", "A.b-c_d", "0x"])
def test_container_names(name: str) -> None:
    assert check_name(name) == name.removeprefix("/")


@pytest.mark.parametrize("name", ["a", "/a", "", "_ab", ".ab", "-ab", "a b", "a/b", "é1", "//ab"])
def test_bad_container_names(name: str) -> None:
    with pytest.raises(InvalidArgumentError, match=r"^Invalid container name \(.*\), only "
                                                   r"\[a-zA-Z0-9\]\[a-zA-Z0-9_.-\] are allowed$"):
        check_name(name)


@pytest.mark.parametrize(("spec", "parsed"), [
    ("db:10.0.0.1", ("db", "10.0.0.1")), ("db=10.0.0.1", ("db", "10.0.0.1")), ("six:::1", ("six", "::1")),
    ("six=::1", ("six", "::1")), ("six:[::1]", ("six", "::1")), ("br:[10.0.0.1]", ("br", "10.0.0.1")),
    ("gw:host-gateway", ("gw", "host-gateway")), ("gw=host-gateway", ("gw", "host-gateway")),
])
def test_add_host(spec: str, parsed: tuple[str, str]) -> None:
    assert parse_add_host(spec) == parsed


@pytest.mark.parametrize(("spec", "words"), [
    ("nocolon", 'bad format for add-host: "nocolon"'), (":1.2.3.4", 'bad format for add-host: ":1.2.3.4"'),
    ("a:b=1.2.3.4", 'bad format for add-host: "a:b=1.2.3.4"'), ("h:1.2.3", 'invalid IP address in add-host: "1.2.3"'),
    ("h=", 'invalid IP address in add-host: ""'), ("h:name", 'invalid IP address in add-host: "name"'),
])
def test_bad_add_host(spec: str, words: str) -> None:
    with pytest.raises(InvalidArgumentError) as e:
        parse_add_host(spec)
    assert e.value.message == f'invalid argument "{spec}" for "--add-host" flag: {words}'


def test_capabilities() -> None:
    every = host_caps()
    assert capabilities([], [], False) == list(DOCKER_CAPS)
    assert capabilities(["ALL"], ["NET_RAW"], False) == [c for c in every if c != "CAP_NET_RAW"]
    assert capabilities(["all"], ["cap_net_raw", "SYS_ADMIN"], False) == \
        [c for c in every if c not in ("CAP_NET_RAW", "CAP_SYS_ADMIN")]
    assert capabilities(["ALL"], ["ALL"], False) == every
    assert capabilities(["CHOWN"], ["ALL"], False) == ["CAP_CHOWN"]
    assert "CAP_NET_RAW" in capabilities(["NET_RAW"], ["NET_RAW"], False)  # an add wins over a drop
    assert capabilities([], ["NET_RAW"], True) == every  # --privileged: all of them
    assert set(every) <= set(ALL_CAPS)
    with pytest.raises(InvalidArgumentError, match="invalid capability: NOT_A_CAP"):
        capabilities(["NOT_A_CAP"], [], False)


@pytest.mark.parametrize(("opts", "privileged", "nnp"), [
    ([], False, True), ([], True, False), (["no-new-privileges"], True, True),
    (["no-new-privileges=true"], True, True), (["no-new-privileges:true"], True, True),
    (["no-new-privileges=false"], False, False), (["no-new-privileges=false"], True, False),
])
def test_no_new_privileges(opts: list[str], privileged: bool, nnp: bool) -> None:
    assert no_new_privileges(opts, privileged) is nnp


@pytest.fixture
def rootfs(tmp_path: Path) -> str:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n")
    (tmp_path / "etc" / "group").write_text("root:x:0:\ntty:x:5:\napp:x:1000:\nextra:x:2000:app\nwheel:x:10:root\n")
    return str(tmp_path)


@pytest.mark.parametrize(("user", "group_add", "want"), [
    ("1000", [], (1000, 1000, [1000, 2000])),
    ("app", [], (1000, 1000, [1000, 2000])),
    ("app:app", [], (1000, 1000, [1000])),  # an explicit group: no implicit supplementary groups (runc)
    ("1000:2000", ["tty"], (1000, 2000, [2000, 5])),
    ("", [], (0, 0, [0, 10])),
    ("4242", ["5"], (4242, 0, [0, 5])),
    ("app", ["extra", "app"], (1000, 1000, [1000, 2000])),  # no duplicates
])
def test_primary_gid_is_in_the_additional_gids(rootfs: str, user: str, group_add: list[str],
                                              want: tuple[int, int, list[int]]) -> None:
    uid, gid, extra, _ = resolve_user(rootfs, user, group_add)
    assert (uid, gid, extra) == want


@pytest.mark.parametrize(("user", "group_add", "words"), [
    ("nosuch", [], "unable to find user nosuch"), ("root:nosuch", [], "unable to find group nosuch"),
    ("root", ["nosuch"], "unable to find group nosuch"),
])
def test_unknown_users_and_groups(rootfs: str, user: str, group_add: list[str], words: str) -> None:
    with pytest.raises(SkiffError, match=words):
        resolve_user(rootfs, user, group_add)


@pytest.mark.parametrize(("spec", "want"), [
    ("/dev/fuse", ("/dev/fuse", "/dev/fuse", "rwm")),
    ("/dev/fuse:r", ("/dev/fuse", "/dev/fuse", "r")),
    ("/dev/sda:/dev/xvda", ("/dev/sda", "/dev/xvda", "rwm")),
    ("/dev/sda:/dev/xvda:rw", ("/dev/sda", "/dev/xvda", "rw")),
    ("/dev/sda:/dev/xvda/", ("/dev/sda", "/dev/xvda", "rwm")),
])
def test_device_specs(spec: str, want: tuple[str, str, str]) -> None:
    assert parse_device(spec) == want


@pytest.mark.parametrize("spec", ["", "fuse", "/dev/a:b", "/dev/a:/dev/b:rwm:x", ":/dev/b", "/dev/a:/dev/b:",
                                  "/dev/a:/dev/b:rr", "/dev/a:/dev/b:x"])
def test_bad_device_specs(spec: str) -> None:
    with pytest.raises(InvalidArgumentError) as e:
        parse_device(spec)
    assert e.value.message.startswith(f'invalid argument "{spec}" for "--device" flag: ')


@pytest.mark.parametrize(("value", "want"), [("example.com", "example.com"), ("example.com.", "example.com"),
                                             (".", "."), (" a-b.c ", "a-b.c"), ("x1", "x1")])
def test_dns_search_domains(value: str, want: str) -> None:
    assert check_dns_search(value) == want


@pytest.mark.parametrize("value", ["a..b", "-a.com", "a-.com", "123", "", ".com", "a b", "x" * 256])
def test_bad_dns_search_domains(value: str) -> None:
    with pytest.raises(InvalidArgumentError, match="is not a valid domain"):
        check_dns_search(value)


@pytest.mark.parametrize(("value", "want"), [("8.8.8.8", "8.8.8.8"), (" 1.1.1.1 ", "1.1.1.1"),
                                             ("2001:DB8::1", "2001:db8::1")])
def test_dns_servers(value: str, want: str) -> None:
    assert check_ip(value, "--dns") == want


@pytest.mark.parametrize("value", ["1.1.1.1x", "300.1.1.1", "", "host.example"])
def test_bad_dns_servers(value: str) -> None:
    with pytest.raises(InvalidArgumentError, match="is not an ip address"):
        check_ip(value, "--dns")


def test_sysctls_allow_list_and_host_namespaces() -> None:
    assert parse_sysctls(["net.core.somaxconn=1024", "kernel.sem=1 2 3 4", "fs.mqueue.msg_max=20"]) == {
        "net.core.somaxconn": "1024", "kernel.sem": "1 2 3 4", "fs.mqueue.msg_max": "20"}
    for bad in ("kernel.hostname=x", "vm.swappiness=1", "net.ipv4.ip_forward"):
        with pytest.raises(InvalidArgumentError, match="is not whitelisted"):
            parse_sysctls([bad])
    with pytest.raises(InvalidArgumentError, match="not allowed in host network namespace"):
        parse_sysctls(["net.core.somaxconn=1"], host_network=True)
    with pytest.raises(InvalidArgumentError, match="not allowed in host IPC namespace"):
        parse_sysctls(["kernel.shmmax=1"], host_ipc=True)
    assert parse_sysctls(["net.core.somaxconn=1"], host_ipc=True) == {"net.core.somaxconn": "1"}


@pytest.mark.parametrize(("value", "flag", "kinds", "ok"), [
    ("host", "--pid", ("", "host", "container"), True), ("container:web", "--pid", ("", "host", "container"), True),
    ("container:", "--pid", ("", "host", "container"), False), ("private", "--pid", ("", "host", "container"), False),
    ("shareable", "--ipc", ("", "none", "private", "shareable", "host", "container"), True),
    ("container:x", "--uts", ("", "host"), False), ("private", "--cgroupns", ("", "host", "private"), True),
])
def test_namespace_modes(value: str, flag: str, kinds: tuple[str, ...], ok: bool) -> None:
    if ok:
        assert parse_namespace_mode(value, flag, kinds=kinds) == value
    else:
        with pytest.raises(InvalidArgumentError, match=f"^{flag}: invalid "):
            parse_namespace_mode(value, flag, kinds=kinds)


@pytest.mark.parametrize(("value", "flag", "want"), [
    ("/dev/sda:1mb", "--device-read-bps", ("/dev/sda", 1 << 20)), ("/dev/sda:10", "--device-write-bps",
                                                                    ("/dev/sda", 10)),
    ("/dev/disk/by-id/x:5", "--device-read-iops", ("/dev/disk/by-id/x", 5)),
])
def test_blkio_rates(value: str, flag: str, want: tuple[str, int]) -> None:
    assert parse_blkio_rate(value, flag) == want


@pytest.mark.parametrize(("value", "flag", "words"), [
    ("/dev/sda", "--device-read-bps", "bad format: /dev/sda"),
    ("/tmp/x:1", "--device-read-bps", "bad format for device path"),
    ("/dev/sda:1k", "--device-read-iops", "invalid rate for device"),
    ("/dev/sda:-1", "--device-write-bps", "invalid rate for device"),
])
def test_bad_blkio_rates(value: str, flag: str, words: str) -> None:
    with pytest.raises(InvalidArgumentError, match=words):
        parse_blkio_rate(value, flag)


def test_weight_devices_and_cgroup_rules() -> None:
    assert parse_weight_device("/dev/sda:500") == ("/dev/sda", 500)
    assert parse_weight_device("/dev/sda:0") == ("/dev/sda", 0)
    for bad in ("/dev/sda:5", "/dev/sda:1001", "sda:100", "/dev/sda:x"):
        with pytest.raises(InvalidArgumentError):
            parse_weight_device(bad)
    for rule in ("c 1:3 mr", "a *:* rwm", "b 8:* w"):
        assert check_device_cgroup_rule(rule) == rule
    for bad in ("x 1:3 r", "c 1:3", "c 1:3 rx", "c a:3 r", "c 1:3 rwmm"):
        with pytest.raises(InvalidArgumentError, match="invalid device cgroup format"):
            check_device_cgroup_rule(bad)


def test_a_namespace_is_joined_only_through_the_containers_own_process() -> None:
    """--pid/--ipc/--network container:NAME: a pid that is not in NAME's cgroup (reused by another process
    since NAME's state was read) is refused, never taken for NAME's init."""
    import os

    from skiff.engine.containers_create import namespace_of

    with pytest.raises(SkiffError, match="is not running"):
        namespace_of("a" * 64, os.getpid(), "net")
    with pytest.raises(SkiffError, match="is not running"):
        namespace_of("a" * 64, 2**22 + 12345, "pid")  # no such process
