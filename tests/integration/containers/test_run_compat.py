"""Docker compatibility of run and the lifecycle: capabilities, kill of a paused container, -t without a
terminal, start failures (recorded, or removed with --rm, nothing leaked), rm -f of a missing container,
create-time validation, --add-host, the primary group, usage errors, --privileged and no-new-privileges."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

NONE = ("--network", "none")


def _inspect(sk, name):  # type: ignore[no-untyped-def]
    return json.loads(sk.out("inspect", name))[0]


def _cap_eff(status: str) -> int:
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("CapEff:")), 16)


def _leaks(sk) -> list[str]:  # type: ignore[no-untyped-def]
    """Mounts under the store and network namespaces left by containers that no longer exist."""
    with open("/proc/mounts") as f:
        mounts = [line.split()[1] for line in f if str(sk.root) in line.split()[1]]
    netns = sk.runroot / "netns"
    return mounts + (sorted(os.listdir(netns)) if netns.is_dir() else [])


def test_cap_add_all_minus_dropped(sk):  # type: ignore[no-untyped-def]
    eff = _cap_eff(sk.out("run", "--rm", *NONE, "--cap-add", "ALL", "--cap-drop", "NET_RAW", "busybox",
                          "cat", "/proc/self/status"))
    assert not eff & (1 << 13)  # CAP_NET_RAW dropped
    assert eff & (1 << 21) and eff & (1 << 12)  # CAP_SYS_ADMIN, CAP_NET_ADMIN: ALL but NET_RAW
    eff = _cap_eff(sk.out("run", "--rm", *NONE, "--cap-drop", "ALL", "--cap-add", "CHOWN", "busybox",
                          "cat", "/proc/self/status"))
    assert eff == 1  # CAP_CHOWN only


def test_kill_of_a_paused_container_takes_effect_at_once(sk, name):  # type: ignore[no-untyped-def]
    sk("run", "-d", "--name", name, *NONE, "busybox", "sleep", "60")
    try:
        sk("pause", name)
        t0 = time.monotonic()
        sk("kill", name)
        assert time.monotonic() - t0 < 10
        st = _inspect(sk, name)["State"]
        assert (st["Status"], st["ExitCode"], st["Paused"]) == ("exited", 137, False)
        sk("start", name)  # and the container works as before
        assert _inspect(sk, name)["State"]["Status"] == "running"
        sk("pause", name)
        assert _inspect(sk, name)["State"]["Status"] == "paused"
        sk("unpause", name)
        # a signal other than KILL or the stop signal leaves a container with a --stop-signal paused (moby)
        sk("rm", "-f", name)
        sk("run", "-d", "--name", name, *NONE, "--stop-signal", "USR2", "busybox", "sleep", "60")
        sk("pause", name)
        sk("kill", "-s", "HUP", name)
        assert _inspect(sk, name)["State"]["Status"] == "paused"
        sk("kill", "-s", "USR2", name)  # the stop signal thaws it (PID 1 ignores it: still running)
        assert _inspect(sk, name)["State"]["Status"] == "running"
    finally:
        sk("rm", "-f", name)


@pytest.mark.parametrize("argv", [("run", "--rm", "-it", *NONE, "busybox", "cat"),
                                  ("run", "-i", "-t", *NONE, "busybox", "cat")])
def test_tty_without_a_terminal_is_refused(sk, argv):  # type: ignore[no-untyped-def]
    before = sk.out("ps", "-aq")
    cp = sk(*argv, check=False, input=b"x\n", timeout=20)
    assert (cp.returncode, cp.stderr.decode().strip()) == (1, "Error: the input device is not a TTY")
    assert sk.out("ps", "-aq") == before


def test_exec_tty_without_a_terminal_is_refused(sk, name):  # type: ignore[no-untyped-def]
    sk("run", "-d", "--name", name, *NONE, "busybox", "sleep", "60")
    try:
        cp = sk("exec", "-it", name, "cat", check=False, input=b"x\n", timeout=20)
        assert (cp.returncode, cp.stderr.decode().strip()) == (1, "Error: the input device is not a TTY")
        assert sk.out("exec", "-i", name, "cat", input=b"x\n") == "x\n"  # -i alone is fine
    finally:
        sk("rm", "-f", name)


START_FAILURES = [  # (options and command, exit code, words of the error)
    pytest.param(("busybox", "nosuchcmd"), 127, 'exec: "nosuchcmd": executable file not found in $PATH',
                 id="not_found"),
    pytest.param(("busybox", "/etc/passwd"), 126, 'exec: "/etc/passwd": permission denied', id="not_executable"),
    pytest.param(("-u", "nosuchuser", "busybox", "true"), 125, "unable to find user nosuchuser", id="user"),
    pytest.param(("-u", "root:nosuchgroup", "busybox", "true"), 125, "unable to find group nosuchgroup",
                 id="group"),
    pytest.param(("--group-add", "nosuchgroup", "busybox", "true"), 125, "unable to find group nosuchgroup",
                 id="group_add"),
    pytest.param(("--entrypoint", "echo hi", "busybox"), 127,
                 'exec: "echo hi": executable file not found in $PATH', id="entrypoint_words"),
    pytest.param(("-w", "/etc/passwd/sub", "busybox", "true"), 125, "cannot create workdir /etc/passwd/sub",
                 id="workdir"),
]


@pytest.mark.parametrize(("args", "code", "words"), START_FAILURES)
@pytest.mark.parametrize("mode", [("--rm",), ("-d", "--rm")], ids=["fg", "detached"])
def test_start_failure_with_rm_leaves_nothing(sk, args, code, words, mode):  # type: ignore[no-untyped-def]
    before = sk.out("ps", "-aq")
    cp = sk("run", *mode, *NONE, *args, check=False)
    assert cp.returncode == code and words in cp.stderr.decode(), cp.stderr
    assert sk.out("ps", "-aq") == before
    assert _leaks(sk) == []


@pytest.mark.parametrize(("args", "code", "words"), START_FAILURES)
@pytest.mark.parametrize("mode", [(), ("-d",)], ids=["fg", "detached"])
def test_start_failure_is_recorded(sk, name, args, code, words, mode):  # type: ignore[no-untyped-def]
    cp = sk("run", *mode, "--name", name, *NONE, *args, check=False)
    try:
        assert cp.returncode == code and words in cp.stderr.decode(), cp.stderr
        st = _inspect(sk, name)["State"]
        # moby's StateString: a container that never started is "created", with the exit code and the error
        assert (st["Status"], st["Running"], st["ExitCode"]) == ("created", False, code)
        assert words in st["Error"]
        assert _leaks(sk) == []
        cp = sk("start", name, check=False)  # a start that fails again is recorded again
        assert cp.returncode == 1 and _inspect(sk, name)["State"]["ExitCode"] == code
    finally:
        sk("rm", "-f", name)
    assert _leaks(sk) == []


def test_start_failure_on_a_bridge_releases_the_namespace(sk, name):  # type: ignore[no-untyped-def]
    for args in (("--rm",), ("--name", name)):
        cp = sk("run", *args, "busybox", "nosuchcmd", check=False)
        assert cp.returncode == 127
        assert _leaks(sk) == []
    assert _inspect(sk, name)["State"]["ExitCode"] == 127
    sk("rm", name)


def test_a_container_that_ran_is_exited_after_a_failed_start(sk, name):  # type: ignore[no-untyped-def]
    sk("run", "--name", name, *NONE, "busybox", "sh", "-c", "rm /bin/sh")  # its command is gone next time
    cp = sk("start", name, check=False)
    assert cp.returncode == 1
    st = _inspect(sk, name)["State"]
    assert (st["Status"], st["ExitCode"]) == ("exited", 127) and '"sh"' in st["Error"]
    sk("rm", name)
    assert _leaks(sk) == []


def test_rm_force_of_a_running_rm_container(sk, name):  # type: ignore[no-untyped-def]
    sk("run", "-d", "--rm", "--name", name, *NONE, "busybox", "sleep", "60")
    cp = sk("rm", "-f", name)
    assert (cp.returncode, cp.stdout.decode(), cp.stderr.decode()) == (0, f"{name}\n", "")
    assert sk.out("ps", "-aq") == "" and _leaks(sk) == []


def test_rm_force_of_a_missing_container(sk):  # type: ignore[no-untyped-def]
    cp = sk("rm", "-f", "nosuch_container", check=False)
    assert cp.returncode == 0 and cp.stdout == b""
    assert cp.stderr.decode().strip() == "Error response from daemon: No such container: nosuch_container"
    assert sk("rm", "nosuch_container", check=False).returncode == 1


BAD_CREATE = [  # (options, Docker's words)
    (("-w", "relative"), "the working directory 'relative' is invalid, it needs to be an absolute path"),
    (("--cpuset-cpus", "4095"), "Requested CPUs are not available - requested 4095, available: "),
    (("--cpuset-cpus", "x"), "Invalid value x for cpuset cpus"),
    (("--cpus", "4096"), "Range of CPUs is from 0.01 to "),
    (("--restart", "on-failure:-1"), "invalid restart policy: maximum retry count cannot be negative"),
    (("--restart", "always:3"), "invalid restart policy: maximum retry count can only be used with 'on-failure'"),
    (("--restart", "sometimes"), "invalid restart policy: unknown policy 'sometimes'; use one of 'no', 'always', "
                                 "'on-failure', or 'unless-stopped'"),
    (("--restart", "on-failure:x"), "invalid restart policy format: maximum retry count must be an integer"),
    (("--name", "a"), "Invalid container name (a), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"),
    (("--add-host", "nocolon"), 'bad format for add-host: "nocolon"'),
    (("--add-host", "h=1.2.3"), 'invalid IP address in add-host: "1.2.3"'),
    (("--security-opt", "seccomp=/nonexistent.json"), "opening seccomp profile (/nonexistent.json) failed"),
    (("--label-file", "/nonexistent.labels"), "open /nonexistent.labels: no such file or directory"),
    (("--dns", "1.1.1.1x"), 'invalid argument "1.1.1.1x" for "--dns" flag: 1.1.1.1x is not an ip address'),
    (("--dns-search", "a..b"), 'invalid argument "a..b" for "--dns-search" flag: a..b is not a valid domain'),
    (("--sysctl", "kernel.domainname=x"), "sysctl 'kernel.domainname=x' is not whitelisted"),
    (("--sysctl", "net.ipv4.ip_forward"), "sysctl 'net.ipv4.ip_forward' is not whitelisted"),
    (("--network", "host", "--sysctl", "net.ipv4.ip_forward=1"),
     "sysctl 'net.ipv4.ip_forward' not allowed in host network namespace"),
    (("--oom-score-adj", "1001"), "Invalid value 1001, range for oom score adj is [-1000, 1000]"),
    (("--memory-swappiness", "101"), "Invalid value: 101, valid memory swappiness range is 0-100"),
    (("--memory-reservation", "1k"), "Minimum memory reservation allowed is 6MB"),
    (("-m", "10m", "--memory-reservation", "20m"),
     "Minimum memory limit can not be less than memory reservation limit, see usage"),
    (("--cpus", "1", "--cpu-period", "50000"), "Conflicting options: Nano CPUs and CPU Period cannot both be set"),
    (("--cpus", "1", "--cpu-quota", "50000"), "Conflicting options: Nano CPUs and CPU Quota cannot both be set"),
    (("--cpu-period", "10"), "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)"),
    (("--cpu-quota", "10"), "CPU cfs quota can not be less than 1ms (i.e. 1000)"),
    (("--pid", "bogus"), "--pid: invalid PID mode"),
    (("--ipc", "container:"), "--ipc: invalid IPC mode"),
    (("--uts", "container:x"), "--uts: invalid UTS mode"),
    (("--cgroupns", "x"), "--cgroupns: invalid cgroup namespace mode"),
    (("--userns", "keep-id"), "--userns: invalid USER mode"),
    (("--storage-opt", "size=1G"), "--storage-opt is supported only for overlay over xfs with 'pquota' mount option"),
    (("--storage-opt", "size"), "invalid storage option"),
    (("--volume-driver", "nfs", "-v", "data:/d"), 'create data: error looking up volume plugin nfs: plugin "nfs" '
                                                  "not found"),
    (("--uts", "host", "-h", "x"), "Conflicting options: hostname and the UTS mode"),
    (("--ipc", "container:nosuch_ctr"), "No such container: nosuch_ctr"),
    (("--volumes-from", "nosuch_ctr"), "No such container: nosuch_ctr"),
    (("--device", "/dev/nonexistent"),
     'error gathering device information while adding custom device "/dev/nonexistent": no such file or directory'),
    (("--device", "/etc/passwd"),
     'error gathering device information while adding custom device "/etc/passwd": not a device node'),
    (("--device", "/dev/null:relative"), 'invalid argument "/dev/null:relative" for "--device" flag: relative is '
                                         "not an absolute path"),
    (("--log-driver", "syslog"), "logger: no log driver named 'syslog' is registered"),
    (("--log-opt", "max-size=0"), "max-size must be a positive number"),
    (("--log-opt", "max-size=ten"), "invalid size: 'ten'"),
    (("--log-opt", "max-file=0"), "max-file cannot be less than 1"),
    (("--log-opt", "bogus=1"), "unknown log opt 'bogus' for json-file log driver"),
    (("--log-driver", "none", "--log-opt", "max-size=1m"), "unknown log opt 'max-size' for none log driver"),
    (("--log-opt", "max-size"), 'invalid key value pair format: "max-size"'),
    (("--no-healthcheck", "--health-cmd", "true"), "--no-healthcheck conflicts with --health-* options"),
    (("--health-interval", "-1s"), "--health-interval cannot be negative"),
    (("--health-interval", "10us"), "Interval in Healthcheck cannot be less than 1ms"),
    (("--health-timeout", "x"), 'invalid argument "x" for "--health-timeout" flag: time: invalid duration "x"'),
    (("--health-retries", "-1"), "--health-retries cannot be negative"),
    (("--expose", "80:80"), "invalid port format for --expose: 80:80"),
    (("--expose", "abc"), 'invalid range format for --expose: abc, error: strconv.ParseUint: parsing "abc": '
                          "invalid syntax"),
    (("--expose", "70000"), 'invalid range format for --expose: 70000, error: strconv.ParseUint: parsing '
                            '"70000": value out of range'),
    (("--expose", "81-80"), "invalid range format for --expose: 81-80, error: invalid range specified for port: "
                            "81-80"),
    (("--expose", "/udp"), "invalid range format for --expose: /udp, error: empty string specified for ports"),
]


@pytest.mark.parametrize(("args", "words"), BAD_CREATE)
@pytest.mark.parametrize("verb", [("create",), ("run",)])
def test_bad_input_is_refused_at_create(sk, args, words, verb):  # type: ignore[no-untyped-def]
    before = sk.out("ps", "-aq")
    cp = sk(*verb, *NONE, *args, "busybox", "true", check=False)
    err = cp.stderr.decode().strip()
    assert cp.returncode == 125 and err.startswith("Error: ") and words in err and len(err.splitlines()) == 1
    assert sk.out("ps", "-aq") == before


def test_userns_and_volume_driver_are_recorded(sk, name):  # type: ignore[no-untyped-def]
    sk("create", "--name", name, *NONE, "--userns", "host", "--volume-driver", "nfs", "busybox")  # no volume
    try:
        hc = _inspect(sk, name)["HostConfig"]
        assert hc["UsernsMode"] == "host" and hc["VolumeDriver"] == "nfs"
    finally:
        sk("rm", name)


def test_expose_ranges_are_one_key_per_port(sk, name):  # type: ignore[no-untyped-def]
    sk("create", "--name", name, *NONE, "--expose", "100-102/udp", "--expose", "7", "busybox")
    try:
        assert sorted(_inspect(sk, name)["Config"]["ExposedPorts"]) == ["100/udp", "101/udp", "102/udp", "7/tcp"]
    finally:
        sk("rm", name)


def test_shm_size_zero_is_the_default(sk):  # type: ignore[no-untyped-def]
    out = sk.out("run", "--rm", *NONE, "--shm-size", "0", "busybox", "df", "-k", "/dev/shm")
    assert out.splitlines()[1].split()[1] == "65536"


def test_add_host_forms_on_every_network_mode(sk, name):  # type: ignore[no-untyped-def]
    hosts = sk.out("run", "--rm", *NONE, "--add-host", "eq=10.1.2.3", "--add-host", "col:10.1.2.4",
                   "--add-host", "six:[::1]", "--add-host", "gw:host-gateway", "busybox", "cat", "/etc/hosts")
    lines = hosts.splitlines()
    assert "10.1.2.3\teq" in lines and "10.1.2.4\tcol" in lines and "::1\tsix" in lines
    gw = next(line.split("\t")[0] for line in lines if line.endswith("\tgw"))
    assert gw != "host-gateway" and gw.count(".") == 3
    sk("create", "--name", name, *NONE, "--add-host", "eq=10.1.2.3", "--add-host", "six:[::1]", "busybox")
    assert _inspect(sk, name)["HostConfig"]["ExtraHosts"] == ["eq:10.1.2.3", "six:::1"]  # Docker's stored form
    sk("rm", name)


def test_primary_group_is_a_supplementary_group(sk):  # type: ignore[no-untyped-def]
    for user in ("1000", "app"):
        assert sk.out("run", "--rm", *NONE, "-u", user, "busybox", "id").strip() == \
            "uid=1000(app) gid=1000(app) groups=1000(app),2000(extra)"
    assert sk.out("run", "--rm", *NONE, "-u", "app:app", "busybox", "id").strip() == \
        "uid=1000(app) gid=1000(app) groups=1000(app)"


@pytest.mark.parametrize(("argv", "message"), [
    (("run",), '"skiff run" requires at least 1 argument.'),
    (("create",), '"skiff create" requires at least 1 argument.'),
    (("container", "run"), '"skiff container run" requires at least 1 argument.'),
    (("exec",), '"skiff exec" requires at least 2 arguments.'),
    (("exec", "some_container"), '"skiff exec" requires at least 2 arguments.'),
    # too many: docker/cli's ExactArgs, RequiresRangeArgs, RequiresMaxArgs and NoArgs
    (("logs", "a", "b"), '"skiff logs" requires exactly 1 argument.'),
    (("rename", "a", "b", "c"), '"skiff rename" requires exactly 2 arguments.'),
    (("port", "a", "80", "81"), '"skiff port" requires at least 1 and at most 2 arguments.'),
    (("images", "a", "b"), '"skiff images" accepts at most 1 argument.'),
    (("version", "x"), '"skiff version" accepts no arguments.'),
], ids=["run", "create", "container-run", "exec", "exec-1", "logs-2", "rename-3", "port-3", "images-2", "version-1"])
def test_missing_arguments(sk, argv, message):  # type: ignore[no-untyped-def]
    cp = sk(*argv, check=False)
    prog = message.split('"')[1]
    assert cp.returncode == 1
    assert cp.stderr.decode() == f"Error: {message}\nSee '{prog} --help'.\n"


def test_label_file(sk, name, tmp_path: Path):  # type: ignore[no-untyped-def]
    f = tmp_path / "labels"
    f.write_text("# a comment\n\na=1\n  b=from file\nbare\n")
    sk("create", "--name", name, "--label-file", str(f), "-l", "b=flag", "busybox")
    labels = _inspect(sk, name)["Config"]["Labels"]
    assert labels == {"a": "1", "b": "flag", "bare": ""}
    sk("rm", name)


@pytest.mark.parametrize(("opts", "nnp"), [((), "1"), (("--privileged",), "0"),
                                           (("--privileged", "--security-opt", "no-new-privileges"), "1"),
                                           (("--security-opt", "no-new-privileges=false"), "0")])
def test_no_new_privileges_default_and_privileged(sk, name, opts, nnp):  # type: ignore[no-untyped-def]
    out = sk.out("run", "--rm", *NONE, *opts, "busybox", "grep", "NoNewPrivs", "/proc/self/status")
    assert out.split() == ["NoNewPrivs:", nnp]
    sk("run", "-d", "--name", name, *NONE, *opts, "busybox", "sleep", "60")
    try:  # an exec inherits the container's setting
        out = sk.out("exec", name, "grep", "NoNewPrivs", "/proc/self/status")
        assert out.split() == ["NoNewPrivs:", nnp]
    finally:
        sk("rm", "-f", name)
