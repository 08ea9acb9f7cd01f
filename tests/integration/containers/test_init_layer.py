"""The init layer: the runtime's mount targets (/etc/hosts, /etc/hostname, /etc/resolv.conf, /proc, /sys, /dev)
that an image lacks are in a layer under the container's own, so `diff` and `commit` show only what the
container's processes changed, as Docker's do."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

NONE = ("--network", "none")


def _layer_names(archive: Path) -> list[list[str]]:
    """The entries of each layer in a `skiff save` archive, lowest layer first."""
    out = []
    with tarfile.open(archive) as t:
        manifest = json.load(t.extractfile("manifest.json"))  # type: ignore[arg-type]
        for layer in manifest[0]["Layers"]:
            data = t.extractfile(layer).read()  # type: ignore[union-attr]
            with tarfile.open(fileobj=io.BytesIO(data)) as lt:
                out.append([n.lstrip("./") for n in lt.getnames()])
    return out


def test_diff_and_commit_leave_out_the_mount_targets(sk, name, tmp_path: Path):  # type: ignore[no-untyped-def]
    # the image (busybox from the tests' rootfs) has /etc without hosts, hostname or resolv.conf
    sk("run", "--name", name, *NONE, "busybox", "sh", "-c",
       "test -s /etc/hosts && test -s /etc/resolv.conf && echo new > /newfile")
    assert sk.out("diff", name).splitlines() == ["A /newfile"]
    sk("commit", name, f"{name}:v1")
    sk("save", "-o", str(tmp_path / "img.tar"), f"{name}:v1")
    top = _layer_names(tmp_path / "img.tar")[-1]
    assert "newfile" in top and not any(n.startswith("etc") for n in top), top
    # a change under /etc is still a change: /etc is copied up and shows as changed, as in Docker
    sk("run", "--name", f"{name}_2", *NONE, f"{name}:v1", "sh", "-c", "echo 1 > /etc/extra")
    assert sk.out("diff", f"{name}_2").splitlines() == ["C /etc", "A /etc/extra"]
    sk("rm", name, f"{name}_2")
    sk("rmi", f"{name}:v1")
