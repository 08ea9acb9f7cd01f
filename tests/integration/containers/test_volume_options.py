"""The local volume driver's options (moby's volume/local): a device mounted on the volume's _data while
containers use it (tmpfs, a bind of a host folder, --mount volume-opt=...), unmounted after the last one,
with moby's checks and errors; a failed mount leaves nothing behind."""

from __future__ import annotations

import json
import os

import pytest


def _mounted(path: str) -> bool:
    real = os.path.realpath(path)
    with open("/proc/self/mountinfo") as f:
        return any(line.split()[4] == real for line in f)


def _data(sk, vol: str) -> str:  # type: ignore[no-untyped-def]
    return json.loads(sk.out("volume", "inspect", vol))[0]["Mountpoint"]


def test_tmpfs_volume_mounted_while_used(sk, name):  # type: ignore[no-untyped-def]
    vol, a, b = f"{name}-v", f"{name}-a", f"{name}-b"
    sk("volume", "create", "-o", "type=tmpfs", "-o", "device=tmpfs", "-o", "o=size=8m,uid=1000,mode=0750", vol)
    try:
        data = _data(sk, vol)
        assert json.loads(sk.out("volume", "inspect", vol))[0]["Options"] == {
            "type": "tmpfs", "device": "tmpfs", "o": "size=8m,uid=1000,mode=0750"}
        assert not _mounted(data)
        sk("run", "-d", "--name", a, "-v", f"{vol}:/data", "busybox", "sleep", "600")
        sk("run", "-d", "--name", b, "-v", f"{vol}:/data", "busybox", "sleep", "600")
        assert _mounted(data)
        df = sk.out("exec", a, "df", "-k", "/data").splitlines()[-1].split()
        assert df[0] == "tmpfs" and df[1] == "8192"
        assert sk.out("exec", a, "stat", "-c", "%u %a", "/data").strip() == "1000 750"
        sk("exec", a, "sh", "-c", "echo shared > /data/f")
        assert sk.out("exec", b, "cat", "/data/f") == "shared\n"  # one mount for both users
        sk("stop", "-t", "0", a)
        assert _mounted(data) and sk.out("exec", b, "cat", "/data/f") == "shared\n"
        sk("rm", "-f", b)  # the last user: unmounted
        assert not _mounted(data) and not os.listdir(data)
        sk("start", a)  # mounted again for it: a new, empty tmpfs
        assert _mounted(data) and sk.out("exec", a, "ls", "/data") == ""
        sk("rm", "-f", a)
        assert not _mounted(data)
    finally:
        sk("rm", "-f", a, b, check=False)
        sk("volume", "rm", "-f", vol, check=False)
    assert not os.path.exists(data)


def test_bind_volume_and_mount_volume_opt(sk, name, tmp_path):  # type: ignore[no-untyped-def]
    host = tmp_path / "srv"
    host.mkdir()
    vol, vol2 = f"{name}-bind", f"{name}-opt"
    sk("volume", "create", "--opt", "type=none", "--opt", f"device={host}", "--opt", "o=bind", vol)
    try:
        # an empty volume is populated from the image at first use, through the mount: into the host folder
        sk("run", "--rm", "-v", f"{vol}:/etc", "busybox", "sh", "-c", "echo hi > /etc/added")
        assert (host / "added").read_text() == "hi\n" and (host / "passwd").exists()
        assert not _mounted(_data(sk, vol))
        out = sk.out("run", "--rm", "--mount",
                     f'type=volume,src={vol2},dst=/d,volume-opt=type=tmpfs,volume-opt=device=tmpfs,'
                     f'"volume-opt=o=size=4m,mode=1777"', "busybox", "sh", "-c", "stat -c %a /d; df -k /d")
        assert out.splitlines()[0] == "1777" and out.splitlines()[-1].split()[1] == "4096"
        assert json.loads(sk.out("volume", "inspect", vol2))[0]["Options"] == {
            "type": "tmpfs", "device": "tmpfs", "o": "size=4m,mode=1777"}
    finally:
        sk("volume", "rm", "-f", vol, vol2, check=False)
    assert host.is_dir() and (host / "added").exists()  # the host folder is not the volume's to delete


@pytest.mark.parametrize(("opts", "words"), [
    (("-o", "foo=bar"), 'invalid option: "foo"'),
    (("-o", "type=tmpfs"), 'missing required option: "device"'),
    (("-o", "device=tmpfs"), 'missing required option: "type"'),
    (("-o", "o=ro"), 'missing required option: "device"'),
    (("-o", "type=tmpfs", "-o", "device=tmpfs", "-o", "size=1g"), "quota size requested but no quota support"),
], ids=["unknown", "no-device", "no-type", "o-alone", "size"])
def test_bad_options_refused(sk, name, opts, words):  # type: ignore[no-untyped-def]
    cp = sk("volume", "create", *opts, name, check=False)
    assert cp.returncode == 1 and f"create {name}: {words}" in cp.stderr.decode()
    assert name not in sk.out("volume", "ls", "-q").split()


def test_failed_mount_leaves_nothing(sk, name):  # type: ignore[no-untyped-def]
    vol = f"{name}-bad"
    sk("volume", "create", "-o", "type=nosuchfs", "-o", "device=none", vol)
    try:
        data = _data(sk, vol)
        words = f"error while mounting volume '{data}': failed to mount local volume: mount none:{data}: no such device"
        # mounted at create for the copy of the image's content (as moby does): create fails, nothing is made
        cp = sk("run", "--name", name, "-v", f"{vol}:/d", "busybox", "true", check=False)
        assert cp.returncode == 125 and words in cp.stderr.decode()
        assert name not in sk.out("ps", "-a", "--format", "{{.Names}}").split()
        # without the copy (volume-nocopy) the start is the first mount: the container stays created
        cp = sk("run", "--name", name, "--mount", f"type=volume,src={vol},dst=/d,volume-nocopy", "busybox", "true",
                check=False)
        assert cp.returncode == 125 and words in cp.stderr.decode()
        assert sk.out("inspect", "-f", "{{.State.Status}}", name).strip() == "created"
        assert not _mounted(data)
        assert not os.listdir(sk.runroot / "volumes" / vol)  # no user left marked
        sk("rm", name)
        sk("volume", "rm", vol)
    finally:
        sk("rm", "-f", name, check=False)
        sk("volume", "rm", "-f", vol, check=False)


def test_volume_rm_unmounts_what_a_crashed_user_left(sk, name):  # type: ignore[no-untyped-def]
    vol = f"{name}-v"
    sk("volume", "create", "-o", "type=tmpfs", "-o", "device=tmpfs", vol)
    try:
        data = _data(sk, vol)
        sk("run", "-d", "--name", name, "-v", f"{vol}:/d", "busybox", "sleep", "600")
        assert _mounted(data)
        cid = sk.out("inspect", "-f", "{{.Id}}", name).strip()
        sk("rm", "-f", name)
        # a user that vanished without its clean-up (its marker stays, the mount too)
        (sk.runroot / "volumes" / vol).mkdir(parents=True, exist_ok=True)
        (sk.runroot / "volumes" / vol / cid).touch()
        sk("run", "--rm", "-v", f"{vol}:/d", "busybox", "true")
        assert _mounted(data)  # still held for the vanished user
        sk("volume", "rm", vol)
        assert not _mounted(data) and not os.path.exists(data)
    finally:
        sk("rm", "-f", name, check=False)
        sk("volume", "rm", "-f", vol, check=False)
