"""Transfer pieces without the CLI: bundles, archive readers, platform choice, --change parsing."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from skiff.engine.changes import apply_changes
from skiff.errors import InvalidArgumentError, NotFoundError
from skiff.oci import image as oci
from skiff.oci.digest import Digest
from skiff.transfer.bundle import ArchiveFormatError, TarBundle
from skiff.transfer.copy import choose_instance
from skiff.transfer.docker_archive import docker_archive_images


def _add(t: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    t.addfile(info, io.BytesIO(data))


def legacy_archive(path: Path, layer: bytes) -> str:
    """podman/docker <25 style: <diffid>.tar plus a legacy folder whose layer.tar is a symlink to it."""
    diff_id = str(Digest.of(layer))
    config = json.dumps({"rootfs": {"type": "layers", "diff_ids": [diff_id]}}).encode()
    with tarfile.open(path, "w") as t:
        _add(t, f"{diff_id[7:]}.tar", layer)
        info = tarfile.TarInfo("legacy/layer.tar")
        info.type, info.linkname = tarfile.SYMTYPE, f"../{diff_id[7:]}.tar"
        t.addfile(info)
        _add(t, "cfg.json", config)
        _add(t, "manifest.json", json.dumps([{"Config": "cfg.json", "RepoTags": ["a/b:c"],
                                              "Layers": ["legacy/layer.tar"]}]).encode())
    return diff_id


def test_docker_archive_with_symlinked_layer(tmp_path: Path) -> None:
    layer = b"x" * 1024
    diff_id = legacy_archive(tmp_path / "a.tar", layer)
    b = TarBundle(tmp_path / "a.tar", tmp_path)
    (src,) = docker_archive_images(b)
    raw, mt = src.get_manifest()
    m = oci.decode_manifest(raw)
    assert mt == "application/vnd.docker.distribution.manifest.v2+json"
    assert m.layers[0].digest == diff_id and m.layers[0].size == 1024
    assert src.names() == ["docker.io/a/b:c"]
    with src.get_blob(m.layers[0]) as f:
        assert f.read() == layer
    b.close()


def test_links_cannot_leave_the_archive(tmp_path: Path) -> None:
    with tarfile.open(tmp_path / "a.tar", "w") as t:
        info = tarfile.TarInfo("manifest.json")
        info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
        t.addfile(info)
    b = TarBundle(tmp_path / "a.tar", tmp_path)
    assert not b.exists("manifest.json")
    with pytest.raises(NotFoundError):
        b.read("manifest.json")


def test_gzip_archive_and_truncation(tmp_path: Path) -> None:
    import gzip

    legacy_archive(tmp_path / "a.tar", b"y" * 5000)
    (tmp_path / "a.tar.gz").write_bytes(gzip.compress((tmp_path / "a.tar").read_bytes()))
    b = TarBundle(tmp_path / "a.tar.gz", tmp_path / "spool")
    assert b.exists("manifest.json")
    b.close()
    assert list((tmp_path / "spool").iterdir()) == []
    data = (tmp_path / "a.tar.gz").read_bytes()
    (tmp_path / "cut.gz").write_bytes(data[: len(data) // 2])
    with pytest.raises(ArchiveFormatError, match="truncated"):
        TarBundle(tmp_path / "cut.gz", tmp_path / "spool")


def test_decompression_bomb_is_bounded(tmp_path: Path) -> None:
    import gzip

    (tmp_path / "bomb.gz").write_bytes(gzip.compress(b"\0" * (8 << 20)))
    with pytest.raises(ArchiveFormatError, match="exceeds 1048576 bytes"):
        TarBundle(tmp_path / "bomb.gz", tmp_path / "spool", max_bytes=1 << 20)
    assert list((tmp_path / "spool").iterdir()) == []


def test_choose_instance() -> None:
    d = "sha256:" + "1" * 64
    idx = oci.Index(manifests=[
        oci.Descriptor(media_type=oci.MT_OCI_MANIFEST, digest=d, size=1,
                       platform=oci.Platform(architecture="arm64")),
        oci.Descriptor(media_type=oci.MT_OCI_MANIFEST, digest="sha256:" + "2" * 64, size=1,
                       platform=oci.Platform(architecture="amd64"))])
    assert choose_instance(idx, oci.Platform(architecture="arm64")).digest == d
    with pytest.raises(NotFoundError, match="no image for platform linux/s390x"):
        choose_instance(idx, oci.Platform(architecture="s390x"))


def test_changes() -> None:
    edit = apply_changes(['CMD ["a", "b"]', "ENV A=1 B=two", "ENV A=3", "EXPOSE 8080", "VOLUME /data /x",
                          "LABEL k=v", "WORKDIR srv", "STOPSIGNAL SIGINT", "USER 1000:1000"])
    c = edit(oci.ContainerConfig(env=["PATH=/bin"]))
    assert c.cmd == ["a", "b"] and c.env == ["PATH=/bin", "B=two", "A=3"]
    assert c.exposed_ports == {"8080/tcp": {}} and set(c.volumes) == {"/data", "/x"}
    assert c.labels == {"k": "v"} and c.working_dir == "/srv" and c.stop_signal == "SIGINT"
    assert c.user == "1000:1000"
    for bad in ("RUN x", "EXPOSE abc", "CMD", "LABEL novalue"):
        with pytest.raises(InvalidArgumentError):
            apply_changes([bad])
