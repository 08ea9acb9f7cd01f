"""ps, port, stats and top against Docker's behaviour: filters (before/since, regular-expression names,
checked values, ancestors, ports, networks), --format headers and fields, the PORTS column, sizes."""

from __future__ import annotations

import json
import re
import socket

NONE = ("--network", "none")


def _err(cp) -> str:  # type: ignore[no-untyped-def]
    return cp.stderr.decode()


def test_ps_filters(sk, name):  # type: ignore[no-untyped-def]
    a, b, c = f"{name}_a", f"{name}_b", f"{name}_c"
    sk("create", "--name", a, *NONE, "--label", "tier=web", "busybox", "true")
    sk("run", "--name", b, *NONE, "busybox", "sh", "-c", "exit 4", check=False)
    sk("create", "--name", c, *NONE, "-v", "/data", "busybox", "true")

    def names(*filters: str, all: bool = True) -> list[str]:
        args = ["ps", *(["-a"] if all else [])]
        for f in filters:
            args += ["--filter", f]
        return sk.out(*args, "--format", "{{.Names}}").split()

    assert names(f"name={name}_") == [c, b, a]  # newest first
    assert names(f"before={c}", f"name={name}_") == [b, a]
    assert names(f"since={a}", f"name={name}_") == [c, b]
    assert names(f"since={a}", f"before={c}") == [b]
    assert names(f"name=^{a}$") == [a]
    assert names(f"name={name}_[ab]") == [b, a]
    assert names(f"name=/{name}_c") == [c]
    assert names("exited=4", f"name={name}_") == [b]
    assert names("exited=4", f"name={name}_", all=False) == []  # exited= does not imply -a, status= does
    assert names("status=created", f"name={name}_", all=False) == [c, a]
    assert names("health=none", f"name={name}_") == [c, b, a]
    assert names("health=healthy", f"name={name}_") == []
    assert names("is-task=false", f"name={name}_") == [c, b, a]
    assert names("is-task=true", f"name={name}_") == []
    assert names("network=none", f"name={name}_") == [c, b, a]
    assert names("network=bridge", f"name={name}_") == []
    assert names("volume=/data", f"name={name}_") == [c]
    assert names("expose=80", f"name={name}_") == []  # a stopped container has no ports
    for bad, message in [("status=rubbish", "invalid filter 'status=rubbish'"),
                         ("exited=x", "invalid filter 'exited=x': strconv.Atoi: parsing \"x\": invalid syntax"),
                         ("health=bogus", "Unrecognised filter value for health: bogus"),
                         ("is-task=maybe", "invalid filter 'is-task=[maybe]'"),
                         ("publish=1:2", "filter for 'publish' should not contain ':': 1:2"),
                         ("before=nobody-here", "No such container: nobody-here"),
                         ("bogus=1", "invalid filter 'bogus'")]:
        cp = sk("ps", "--filter", bad, check=False)
        assert (cp.returncode, _err(cp), cp.stdout) == (1, f"Error: {message}\n", b""), bad
    sk("rm", "-v", a, b, c)


def test_ps_ancestor_follows_derived_images(sk, name):  # type: ignore[no-untyped-def]
    sk("run", "--name", f"{name}_src", *NONE, "busybox", "touch", "/made")
    sk("commit", f"{name}_src", f"{name}:derived")
    sk("create", "--name", f"{name}_kid", *NONE, f"{name}:derived", "true")
    found = sk.out("ps", "-a", "--filter", "ancestor=busybox", "--format", "{{.Names}}").split()
    assert f"{name}_kid" in found and f"{name}_src" in found
    found = sk.out("ps", "-a", "--filter", f"ancestor={name}:derived", "--format", "{{.Names}}").split()
    assert found == [f"{name}_kid"]
    assert sk.out("ps", "-a", "--filter", "ancestor=no-such-image", "-q") == ""
    sk("rm", f"{name}_src", f"{name}_kid")
    sk("rmi", f"{name}:derived")


def test_ps_format_fields_and_headers(sk, name):  # type: ignore[no-untyped-def]
    sk("run", "--name", name, *NONE, "--label", "a=b", "-v", "/vol", "busybox", "sh", "-c",
       'head -c 5000 /dev/zero > /f; echo "a"')
    fmt = ("table {{.ID}}\t{{.RunningFor}}\t{{.CreatedAt}}\t{{.Command}}\t{{.Label \"a\"}}\t{{.Networks}}"
           "\t{{.Mounts}}\t{{.LocalVolumes}}\t{{.Size}}")
    header, line = sk.out("ps", "-a", "--filter", f"name=^{name}$", "--format", fmt).splitlines()
    assert re.split(r"\s{2,}", header) == ["CONTAINER ID", "CREATED", "CREATED AT", "COMMAND", "a", "NETWORKS",
                                          "MOUNTS", "LOCAL VOLUMES", "SIZE"]
    fields = re.split(r"\s{3,}", line)
    assert len(fields[0]) == 12 and fields[1].endswith(" ago")
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4} \S+", fields[2]), fields[2]
    assert fields[3] == '"sh -c \'head -c 5000…"'
    assert fields[4:8] == ["b", "none", fields[6][:14] + "…", "1"] and len(fields[6]) == 15
    assert fields[8].startswith("5kB (virtual ") and fields[8].endswith("MB)")
    full = sk.out("ps", "-a", "--no-trunc", "--filter", f"name=^{name}$", "--format", "{{.Command}}").strip()
    assert full == '"sh -c \'head -c 5000 /dev/zero > /f; echo \\"a\\"\'"'
    row = json.loads(sk.out("ps", "-a", "--filter", f"name=^{name}$", "--format", "json"))
    assert "Label" not in row and row["Labels"] == "a=b" and row["State"] == "exited"
    assert re.fullmatch(r"Exited \(0\) (Less than a second|\d+ seconds?) ago", row["Status"])
    lines = sk.out("ps", "-a", "-s", "--filter", f"name=^{name}$").splitlines()
    assert lines[0].split()[-2:] == ["NAMES", "SIZE"] and re.search(r" 5kB \(virtual [\d.]+[kM]B\)$", lines[1])
    sk("rm", "-v", name)


def _free_pair() -> int:
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            p = s.getsockname()[1]
        if p < 65535:
            try:
                with socket.socket() as s:
                    s.bind(("127.0.0.1", p + 1))
                return p
            except OSError:
                continue
    raise AssertionError("no two free consecutive ports")


def test_ports_port_and_stats_on_bridge(sk, name):  # type: ignore[no-untyped-def]
    p = _free_pair()
    sk("run", "-d", "--name", name, "-p", "127.0.0.1::80", "-p", f"127.0.0.1:{p}-{p + 1}:{p}-{p + 1}",
       "--expose", "99", "--expose", "200-202", "busybox", "sleep", "60")
    try:
        host80 = sk.out("port", name, "80").splitlines()
        assert len(host80) == 1 and re.fullmatch(r"127\.0\.0\.1:\d+", host80[0]) and host80[0] != "127.0.0.1:0"
        ports = sk.out("ps", "--filter", f"name=^{name}$", "--format", "{{.Ports}}").strip()
        # Docker 20.10's PORTS for the same flags: exposed ranges grouped, ranges of the same host port next
        assert ports == f"99/tcp, 200-202/tcp, 127.0.0.1:{p}-{p + 1}->{p}-{p + 1}/tcp, {host80[0]}->80/tcp"
        listing = sk.out("port", name).splitlines()
        assert listing == sorted(listing, key=lambda s: int(s.split("/")[0]))
        assert f"80/tcp -> {host80[0]}" in listing and f"{p}/tcp -> 127.0.0.1:{p}" in listing
        cp = sk("port", name, "82", check=False)
        assert (cp.returncode, _err(cp), cp.stdout) == (1, f"Error: No public port '82/tcp' published for {name}\n",
                                                        b"")
        for f, hit in [(f"publish={p}", True), (f"publish={p}-{p + 1}/tcp", True), ("expose=99", True),
                       ("expose=201", True), ("expose=198-200", True), ("expose=98", False), ("publish=99", False), ("network=bridge", True)]:
            assert (sk.out("ps", "-q", "--filter", f, "--filter", f"name=^{name}$") != "") is hit, f
        out = sk.out("stats", "--no-stream", "--format",
                     "table {{.Container}}\t{{.ID}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}", name).splitlines()
        assert re.split(r"\s{3,}", out[0]) == ["CONTAINER", "CONTAINER ID", "NET I/O", "BLOCK I/O", "PIDS"]
        cells = re.split(r"\s{3,}", out[1])
        assert cells[0] == name and len(cells[1]) == 12 and cells[4] == "1"
        assert re.fullmatch(r"[\d.]+k?B / [\d.]+k?B", cells[2]) and re.fullmatch(r"[\d.]+[kMG]?B / [\d.]+[kMG]?B",
                                                                                   cells[3])
        sk("stop", "-t", "0", name)
        assert sk.out("ps", "-a", "--filter", f"name=^{name}$", "--format", "{{.Ports}}|{{.Networks}}") == "|bridge\n"
        assert sk.out("port", name) == ""
        assert sk("port", name, "80", check=False).returncode == 1
    finally:
        sk("rm", "-f", name)


def test_top_columns_and_usage(sk, name):  # type: ignore[no-untyped-def]
    sk("run", "-d", "--name", name, *NONE, "busybox", "sleep", "60")
    try:
        lines = sk.out("top", name).splitlines()
        assert lines[0].startswith("UID" + " " * 17 + "PID" + " " * 17)  # docker/cli: minwidth 20, padding 3
        assert lines[1].split()[-2:] == ["sleep", "60"]
        wide = sk.out("top", name, "-o", "pid,args").splitlines()
        assert wide[0].split() == ["PID", "COMMAND"] and wide[0].startswith("PID" + " " * 17)
    finally:
        sk("rm", "-f", name)
    cp = sk("top", check=False)
    assert cp.returncode != 0 and "ps_args" not in _err(cp)
    assert _err(cp).startswith('Error: "skiff top" requires at least 1 argument.')  # docker/cli's RequiresMinArgs
    assert len(_err(cp).strip().splitlines()) <= 2


def test_a_record_cut_short_is_left_out_not_a_traceback(sk, name):  # type: ignore[no-untyped-def]
    """A container whose config.json a crash of the machine cut short: ps -a and container prune carry on
    without it; rm -f of it says what is wrong in one line."""
    cid = sk.out("create", "--name", f"{name}_ok", *NONE, "busybox", "true").strip()
    broken = sk.out("create", "--name", name, *NONE, "busybox", "true").strip()
    (sk.root / "containers" / broken / "config.json").write_bytes(b"")
    ids = sk.out("ps", "-aq", "--no-trunc").split()
    assert cid in ids and broken not in ids
    assert sk.out("container", "prune", "-f").split()[:3] == ["Deleted", "Containers:", cid]
    cp = sk("inspect", broken, check=False)
    assert cp.returncode == 1 and f"container {broken}: unreadable config.json" in cp.stderr.decode()
    assert cp.stderr.decode().count("\n") == 1
    import shutil

    shutil.rmtree(sk.root / "containers" / broken)  # what the fixture's clean-up cannot read
    (sk.root / "containers" / "names" / name).unlink()
