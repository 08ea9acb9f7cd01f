"""Volumes, binds, cp (both ways, symlink escapes), diff, export, commit."""

from __future__ import annotations

import json
import os
import tarfile
from pathlib import Path

NONE = ("--network", "none")


def test_named_volume_survives_rm_and_is_shared(sk, name):  # type: ignore[no-untyped-def]
    vol = f"{name}_vol"
    sk("run", "--rm", *NONE, "-v", f"{vol}:/data", "busybox", "sh", "-c", "echo kept > /data/f")
    assert vol in sk.out("volume", "ls", "-q").split()
    # another container sees it, also read-only
    assert sk.out("run", "--rm", *NONE, "-v", f"{vol}:/mnt:ro", "busybox", "cat", "/mnt/f") == "kept\n"
    cp = sk("run", "--rm", *NONE, "-v", f"{vol}:/mnt:ro", "busybox", "touch", "/mnt/x", check=False)
    assert cp.returncode != 0
    info = json.loads(sk.out("volume", "inspect", vol))[0]
    assert info["Name"] == vol and Path(info["Mountpoint"], "f").read_text() == "kept\n"
    # in use: refused
    sk("create", "--name", name, *NONE, "-v", f"{vol}:/data", "busybox", "true")
    cp = sk("volume", "rm", vol, check=False)
    assert cp.returncode == 1 and b"volume is in use" in cp.stderr
    sk("rm", name)
    sk("volume", "rm", vol)
    assert vol not in sk.out("volume", "ls", "-q").split()


def test_volume_populated_from_image_and_anonymous_removed_with_rm_v(sk, name):  # type: ignore[no-untyped-def]
    vol = f"{name}_etc"
    out = sk.out("run", "--rm", *NONE, "-v", f"{vol}:/etc", "busybox", "cat", "/etc/group")
    assert "app:x:1000" in out  # the image's content was copied into the new volume
    sk("volume", "rm", vol)
    sk("create", "--name", name, *NONE, "-v", "/anon", "busybox", "true")
    mounts = json.loads(sk.out("inspect", name))[0]["Mounts"]
    anon = mounts[0]["Name"]
    assert len(anon) == 64 and mounts[0]["Destination"] == "/anon"
    assert anon in sk.out("volume", "ls", "-q").split()
    sk("rm", "-v", name)
    assert anon not in sk.out("volume", "ls", "-q").split()


def test_bind_mount_ro_rw(sk, tmp_path: Path):  # type: ignore[no-untyped-def]
    d = tmp_path / "host"
    d.mkdir()
    (d / "in").write_text("from host\n")
    out = sk.out("run", "--rm", *NONE, "-v", f"{d}:/h", "busybox", "sh", "-c", "cat /h/in; echo back > /h/out")
    assert out == "from host\n" and (d / "out").read_text() == "back\n"
    cp = sk("run", "--rm", *NONE, "--mount", f"type=bind,source={d},target=/h,readonly", "busybox",
            "touch", "/h/nope", check=False)
    assert cp.returncode == 1 and not (d / "nope").exists()
    cp = sk("run", "--rm", *NONE, "--mount", f"type=bind,source={d}/missing,target=/h", "busybox", "true",
            check=False)
    assert cp.returncode == 125 and b"bind source path does not exist" in cp.stderr


def test_cp_both_ways_and_symlink_escape(sk, name, tmp_path: Path):  # type: ignore[no-untyped-def]
    sk("run", "-d", "--name", name, *NONE, "busybox", "sh", "-c",
       "mkdir -p /work/sub && echo inner > /work/sub/f && ln -s / /work/escape && ln -s /etc /work/etc "
       "&& sleep 60")
    import time

    time.sleep(0.5)
    # out: a file, a folder
    sk("cp", f"{name}:/work/sub/f", str(tmp_path / "f"))
    assert (tmp_path / "f").read_text() == "inner\n"
    sk("cp", f"{name}:/work", str(tmp_path / "w"))
    assert (tmp_path / "w" / "sub" / "f").read_text() == "inner\n"
    assert os.readlink(tmp_path / "w" / "escape") == "/"  # copied as a link, not followed
    # in: a host file into the container
    src = tmp_path / "hostfile"
    src.write_text("to container\n")
    sk("cp", str(src), f"{name}:/work/sub/")
    assert sk.out("exec", name, "cat", "/work/sub/hostfile") == "to container\n"
    # a symlink to / inside the container resolves inside the container, never on the host
    marker = tmp_path / "must-not-appear"
    sk("exec", name, "mkdir", "-p", str(tmp_path))  # as in Docker, the destination's parent must exist
    sk("cp", str(src), f"{name}:/work/escape{marker}")
    assert not marker.exists()
    assert sk.out("exec", name, "cat", str(marker)) == "to container\n"
    # reading through a link to /etc reads the container's /etc/passwd, not the host's
    sk("cp", f"{name}:/work/etc/passwd", str(tmp_path / "passwd"))
    assert "app:x:1000" in (tmp_path / "passwd").read_text()
    cp = sk("cp", f"{name}:/no/such", str(tmp_path / "x"), check=False)
    assert cp.returncode == 1 and b"Could not find the file" in cp.stderr
    sk("rm", "-f", name)


def test_diff_export_commit(sk, name, tmp_path: Path):  # type: ignore[no-untyped-def]
    sk("run", "--name", name, *NONE, "busybox", "sh", "-c", "echo new > /newfile; rm /etc/group")
    diff = sk.out("diff", name).splitlines()
    assert "A /newfile" in diff and "D /etc/group" in diff
    out = tmp_path / "fs.tar"
    sk("export", "-o", str(out), name)
    with tarfile.open(out) as t:
        names = t.getnames()
    assert any(n.lstrip("./") == "newfile" for n in names)
    assert not any(n.lstrip("./") == "etc/group" for n in names)
    image_id = sk.out("commit", "-c", 'CMD ["cat", "/newfile"]', "-m", "msg", "--author", "me", name,
                      f"{name}:v1").strip()
    assert image_id.startswith("sha256:")
    assert sk.out("run", "--rm", *NONE, f"{name}:v1") == "new\n"
    cp = sk("run", "--rm", *NONE, f"{name}:v1", "cat", "/etc/group", check=False)
    assert cp.returncode == 1
    sk("rm", name)
    sk("rmi", f"{name}:v1")
