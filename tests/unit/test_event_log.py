"""skiff.events: the event log (appends, rotation, following) and moby's filter rules, data-driven."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.tz import local_zone
from skiff import events


def _container(action: str, cid: str, name: str, image: str = "busybox", **extra: str) -> dict[str, object]:
    return events.message("container", action, cid, {"image": image, "name": name, **extra}, time_ns=10**18)


def test_message_is_dockers_json() -> None:
    m = events.message("container", "die", "abc", {"name": "web", "image": "busybox", "exitCode": "0"},
                       time_ns=1_700_000_000_123_456_789)
    assert list(m) == ["status", "id", "from", "Type", "Action", "Actor", "scope", "time", "timeNano"]
    assert m["from"] == "busybox" and m["time"] == 1_700_000_000 and m["timeNano"] == 1_700_000_000_123_456_789
    assert list(m["Actor"]["Attributes"]) == ["exitCode", "image", "name"]  # type: ignore[index]
    net = events.message("network", "connect", "n1", {"container": "abc", "name": "bridge", "type": "bridge"})
    assert list(net) == ["Type", "Action", "Actor", "scope", "time", "timeNano"]  # no deprecated fields
    img = events.message("image", "tag", "sha256:x", {"name": "app:1"})
    assert img["status"] == "tag" and img["id"] == "sha256:x" and "from" not in img


def test_pretty_is_docker_clis_line() -> None:
    m = events.message("container", "start", "abc", {"name": "web", "image": "busybox", "a": "b"},
                       time_ns=1_700_000_000_000_000_042)
    with local_zone("UTC"):
        assert events.pretty(m) == ("2023-11-14T22:13:20.000000042Z container start abc "
                                    "(a=b, image=busybox, name=web)")
    with local_zone("EST+5"):
        assert events.rfc3339_nano_fixed(1_700_000_000_000_000_000) == "2023-11-14T17:13:20.000000000-05:00"
    bare = events.message("volume", "create", "v", {}, time_ns=1_700_000_000_000_000_000)
    assert events.pretty(bare).endswith(" volume create v")


def test_emit_appends_and_rotates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(events, "MAX_SIZE", 2000)
    for i in range(40):
        events.emit(tmp_path, "volume", "create", f"v{i}", {"driver": "local"})
    path = events.log_path(tmp_path)
    assert os.path.exists(path + ".1")  # rotated at least once: the log holds the newest events only
    assert not os.path.exists(path) or os.path.getsize(path) <= 2000 + 300  # just rotated: no log until the next
    got, follower = events.read_all(tmp_path)
    ids = [m["Actor"]["ID"] for m in got]  # type: ignore[index]
    assert ids == [f"v{i}" for i in range(40 - len(ids), 40)]  # in order, newest last, none twice
    follower.close()


def test_emit_never_fails(tmp_path: Path) -> None:
    (tmp_path / "events").write_text("not a folder")  # the log cannot be made
    events.emit(tmp_path, "volume", "create", "v")  # no exception: the command goes on


def test_follower_reads_through_rotations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(events, "MAX_SIZE", 1500)
    past, follower = events.read_all(tmp_path)  # no log yet
    assert past == []
    seen: list[str] = []
    for i in range(60):
        events.emit(tmp_path, "volume", "create", f"v{i}")
        if i % 7 == 0:  # read between some writes: each rotation falls between two reads
            seen += [m["Actor"]["ID"] for m in follower.read()]  # type: ignore[index]
    seen += [m["Actor"]["ID"] for m in follower.read()]  # type: ignore[index]
    follower.close()
    assert seen == [f"v{i}" for i in range(60)]


def test_concurrent_writers_never_interleave(tmp_path: Path) -> None:
    big = "x" * 3000  # lines longer than a pipe buffer still arrive whole (one write on O_APPEND)

    def writer(n: int) -> None:
        for i in range(50):
            events.emit(tmp_path, "container", "create", f"{n}-{i}", {"name": big, "image": "busybox"})

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lines = Path(events.log_path(tmp_path)).read_bytes().splitlines()
    for line in lines:
        json.loads(line)
    assert len(lines) == 200 or os.path.exists(events.log_path(tmp_path) + ".1")


def test_a_torn_or_foreign_line_is_skipped(tmp_path: Path) -> None:
    events.emit(tmp_path, "volume", "create", "a")
    with open(events.log_path(tmp_path), "ab") as f:
        f.write(b"garbage\n{\"no\": \"time\"}\n")
    events.emit(tmp_path, "volume", "create", "b")
    with open(events.log_path(tmp_path), "ab") as f:
        f.write(b'{"Type":"volume","Action":"create"')  # a line being written: not read yet
    got, follower = events.read_all(tmp_path)
    follower.close()
    assert [m["Actor"]["ID"] for m in got] == ["a", "b"]  # type: ignore[index]


WEB = _container("start", "0123abcd" * 8, "web", image="busybox:latest", a="b")
WEB_EXEC = _container("exec_create: sh -c ls", "0123abcd" * 8, "web", execID="e1")
DB = _container("die", "fedc" * 16, "db", image="docker.io/library/redis:7", exitCode="1")
IMG = events.message("image", "tag", "sha256:" + "ab" * 32, {"name": "app:1", "maintainer": "me"})
NET = events.message("network", "connect", "n" * 64, {"container": "0123abcd" * 8, "name": "bridge",
                                                       "type": "bridge"})
VOL = events.message("volume", "create", "data", {"driver": "local"})
ALL = [WEB, WEB_EXEC, DB, IMG, NET, VOL]

# (filters, the events they keep): moby's daemon/events/filter.go
FILTER_CASES = [
    ({}, ALL),
    ({"type": ["container"]}, [WEB, WEB_EXEC, DB]),
    ({"type": ["image", "volume"]}, [IMG, VOL]),
    ({"event": ["start", "die"]}, [WEB, DB]),
    ({"event": ["exec_create"]}, [WEB_EXEC]),  # the three with a suffix match by prefix
    ({"event": ["exec_create: sh -c ls"]}, [WEB_EXEC]),
    ({"event": ["exec"]}, []),  # any other event value matches exactly
    ({"container": ["web"]}, [WEB, WEB_EXEC]),
    ({"container": ["we"]}, [WEB, WEB_EXEC]),  # a prefix of the name or ID
    ({"container": ["0123"]}, [WEB, WEB_EXEC]),
    ({"container": ["web", "db"]}, [WEB, WEB_EXEC, DB]),
    ({"container": ["web"], "event": ["start"]}, [WEB]),
    ({"image": ["busybox"]}, [WEB, WEB_EXEC]),  # WEB's "busybox:latest" with its tag stripped
    ({"image": ["busybox:latest"]}, [WEB]),
    ({"image": ["redis"]}, [DB]),  # the familiar name of docker.io/library/redis:7
    ({"image": ["app"]}, [IMG]),
    ({"image": ["sha256:" + "ab" * 32]}, [IMG]),
    ({"label": ["a"]}, [WEB]),
    ({"label": ["a=b"]}, [WEB]),
    ({"label": ["a=c"]}, []),
    ({"label": ["a", "image=busybox:latest"]}, [WEB]),  # every label value must hold
    ({"label": ["maintainer=me"]}, [IMG]),
    ({"volume": ["data"]}, [VOL]),
    ({"network": ["bridge"]}, [NET]),
    ({"network": ["nnn"]}, [NET]),
    ({"scope": ["local"]}, ALL),
    ({"scope": ["swarm"]}, []),
    ({"daemon": ["x"]}, []),
]


@pytest.mark.parametrize(("flt", "kept"), FILTER_CASES, ids=[json.dumps(c[0]) for c in FILTER_CASES])
def test_filters(flt: dict[str, list[str]], kept: list[dict[str, object]]) -> None:
    assert [m for m in ALL if events.matches(m, flt)] == kept


def test_since_and_until_select_by_time() -> None:
    msgs = [events.message("volume", "create", str(i), time_ns=i * 1000) for i in range(10)]
    assert [m["Actor"]["ID"] for m in events.select(msgs, {}, 3000, 6000)] == ["3", "4", "5", "6"]  # type: ignore[index]
    assert len(list(events.select(msgs, {}, None, None))) == 10


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["container", "image", "volume", "network"]), max_size=3),
       st.lists(st.sampled_from(["start", "die", "tag", "create", "connect"]), max_size=3))
def test_filters_narrow_never_widen(types: list[str], actions: list[str]) -> None:
    """Adding a filter key never lets more events through; each kept event has a listed type and action."""
    f: dict[str, list[str]] = {}
    if types:
        f["type"] = types
    if actions:
        f["event"] = actions
    kept = [m for m in ALL if events.matches(m, f)]
    for m in kept:
        assert not types or m["Type"] in types
        assert not actions or m["Action"] in actions
    narrower = [m for m in ALL if events.matches(m, {**f, "scope": ["local"], "label": ["a"]})]
    assert all(m in kept for m in narrower)
