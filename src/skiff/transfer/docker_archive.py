"""Docker archives: what `docker save` / `podman save` write and `docker load` / `podman load` read.

Read: ``manifest.json`` lists the images: {"Config": path, "RepoTags": [...], "Layers": [paths]}; layers are
tars (usually uncompressed). A schema2 manifest is made for each entry (layer digests from ``blobs/sha256/``
paths, or hashed). Write: Docker 25's layout, which is at once a docker archive and an OCI layout:
blobs/sha256/<hex> (config, uncompressed layer tars, OCI manifest), index.json, oci-layout, manifest.json.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from pathlib import Path
from typing import BinaryIO

from skiff.errors import SkiffError
from skiff.oci import docker, reference
from skiff.oci import image as oci
from skiff.transfer.bundle import ArchiveFormatError, Bundle
from skiff.transfer.oci_layout import LayoutDestination, blob_path
from skiff.transfer.sink import Sink

_BLOB_PATH = re.compile(r"^(?:\./)?blobs/sha256/([a-f0-9]{64})$")
COMPRESSED_TYPES = {docker.MT_LAYER_GZIP, docker.MT_LAYER_FOREIGN, oci.MT_OCI_LAYER_GZIP, oci.MT_OCI_LAYER_ZSTD,
                    oci.MT_OCI_LAYER_NONDIST_GZIP,
                    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd"}


def is_docker_archive(bundle: Bundle) -> bool:
    return bundle.exists("manifest.json")


def _layer_type(head: bytes) -> str:
    if head[:2] == b"\x1f\x8b":
        return docker.MT_LAYER_GZIP
    if head[:4] == b"\x28\xb5\x2f\xfd":
        return oci.MT_OCI_LAYER_ZSTD
    return docker.MT_LAYER_TAR


class DockerArchiveSource:
    def __init__(self, bundle: Bundle, entry: dict[str, object], index: int) -> None:
        self.bundle = bundle
        where = f"{bundle.label}: manifest.json[{index}]"
        config = entry.get("Config")
        layers = entry.get("Layers") or []
        tags = entry.get("RepoTags") or []
        if not isinstance(config, str) or not isinstance(layers, list) or not isinstance(tags, list):
            raise ArchiveFormatError(f"{where}: Config, Layers or RepoTags has the wrong type")
        self._paths: dict[str, str] = {}
        self._names = [str(reference.parse(t)) for t in tags if isinstance(t, str)]
        if not bundle.exists(config):
            raise ArchiveFormatError(f"{where}: config {config} is missing from the archive")
        raw_config = bundle.read(config)
        cdesc = oci.descriptor_for(raw_config, docker.MT_CONFIG)
        self._paths[cdesc.digest] = config
        descs = []
        for p in layers:
            if not isinstance(p, str) or not bundle.exists(p):
                raise ArchiveFormatError(f"{where}: layer {p} is missing from the archive")
            size = bundle.size(p)
            with bundle.open(p) as f:
                head = f.read(6)
            m = _BLOB_PATH.match(p)
            digest = "sha256:" + m.group(1) if m else self._hash(p)
            descs.append(oci.Descriptor(media_type=_layer_type(head), digest=digest, size=size))
            self._paths[digest] = p
        self._manifest = oci.encode(oci.Manifest(media_type=docker.MT_MANIFEST, config=cdesc, layers=descs))

    def _hash(self, path: str) -> str:
        h = hashlib.sha256()
        with self.bundle.open(path) as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
        return "sha256:" + h.hexdigest()

    def get_manifest(self, instance: str | None = None) -> tuple[bytes, str]:
        return self._manifest, docker.MT_MANIFEST

    def get_blob(self, desc: oci.Descriptor) -> BinaryIO:
        return self.bundle.open(self._paths[desc.digest])

    def names(self) -> list[str]:
        return list(self._names)

    def close(self) -> None:
        return None


def docker_archive_images(bundle: Bundle) -> list[DockerArchiveSource]:
    try:
        entries = json.loads(bundle.read("manifest.json"))
    except ValueError as e:
        raise ArchiveFormatError(f"{bundle.label}: manifest.json: invalid JSON: {e}") from None
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ArchiveFormatError(f"{bundle.label}: manifest.json: expected a list of objects")
    return [DockerArchiveSource(bundle, e, i) for i, e in enumerate(entries)]


class DockerArchiveDestination:
    """Writes images as a docker archive (uncompressed layers, as `docker load` expects) onto ``sink``."""

    def __init__(self, sink: Sink, tmp_dir: Path) -> None:
        self.sink = sink
        self.tmp_dir = tmp_dir
        self.layout = LayoutDestination(sink)
        self.entries: list[dict[str, object]] = []
        self._uncompressed: dict[str, oci.Descriptor] = {}
        self._manifest: oci.Manifest | None = None

    def has_blob(self, desc: oci.Descriptor) -> bool:
        return desc.digest in self._uncompressed or self.sink.has(blob_path(desc.digest))

    def put_blob(self, stream: BinaryIO, desc: oci.Descriptor) -> oci.Descriptor:
        if desc.media_type not in COMPRESSED_TYPES:
            return self.layout.put_blob(stream, desc)
        from skiff.archive.compression import LayerReader

        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.tmp_dir, prefix="layer-")
        try:
            reader = LayerReader(stream, what=f"layer {desc.digest}")
            with os.fdopen(fd, "w+b") as f:
                while chunk := reader.read(1 << 20):
                    f.write(chunk)
                reader.finish()
                if reader.digest != desc.digest or reader.compressed_size != desc.size:
                    raise SkiffError(f"layer {desc.digest}: content has digest {reader.digest} "
                                     f"({reader.compressed_size} bytes)")
                out = oci.Descriptor(media_type=oci.MT_OCI_LAYER, digest=reader.diff_id, size=reader.size)
                if not self.sink.has(blob_path(out.digest)):
                    f.seek(0)
                    self.sink.add(blob_path(out.digest), f, out.size)
        finally:
            os.unlink(tmp)
        self._uncompressed[desc.digest] = out
        return out

    def put_manifest(self, raw: bytes, media_type: str) -> None:
        m = docker.manifest_to_oci(oci.decode_manifest(raw))
        layers = [self._uncompressed.get(d.digest, oci.Descriptor(media_type=oci.MT_OCI_LAYER, digest=d.digest,
                                                                  size=d.size)) for d in m.layers]
        self._manifest = oci.Manifest(config=m.config, layers=layers)
        self.layout.put_manifest(oci.encode(self._manifest), oci.MT_OCI_MANIFEST)

    def commit(self, names: list[str], digests: list[str] | None = None) -> str:
        if self._manifest is None:
            raise SkiffError("docker archive destination: commit before put_manifest")
        m = self._manifest
        self.entries.append({
            "Config": blob_path(m.config.digest),
            "RepoTags": [reference.parse(n).familiar() for n in names],
            "Layers": [blob_path(d.digest) for d in m.layers],
        })
        self.layout.commit(names)
        self._manifest = None
        return m.config.digest

    def close(self) -> None:
        self.sink.add_bytes("manifest.json", json.dumps(self.entries).encode())
        self.layout.close()


