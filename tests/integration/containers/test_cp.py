"""`skiff cp` against a real running container, case by case against Docker's rules: tar streams on stdin and
stdout, the root file system (kernel mounts not entered), destination symlinks followed (inside the container
for container paths), '..' clamped at the root, -a ownership, and one-line errors that leave nothing behind."""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

NONE = ("--network", "none")
C = "cp_ctr"  # the module's running container
SETUP = ("mkdir -p /d/esc /d/sub && echo one > /d/f1 && echo sub > /d/sub/s && ln -s f1 /d/lnk "
         "&& ln -s /d/f1 /d/abs && ln -s /d/newfile /d/dangling && ln -s ../../../../d/sub /d/updir "
         "&& mkfifo /d/fifo && touch /ready && exec sleep 600")


@pytest.fixture(scope="module")
def ctr(sk):  # type: ignore[no-untyped-def]
    sk("run", "-d", "--name", C, *NONE, "busybox", "sh", "-c", SETUP)
    deadline = time.time() + 20
    while sk("exec", C, "test", "-e", "/ready", check=False).returncode != 0:
        assert time.time() < deadline, "container never became ready"
        time.sleep(0.05)
    try:
        yield sk
    finally:
        sk("rm", "-f", C, check=False)


@pytest.fixture
def host(tmp_path: Path) -> Iterator[Path]:
    (tmp_path / "hostfile").write_text("from host\n")
    (tmp_path / "hostdir" / "inner").mkdir(parents=True)
    (tmp_path / "hostdir" / "inner" / "x").write_text("x\n")
    yield tmp_path


def _listing(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def _ctr_leftovers(sk) -> str:  # type: ignore[no-untyped-def]
    return sk.out("exec", C, "find", "/", "-xdev", "-name", "*.skiff-cp-*")


ERRORS = [
    # (SRC, DEST, what stderr says); {h} is the host folder, C: the container
    ("C:/d/f1", "{h}/nonexistdir/x", 'invalid output path: directory "{h}/nonexistdir" does not exist'),
    ("C:/d", "{h}/hostfile", "cannot copy directory"),
    ("{h}/hostdir", "C:/d/f1", "cannot copy directory"),
    ("{h}/hostfile", "C:/d/f1/", "no such directory"),
    ("C:/d/f1", "{h}/hostfile/", "no such directory"),
    ("C:/d/f1/", "{h}/x", "lstat /d/f1/: not a directory"),
    ("C:/d/f1/.", "{h}/x", "not a directory"),
    ("{h}/hostfile/", "C:/d/", "not a directory"),
    ("C:/no/such", "{h}/x", f"Could not find the file /no/such in container {C}"),
    ("{h}/nope", "C:/d/", "lstat {h}/nope: no such file or directory"),
    ("{h}/hostfile", "C:/nonexist/x", f"Could not find the file /nonexist in container {C}"),
    ("{h}/hostfile", "C:/d/f1/x", "extraction point is not a directory"),
    ("{h}/hostfile", "C:/d/fifo", f'destination "{C}:/d/fifo" must be a directory or a regular file'),
    ("-", "C:/d/f1", f'destination "{C}:/d/f1" must be a directory'),
    ("-", "C:/d/nonexist", "must be a directory"),
    ("C:/d/f1", "C:/d/f2", "copying between containers is not supported"),
    ("{h}/hostfile", "{h}/other", "must specify at least one container source"),
    ("", "{h}/x", "source can not be empty"),
]


@pytest.mark.parametrize(("src", "dst", "message"), ERRORS)
def test_cp_errors_are_one_line_and_leave_nothing(ctr, host: Path, src: str, dst: str,  # type: ignore[no-untyped-def]
                                                  message: str) -> None:
    def fill(s: str) -> str:
        return s.replace("{h}", str(host)).replace("C:", f"{C}:")

    before = _listing(host)
    snap = ctr.out("exec", C, "ls", "-lR", "/d")
    cp = ctr("cp", fill(src), fill(dst), check=False, input=b"")
    err = cp.stderr.decode()
    assert cp.returncode == 1, err
    assert err.count("\n") == 1 and err.startswith("Error: ") and fill(message) in err, err
    assert "Traceback" not in err and "tar entry" not in err
    assert _listing(host) == before
    assert ctr.out("exec", C, "ls", "-lR", "/d") == snap


def test_cp_root_of_a_running_container(ctr, host: Path) -> None:  # type: ignore[no-untyped-def]
    for src in (f"{C}:/", f"{C}:/d/../../..", f"{C}:."):
        out = host / "root"
        cp = ctr("cp", src, str(out), check=False)
        assert cp.returncode == 0, cp.stderr.decode()
        assert (out / "bin" / "busybox").is_file() and (out / "d" / "f1").read_text() == "one\n"
        for kernel_fs in ("proc", "sys", "dev/pts", "dev/mqueue"):
            assert (out / kernel_fs).is_dir() and not os.listdir(out / kernel_fs), kernel_fs
        subprocess.run(["rm", "-rf", str(out)], check=True)
    cp = ctr("cp", f"{C}:/", "-")
    with tarfile.open(fileobj=io.BytesIO(cp.stdout)) as t:
        names = t.getnames()
    assert "bin/busybox" in names and "proc" in names and not [n for n in names if n.startswith("proc/")]


def test_cp_to_stdout_is_a_tar_named_after_the_base_name(ctr) -> None:  # type: ignore[no-untyped-def]
    with tarfile.open(fileobj=io.BytesIO(ctr("cp", f"{C}:/d/f1", "-").stdout)) as t:
        assert t.getnames() == ["f1"]
        assert t.extractfile("f1").read() == b"one\n"  # type: ignore[union-attr]
    with tarfile.open(fileobj=io.BytesIO(ctr("cp", f"{C}:/d", "-").stdout)) as t:
        members = {m.name: m for m in t.getmembers()}
    assert members["d"].isdir() and members["d/lnk"].issym() and members["d/lnk"].linkname == "f1"
    assert members["d/sub/s"].isfile() and members["d/fifo"].isfifo()
    with tarfile.open(fileobj=io.BytesIO(ctr("cp", f"{C}:/d/sub/.", "-").stdout)) as t:
        assert t.getnames() == ["s"]


@pytest.mark.parametrize("mode", ["w", "w:gz"])
def test_cp_tar_from_stdin_into_a_folder(ctr, mode: str) -> None:  # type: ignore[no-untyped-def]
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as t:
        for name, data in ((f"in-{mode}/a", b"a\n"), (f"in-{mode}/.wh.keep", b"w\n")):
            info = tarfile.TarInfo(name)
            info.size, info.uid, info.gid = len(data), 123, 456
            t.addfile(info, io.BytesIO(data))
    ctr("cp", "-", f"{C}:/d/updir", input=buf.getvalue())  # a symlink to a folder: followed, in the container
    assert ctr.out("exec", C, "cat", f"/d/sub/in-{mode}/a", f"/d/sub/in-{mode}/.wh.keep") == "a\nw\n"
    assert ctr.out("exec", C, "stat", "-c", "%u:%g", f"/d/sub/in-{mode}/a") == "123:456\n"
    ctr("exec", C, "rm", "-rf", f"/d/sub/in-{mode}")


def test_cp_hostile_tar_from_stdin_is_refused(ctr) -> None:  # type: ignore[no-untyped-def]
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        info = tarfile.TarInfo("../escaped")
        t.addfile(info, io.BytesIO(b""))
    cp = ctr("cp", "-", f"{C}:/d/sub", input=buf.getvalue(), check=False)
    assert cp.returncode == 1 and "escapes" in cp.stderr.decode() and cp.stderr.decode().count("\n") == 1
    assert ctr("exec", C, "test", "-e", "/d/escaped", check=False).returncode == 1


@pytest.mark.parametrize(("dest", "written"), [
    ("/d/lnk", "/d/f1"),  # relative link
    ("/d/abs", "/d/f1"),  # absolute link, resolved in the container
    ("/d/dangling", "/d/newfile"),  # a dangling link: its target is created
])
def test_cp_into_a_symlink_writes_its_target(ctr, host: Path, dest: str, written: str) -> None:  # type: ignore[no-untyped-def]
    link_before = ctr.out("exec", C, "readlink", dest)
    ctr("cp", str(host / "hostfile"), f"{C}:{dest}")
    assert ctr.out("exec", C, "readlink", dest) == link_before  # still the link
    assert ctr.out("exec", C, "cat", written) == "from host\n"
    ctr("exec", C, "sh", "-c", "echo one > /d/f1; rm -f /d/newfile")
    assert _ctr_leftovers(ctr) == ""


def test_cp_out_to_a_host_symlink_writes_its_target(ctr, host: Path) -> None:  # type: ignore[no-untyped-def]
    (host / "hostlink").symlink_to(host / "target")
    ctr("cp", f"{C}:/d/f1", str(host / "hostlink"))
    assert (host / "hostlink").is_symlink() and (host / "target").read_text() == "one\n"
    os.symlink("hostfile", host / "rel")
    ctr("cp", f"{C}:/d/f1", str(host / "rel"))
    assert (host / "rel").is_symlink() and (host / "hostfile").read_text() == "one\n"


def test_cp_dotdot_is_clamped_at_the_root_both_ways(ctr, host: Path) -> None:  # type: ignore[no-untyped-def]
    ctr("cp", str(host / "hostfile"), f"{C}:../../x2")
    assert ctr.out("exec", C, "cat", "/x2") == "from host\n"
    ctr("cp", f"{C}:../../d/../../x2", str(host / "back"))
    assert (host / "back").read_text() == "from host\n"
    ctr("exec", C, "rm", "/x2")


def test_cp_folder_rules(ctr, host: Path) -> None:  # type: ignore[no-untyped-def]
    ctr("cp", str(host / "hostdir"), f"{C}:/d/esc")  # existing folder: copied into it
    ctr("cp", str(host / "hostdir") + "/.", f"{C}:/d/copy")  # missing: created with the content
    ctr("cp", str(host / "hostdir") + "/.", f"{C}:/d/copy")  # existing, "/.": merged
    assert ctr.out("exec", C, "cat", "/d/esc/hostdir/inner/x", "/d/copy/inner/x") == "x\nx\n"
    ctr("cp", f"{C}:/d/sub", str(host / "out"))
    ctr("cp", f"{C}:/d/sub", str(host / "out"))
    assert _listing(host / "out") == ["s", "sub", "sub/s"]
    assert not [p for p in host.rglob("*") if ".skiff-cp-" in p.name]
    ctr("exec", C, "rm", "-rf", "/d/esc/hostdir", "/d/copy")


def test_cp_ownership_follows_docker(sk, name, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Into a container: the source's owners, or with -a the container's user; out: the invoking user, or
    with -a the container's owners."""
    sk("run", "-d", "--name", name, "--user", "app", *NONE, "busybox", "sh", "-c",
       "echo z > /tmp/mine && exec sleep 60")
    time.sleep(0.3)
    src = tmp_path / "owned"
    src.mkdir()
    (src / "f").write_text("f\n")
    for p in (src, src / "f"):
        os.chown(p, 1234, 4321)
    sk("cp", str(src), f"{name}:/tmp/plain")
    sk("cp", "-a", str(src), f"{name}:/tmp/archived")
    ids = sk.out("exec", name, "stat", "-c", "%n %u:%g", "/tmp/plain", "/tmp/plain/f", "/tmp/archived",
                 "/tmp/archived/f").splitlines()
    assert ids == ["/tmp/plain 1234:4321", "/tmp/plain/f 1234:4321", "/tmp/archived 1000:1000",
                   "/tmp/archived/f 1000:1000"]
    sk("cp", f"{name}:/tmp/mine", str(tmp_path / "plain"))
    sk("cp", "-a", f"{name}:/tmp/mine", str(tmp_path / "archived"))
    assert (os.stat(tmp_path / "plain").st_uid, os.stat(tmp_path / "archived").st_uid) == (os.getuid(), 1000)
    sk("rm", "-f", name)


def test_cp_stopped_container_dest_symlink_and_root(sk, name, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sk("run", "--name", name, *NONE, "busybox", "sh", "-c", "mkdir /d && echo one > /d/f1 && ln -s /d/f1 /d/abs")
    (tmp_path / "hostfile").write_text("new\n")
    sk("cp", str(tmp_path / "hostfile"), f"{name}:/d/abs")
    sk("cp", f"{name}:/d/abs", str(tmp_path / "abs"))
    sk("cp", f"{name}:/d/f1", str(tmp_path / "f1"))
    assert os.readlink(tmp_path / "abs") == "/d/f1" and (tmp_path / "f1").read_text() == "new\n"
    sk("cp", f"{name}:/", str(tmp_path / "root"))
    assert (tmp_path / "root" / "d" / "f1").read_text() == "new\n"
    sk("rm", name)
