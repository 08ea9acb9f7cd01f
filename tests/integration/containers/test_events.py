"""`skiff events`: the events real commands log, in Docker's order and shape, read back with --since/--until,
--filter and --format, and followed live."""

from __future__ import annotations

import json
import re
import select
import subprocess
import time

NONE = ("--network", "none")


def _events(sk, *args: str) -> list[dict]:  # type: ignore[no-untyped-def]
    time.sleep(0.01)  # --until is read in nanoseconds: past the last event
    until = f"{time.time():.9f}"
    out = sk.out("events", "--since", "10m", "--until", until, "--format", "{{json .}}", *args)
    return [json.loads(line) for line in out.splitlines()]


def _actions(msgs: list[dict], actor: str) -> list[str]:
    return [m["Action"] for m in msgs if m["Actor"]["ID"] == actor]


def test_run_rm_logs_dockers_lifecycle(sk, name):  # type: ignore[no-untyped-def]
    sk("run", "--rm", "--name", name, *NONE, "-l", "k=v", "busybox", "sh", "-c", "exit 3", check=False)
    msgs = _events(sk, "--filter", f"container={name}")
    cid = msgs[0]["id"]
    assert _actions(msgs, cid) == ["create", "attach", "start", "die", "destroy"]
    die = next(m for m in msgs if m["Action"] == "die")
    assert die["Actor"]["Attributes"] == {"exitCode": "3", "image": "busybox", "k": "v", "name": name}
    assert die["status"] == "die" and die["from"] == "busybox" and die["Type"] == "container"
    assert die["scope"] == "local" and die["time"] == die["timeNano"] // 10**9


def test_detached_lifecycle_and_exec(sk, name):  # type: ignore[no-untyped-def]
    cid = sk.out("run", "-d", "--name", name, *NONE, "busybox", "sleep", "600").strip()
    try:
        sk("exec", name, "sh", "-c", "exit 2", check=False)
        sk("pause", name)
        sk("unpause", name)
        sk("rename", name, name + "-2")
        sk("stop", "-t", "0", name + "-2")
        sk("start", name + "-2")
        sk("kill", name + "-2")
    finally:
        sk("rm", "-f", cid)
    msgs = _events(sk, "--filter", f"container={cid}")
    assert _actions(msgs, cid) == [
        "create", "start", "exec_create: sh -c exit 2", "exec_start: sh -c exit 2", "exec_die", "pause",
        "unpause", "rename", "kill", "kill", "die", "stop", "start", "kill", "die", "destroy"]
    by = {m["Action"]: m["Actor"]["Attributes"] for m in msgs}
    assert by["rename"]["oldName"] == "/" + name and by["rename"]["name"] == name + "-2"
    assert by["exec_die"]["exitCode"] == "2" and re.fullmatch("[0-9a-f]{64}", by["exec_die"]["execID"])
    assert by["kill"]["signal"] == "9" and by["die"]["exitCode"] == "137"
    assert [m["Actor"]["Attributes"]["signal"] for m in msgs if m["Action"] == "kill"] == ["15", "9", "9"]


def test_volume_mount_and_unmount(sk, name):  # type: ignore[no-untyped-def]
    sk("run", "--rm", "--name", name, *NONE, "-v", f"{name}:/data:ro", "busybox", "true")
    msgs = _events(sk, "--filter", f"volume={name}", "--filter", "type=volume")  # not the container's events
    assert [m["Action"] for m in msgs] == ["create", "mount", "unmount"]  # the named volume stays (no -v)
    cid = msgs[1]["Actor"]["Attributes"]["container"]
    assert msgs[1]["Actor"]["Attributes"] == {"container": cid, "destination": "/data", "driver": "local",
                                              "propagation": "", "read/write": "false"}
    assert msgs[2]["Actor"]["Attributes"] == {"container": cid, "driver": "local"}
    sk("volume", "rm", name)


def test_image_and_volume_events(sk, name):  # type: ignore[no-untyped-def]
    image_id = sk.out("inspect", "-f", "{{.Id}}", "busybox").strip()
    sk("tag", "busybox", f"{name}:1")
    sk("rmi", f"{name}:1")
    sk("volume", "create", name)
    sk("volume", "rm", name)
    msgs = _events(sk, "--filter", "type=image", "--filter", "type=volume")
    img = [(m["Action"], m["Actor"]["Attributes"]["name"]) for m in msgs if m["Type"] == "image"
           and m["Actor"]["ID"] == image_id]
    assert (("tag", f"{name}:1") in img) and ("untag", image_id) in img
    assert _actions(msgs, name) == ["create", "destroy"]
    assert all(m["Actor"]["Attributes"] == {"driver": "local"} for m in msgs if m["Actor"]["ID"] == name)
    assert "status" not in next(m for m in msgs if m["Type"] == "volume")


def test_filters_format_and_errors(sk, name):  # type: ignore[no-untyped-def]
    sk("run", "--rm", "--name", name, *NONE, "-l", f"grp={name}", "busybox", "true")
    until = f"{time.time() + 0.0:.9f}"
    out = sk.out("events", "--since", "10m", "--until", until, "--filter", f"label=grp={name}",
                 "--filter", "event=die", "--filter", "event=start",
                 "--format", "{{.Type}} {{.Status}} {{.Action}} {{.Actor.Attributes.name}} {{.From}} {{.Scope}}")
    assert out.splitlines() == [f"container start start {name} busybox local",
                                f"container die die {name} busybox local"]
    pretty = sk.out("events", "--since", "10m", "--until", until, "--filter", f"container={name}",
                    "--filter", "event=die").splitlines()
    assert len(pretty) == 1 and re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}(Z|[+-]\d\d:\d\d) container die [0-9a-f]{64} "
        rf"\(exitCode=0, grp={name}, image=busybox, name={name}\)", pretty[0]), pretty
    # a window before the container: nothing
    assert sk.out("events", "--since", "10m", "--until", "9m", "--filter", f"container={name}") == ""
    for args, message in ((("--filter", "bogus=1"), "invalid filter 'bogus'"),
                          (("--filter", "type"), "bad format of filter (expected name=value): type"),
                          (("--since", "yesterday"), 'failed to parse value as time or duration: "yesterday"'),
                          (("--since", "1m", "--until", "2m"), "cannot be after `until` time"),
                          (("--format", "{{.Nope}}", "--since", "10m", "--until", until),
                           "can't evaluate field Nope in type events.Message")):
        cp = sk("events", *args, check=False, timeout=10)
        assert cp.returncode != 0 and message in cp.stderr.decode(), (args, cp.stderr)
        assert len(cp.stderr.decode().strip().splitlines()) == 1 and cp.stdout == b""


def test_follow_streams_new_events_only(sk, name):  # type: ignore[no-untyped-def]
    sk("run", "--rm", "--name", name + "-old", *NONE, "busybox", "true")  # before: not streamed
    p = sk.popen("events", "--filter", "type=container", "--format", "{{.Action}} {{.Actor.Attributes.name}}",
                 stdout=subprocess.PIPE)
    try:
        time.sleep(0.5)  # the follower has opened the log
        sk("run", "--rm", "--name", name, *NONE, "busybox", "true")
        lines: list[str] = []
        deadline = time.monotonic() + 15
        buf = b""
        while time.monotonic() < deadline and not any(ln.startswith("destroy") for ln in lines):
            r, _, _ = select.select([p.stdout], [], [], 0.5)
            if r:
                chunk = p.stdout.read1(4096)  # type: ignore[union-attr]
                if not chunk:
                    break
                buf += chunk
                lines = buf.decode().splitlines()
        assert lines == [f"{a} {name}" for a in ("create", "attach", "start", "die", "destroy")]
    finally:
        p.kill()
        p.wait(timeout=10)


def test_until_in_the_future_ends_the_stream(sk, name):  # type: ignore[no-untyped-def]
    start = time.monotonic()
    p = sk.popen("events", "--until", f"{time.time() + 1.5:.3f}", "--filter", f"container={name}",
                 stdout=subprocess.PIPE)
    try:
        sk("run", "--rm", "--name", name, *NONE, "busybox", "true")
        out, _ = p.communicate(timeout=20)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(timeout=10)
    assert p.returncode == 0 and time.monotonic() - start >= 1.4
    assert [line.split()[2] for line in out.decode().splitlines()] == ["create", "attach", "start", "die",
                                                                         "destroy"]


def test_network_events(sk, name):  # type: ignore[no-untyped-def]
    net = name[:20] + "-net"
    sk("network", "create", net)
    try:
        sk("run", "--rm", "--network", net, "busybox", "true")
    finally:
        sk("network", "rm", net)
    msgs = _events(sk, "--filter", "type=network", "--filter", f"network={net}")
    assert [m["Action"] for m in msgs] == ["create", "connect", "disconnect", "destroy"]
    net_id = msgs[0]["Actor"]["ID"]
    assert all(m["Actor"]["ID"] == net_id for m in msgs) and len(net_id) == 64
    assert msgs[0]["Actor"]["Attributes"] == {"name": net, "type": "bridge"}
    cid = msgs[1]["Actor"]["Attributes"]["container"]
    assert len(cid) == 64 and msgs[2]["Actor"]["Attributes"] == {"container": cid, "name": net, "type": "bridge"}


def test_build_tags_are_logged(sk, name, tmp_path):  # type: ignore[no-untyped-def]
    (tmp_path / "Dockerfile").write_text("FROM busybox\nLABEL k=v\n")
    for _ in range(2):  # the second build is answered from the build memo: its tag is logged too
        sk("build", "-q", "-t", f"{name}:1", "-t", f"{name}:2", str(tmp_path))
    image_id = sk.out("inspect", "-f", "{{.Id}}", f"{name}:1").strip()
    msgs = _events(sk, "--filter", "type=image", "--filter", f"image={name}")
    assert [(m["Action"], m["Actor"]["ID"], m["Actor"]["Attributes"]) for m in msgs] == \
        [("tag", image_id, {"k": "v", "name": f"{name}:1"}), ("tag", image_id, {"k": "v", "name": f"{name}:2"})] * 2
    sk("tag", f"{name}:1", f"{name}:3")  # `tag` logs the image's labels too, as moby's LogImageEvent does
    sk("rmi", f"{name}:1", f"{name}:2", f"{name}:3")
    attrs = [m["Actor"]["Attributes"] for m in _events(sk, "--filter", f"image={image_id}")]
    assert {"k": "v", "name": f"{name}:3"} in attrs and {"k": "v", "name": image_id} in attrs  # tag; untag
