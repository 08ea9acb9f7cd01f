"""`skiff cp` on a stopped container sees its volumes and bind mounts, as Docker's does: they are mounted on
their destinations in a private mount namespace for the copy only (nothing is left mounted on the host, even
after an error), a read-only mount refuses a write with Docker's one line, symlinks inside a volume stay
inside the container, and a mount destination that is a symlink cannot put the volume outside the rootfs.
diff and commit still leave volumes out."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

NONE = ("--network", "none")


@pytest.fixture
def made(sk) -> Iterator[list[tuple[str, str]]]:  # type: ignore[no-untyped-def]
    """("container" | "volume" | "image", name) to remove at the end, whatever happened."""
    things: list[tuple[str, str]] = []
    try:
        yield things
    finally:
        for kind, n in reversed(things):
            if kind == "container":
                sk("rm", "-f", "-v", n, check=False)
            elif kind == "volume":
                sk("volume", "rm", "-f", n, check=False)
            else:
                sk("rmi", "-f", n, check=False)


def _mounted_under(*paths: Path | str) -> list[str]:
    """/proc/self/mountinfo lines (the test's namespace: the host's) naming any of ``paths`` (other tests may
    mount elsewhere at the same time, so only this test's paths are looked at)."""
    with open("/proc/self/mountinfo", encoding="utf-8") as f:
        return [line for line in f.read().splitlines() if any(str(p) in line for p in paths)]


def _volume(sk, made, name: str) -> Path:  # type: ignore[no-untyped-def]
    sk("volume", "create", name)
    made.append(("volume", name))
    return Path(sk.out("volume", "inspect", "-f", "{{.Mountpoint}}", name).strip())


def _exited(sk, made, name: str, *args: str, script: str = "true") -> None:  # type: ignore[no-untyped-def]
    made.append(("container", name))
    sk("run", "--name", name, *NONE, *args, "busybox", "sh", "-c", script)


def test_cp_out_of_a_named_volume_of_an_exited_container(sk, made, name, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    vol = f"{name}_vol"
    data = _volume(sk, made, vol)
    _exited(sk, made, name, "-v", f"{vol}:/data", script="echo in-volume > /data/f && mkdir /data/sub && "
                                                           "echo deep > /data/sub/g")
    sk("cp", f"{name}:/data/f", str(tmp_path / "f"))
    assert (tmp_path / "f").read_text() == "in-volume\n"
    sk("cp", f"{name}:/data", str(tmp_path / "data"))
    assert (tmp_path / "data" / "sub" / "g").read_text() == "deep\n"
    sk("cp", f"{name}:/", str(tmp_path / "root"))
    assert (tmp_path / "root" / "data" / "f").read_text() == "in-volume\n"
    assert not _mounted_under(data, sk.root)


def test_cp_into_a_named_volume_is_read_back_by_a_new_container(sk, made, name, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    vol = f"{name}_vol"
    data = _volume(sk, made, vol)
    _exited(sk, made, name, "-v", f"{vol}:/data")
    (tmp_path / "new").write_text("from host\n")
    (tmp_path / "tree" / "in").mkdir(parents=True)
    (tmp_path / "tree" / "in" / "x").write_text("x\n")
    sk("cp", str(tmp_path / "new"), f"{name}:/data/new")
    sk("cp", str(tmp_path / "tree"), f"{name}:/data")
    assert (data / "new").read_text() == "from host\n" and (data / "tree" / "in" / "x").read_text() == "x\n"
    out = sk.out("run", "--rm", *NONE, "-v", f"{vol}:/data", "busybox", "cat", "/data/new", "/data/tree/in/x")
    assert out == "from host\nx\n"
    # Docker leaves volumes out of diff and commit: the copy is in the volume, not in the container's layer
    assert "/data/new" not in sk.out("diff", name) and "/data/tree" not in sk.out("diff", name)
    image = f"{name}_img"
    made.append(("image", image))
    sk("commit", name, image)
    assert sk("run", "--rm", *NONE, image, "test", "-e", "/data/new", check=False).returncode == 1
    assert not _mounted_under(data, sk.root)


def test_cp_through_a_bind_mount_of_a_host_folder(sk, made, name, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bind = tmp_path / "bind"
    bind.mkdir()
    (bind / "pre").write_text("on host\n")
    _exited(sk, made, name, "-v", f"{bind}:/mnt/b")
    sk("cp", f"{name}:/mnt/b/pre", str(tmp_path / "pre"))
    assert (tmp_path / "pre").read_text() == "on host\n"
    (tmp_path / "in").write_text("in\n")
    sk("cp", str(tmp_path / "in"), f"{name}:/mnt/b/")
    assert (bind / "in").read_text() == "in\n"
    assert "/mnt/b/in" not in sk.out("diff", name)
    assert not _mounted_under(bind, sk.root)


def test_cp_into_a_read_only_volume_is_refused(sk, made, name, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    vol = f"{name}_vol"
    data = _volume(sk, made, vol)
    (data / "kept").write_text("kept\n")
    _exited(sk, made, name, "-v", f"{vol}:/ro:ro")
    (tmp_path / "x").write_text("x\n")
    for dst in ("/ro", "/ro/", "/ro/x", "/ro/kept"):
        cp = sk("cp", str(tmp_path / "x"), f"{name}:{dst}", check=False)
        err = cp.stderr.decode()
        assert cp.returncode == 1, err
        assert err.count("\n") == 1 and "mounted volume is marked read-only" in err and "Traceback" not in err
    assert sorted(os.listdir(data)) == ["kept"] and (data / "kept").read_text() == "kept\n"
    sk("cp", f"{name}:/ro/kept", str(tmp_path / "kept"))  # reading is fine
    assert (tmp_path / "kept").read_text() == "kept\n"
    assert not _mounted_under(data, sk.root)


def test_cp_symlinks_in_a_volume_stay_in_the_container(sk, made, name, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    vol = f"{name}_vol"
    data = _volume(sk, made, vol)
    marker = f"skiff-cp-escape-{name}"
    _exited(sk, made, name, "-v", f"{vol}:/data",
            script="ln -s /../../../../.. /data/up && ln -s ../../../../../tmp /data/rel")
    (tmp_path / marker).write_text("x\n")
    for link in ("up", "rel"):
        sk("cp", str(tmp_path / marker), f"{name}:/data/{link}/")
    assert not os.path.exists(f"/{marker}") and not os.path.exists(f"/tmp/{marker}")
    sk("cp", f"{name}:/{marker}", str(tmp_path / "a"))
    sk("cp", f"{name}:/tmp/{marker}", str(tmp_path / "b"))
    assert (tmp_path / "a").read_text() == (tmp_path / "b").read_text() == "x\n"
    assert sorted(os.listdir(data)) == ["rel", "up"]


def test_a_symlinked_mount_destination_stays_in_the_rootfs(sk, made, name, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """An image whose /target is an absolute symlink to a host folder's path: the bind lands on that path
    inside the rootfs, never on the host folder."""
    host_dir = tmp_path / "host-victim"
    host_dir.mkdir()
    linky = f"{name}_linky"
    _exited(sk, made, f"{name}_src", script=f"ln -s /../../../..{host_dir} /target")
    made.append(("image", linky))
    sk("commit", f"{name}_src", linky)
    bind = tmp_path / "bind"
    bind.mkdir()
    made.append(("container", name))
    sk("create", "--name", name, *NONE, "-v", f"{bind}:/target", linky, "true")
    (tmp_path / "f").write_text("f\n")
    sk("cp", str(tmp_path / "f"), f"{name}:/target/")
    assert (bind / "f").read_text() == "f\n" and os.listdir(host_dir) == []
    assert not _mounted_under(bind, host_dir, sk.root)


def test_cp_errors_on_a_stopped_container_leave_nothing_mounted(sk, made, name, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    vol = f"{name}_vol"
    data = _volume(sk, made, vol)
    bind = tmp_path / "bind"
    bind.mkdir()
    _exited(sk, made, name, "-v", f"{vol}:/data", "-v", f"{bind}:/b")
    cp = sk("cp", f"{name}:/data/missing", str(tmp_path / "x"), check=False)
    assert cp.returncode == 1 and f"Could not find the file /data/missing in container {name}" in cp.stderr.decode()
    assert not _mounted_under(data, bind, sk.root)
    bind.rmdir()  # a bind source gone since: one line naming it, and nothing mounted
    cp = sk("cp", f"{name}:/data", str(tmp_path / "y"), check=False)
    err = cp.stderr.decode()
    assert cp.returncode == 1 and err.count("\n") == 1 and f"stat {bind}: no such file or directory" in err, err
    assert not _mounted_under(data, sk.root)
    assert not (tmp_path / "y").exists()


def test_cp_with_a_running_container_still_sees_its_volumes(sk, made, name, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    vol = f"{name}_vol"
    data = _volume(sk, made, vol)
    made.append(("container", name))
    sk("run", "-d", "--name", name, *NONE, "-v", f"{vol}:/data", "-v", f"{vol}:/ro:ro", "busybox",
       "sleep", "60")
    (tmp_path / "x").write_text("x\n")
    sk("cp", str(tmp_path / "x"), f"{name}:/data/x")
    assert (data / "x").read_text() == "x\n"
    sk("cp", f"{name}:/ro/x", str(tmp_path / "back"))
    assert (tmp_path / "back").read_text() == "x\n"
    cp = sk("cp", str(tmp_path / "x"), f"{name}:/ro/y", check=False)
    assert cp.returncode == 1 and "mounted volume is marked read-only" in cp.stderr.decode()
    sk("rm", "-f", name)
    assert not _mounted_under(data, sk.root)
