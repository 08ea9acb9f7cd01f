"""The image commands through the real CLI on a temp store: output shapes, lookup rules, errors."""

from __future__ import annotations

import json
import re
from typing import Any


def out(cp: Any) -> str:
    return str(cp.stdout.decode())


def test_images_listing_and_flags(bb: Any) -> None:
    lines = out(bb("images")).splitlines()
    assert re.match(r"^REPOSITORY +TAG +IMAGE ID +CREATED +SIZE$", lines[0])
    assert re.match(r"^busybox +latest +[0-9a-f]{12} +(Less than a second|\d+ seconds?) ago +\d", lines[1])
    full = out(bb("images", "-q", "--no-trunc")).strip()
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", full)
    bb("tag", "busybox", "me/app:v1")
    assert out(bb("images", "-q")).split() == [full[7:19]]  # one ID even with two names
    rows = out(bb("images", "--digests")).splitlines()
    assert "DIGEST" in rows[0] and len(rows) == 3
    assert out(bb("image", "ls", "-f", "reference=me/*", "-q")).strip() == full[7:19]
    assert out(bb("image", "list", "--filter", "dangling=true", "-q")).strip() == ""
    assert out(bb("images", "me/app")).count("\n") == 2


def test_inspect_shape(bb: Any) -> None:
    (obj,) = json.loads(out(bb("image", "inspect", "busybox")))
    for key in ("Id", "RepoTags", "RepoDigests", "Created", "Config", "Architecture", "Os", "Size", "RootFS",
                "GraphDriver", "Metadata"):
        assert key in obj, key
    assert obj["RepoTags"] == ["busybox:latest"]
    assert obj["Config"]["Cmd"] == ["/bin/sh"] and obj["Config"]["Env"] == ["A=1"]
    assert obj["RootFS"]["Type"] == "layers" and len(obj["RootFS"]["Layers"]) == 1
    by_id = json.loads(out(bb("image", "inspect", obj["Id"][7:15])))
    assert by_id[0]["Id"] == obj["Id"]


def test_tag_rmi_semantics(bb: Any) -> None:
    image_id = out(bb("images", "-q", "--no-trunc")).strip()
    bb("tag", "busybox:latest", "localhost:5000/x/y:2")
    cp = bb("rmi", "busybox", check=False)
    assert cp.returncode == 0 and out(cp).strip() == "Untagged: busybox:latest"
    cp = bb("tag", "busybox", "again:1", check=False)
    assert cp.returncode == 1 and cp.stderr.decode().strip() == "Error: No such image: busybox:latest"
    bb("tag", "localhost:5000/x/y:2", "two:1")
    cp = bb("rmi", image_id[7:19], check=False)
    assert cp.returncode == 1 and "must be forced" in cp.stderr.decode()
    cp = bb("image", "rm", "-f", image_id[7:19])
    assert f"Deleted: {image_id}" in out(cp) and "Untagged: localhost:5000/x/y:2" in out(cp)
    assert out(bb("images", "-q")) == ""
    assert not list((bb.root / "blobs" / "sha256").iterdir())


def test_rmi_refused_while_container_uses_it(bb: Any) -> None:
    image_id = out(bb("images", "-q", "--no-trunc")).strip()
    c = bb.root / "containers" / ("c" * 64)
    c.mkdir(parents=True)
    (c / "config.json").write_text(json.dumps({"Image": image_id}))
    cp = bb("rmi", "busybox", check=False)
    assert cp.returncode == 1 and "container cccccccccccc is using its referenced image" in cp.stderr.decode()
    cp = bb("image", "prune", "-a", "-f")
    assert "Total reclaimed space: 0B" in out(cp)


def test_history_prune_info_df(bb: Any) -> None:
    lines = out(bb("history", "busybox")).splitlines()
    assert lines[0].split() == ["IMAGE", "CREATED", "CREATED", "BY", "SIZE", "COMMENT"]
    assert lines[1].endswith("Imported from -") and "MB" in lines[1]  # Docker's words, no CREATED BY
    bb("import", str(bb.root.parent / "nothing"), check=False)
    bb("tag", "busybox", "other:1")
    bb("rmi", "busybox")
    cp = bb("image", "prune", "-f")
    assert "Total reclaimed space: 0B" in out(cp)  # not dangling: other:1 still names it
    info = out(bb("info"))
    assert re.search(r"Storage Driver: (overlay|vfs)", info) and f"Docker Root Dir: {bb.root}" in info
    assert "Storage Driver: vfs" in out(bb("--storage-driver", "vfs", "system", "info"))
    df = out(bb("system", "df")).splitlines()
    assert df[0].split() == ["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"]
    assert df[1].split()[:3] == ["Images", "1", "0"]


def test_prune_dangling(bb: Any, bb_tar: Any) -> None:
    bb("import", "-c", "CMD [\"true\"]", str(bb_tar), "busybox:latest")  # the first image loses its name
    assert out(bb("images", "-f", "dangling=true")).count("<none>") == 2
    cp = bb("image", "prune", "-f")
    assert "deleted: sha256:" in out(cp) and "Total reclaimed space:" in out(cp)
    assert len(out(bb("images", "-q")).split()) == 1


def test_errors_are_one_line_exit_1(bb: Any) -> None:
    """Docker exits 125 only for run/create (and flag errors); other commands' errors exit 1."""
    for args, msg in [
        (("image", "inspect", "nothere"), "Error: No such image: nothere"),
        (("rmi", "nothere:1"), "Error: No such image: nothere:1"),
        (("tag", "busybox", "Bad:Ref"), "Error: invalid reference format: repository name (library/Bad) must be "
                                        "lowercase"),
        (("history", "bad@@ref"), "Error: invalid reference format: bad@@ref"),
        (("images", "-f", "bogus=1"), "Error: invalid filter 'bogus'"),
        (("save", "-o", "/tmp/x.tar", "nothere"), "Error: No such image: nothere:latest"),
    ]:
        cp = bb(*args, check=False)
        assert cp.returncode == 1, (args, cp.stderr)
        assert cp.stderr.decode().strip().splitlines() == [msg], (args, cp.stderr)


def test_import_changes_and_stdin(skiff: Any, bb_tar: Any) -> None:
    data = bb_tar.read_bytes()
    cp = skiff("import", "-c", "ENTRYPOINT /bin/sh", "-c", "WORKDIR /srv", "-c", "EXPOSE 80 53/udp",
               "-c", "USER app", "-c", "LABEL a=b c=d", "-c", "ENV X y z", "-m", "msg", "-", "piped:1", input=data)
    (obj,) = json.loads(out(skiff("image", "inspect", "piped:1")))
    assert obj["Id"] == out(cp).strip()
    cfg = obj["Config"]
    assert cfg["Entrypoint"] == ["/bin/sh", "-c", "/bin/sh"] and cfg["WorkingDir"] == "/srv"
    assert cfg["ExposedPorts"] == {"80/tcp": {}, "53/udp": {}} and cfg["User"] == "app"
    assert cfg["Labels"] == {"a": "b", "c": "d"} and cfg["Env"] == ["X=y z"] and obj["Comment"] == "msg"
    cp = skiff("import", "-c", "FROM x", str(bb_tar), check=False)
    assert cp.returncode == 1 and "FROM is not a valid change command" in cp.stderr.decode()


def test_size_is_dockers_file_content_size(bb: Any, tmp_path: Any) -> None:
    """moby's layer size (directory.Size of the unpacked diff): regular files and symlink targets, a hard link
    once, folders and the tar's headers and padding not at all."""
    import io
    import tarfile

    tar = tmp_path / "sized.tar"
    with tarfile.open(tar, "w") as t:
        for name, kind, data in (("d", tarfile.DIRTYPE, b""), ("d/a", tarfile.REGTYPE, b"x" * 1000),
                                 ("d/b", tarfile.LNKTYPE, b""), ("d/c", tarfile.SYMTYPE, b""),
                                 ("e", tarfile.REGTYPE, b"")):
            ti = tarfile.TarInfo(name)
            ti.type = kind
            ti.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
            if kind == tarfile.LNKTYPE:
                ti.linkname = "d/a"
            if kind == tarfile.SYMTYPE:
                ti.linkname = "a"  # one byte
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data) if data else None)
    bb("import", str(tar), "sized")
    (obj,) = json.loads(out(bb("image", "inspect", "sized")))
    assert obj["Size"] == 1001
    assert out(bb("images", "sized")).splitlines()[1].endswith(" 1kB")  # go-units, 3 significant digits
