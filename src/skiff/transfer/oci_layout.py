"""OCI image layouts (image-spec image-layout.md): read from a folder or tar (``Bundle``), write to a ``Sink``.

Names: on write, each image gets ``org.opencontainers.image.ref.name`` = its tag (what `skopeo oci:DIR:TAG`
and `umoci --image DIR:TAG` look for) and ``io.containerd.image.name`` = the full reference (as Docker 25's
`docker save` does). On read, the full name is taken from ``io.containerd.image.name``, else from a
``ref.name`` that is itself a full reference; a bare tag gives no name (the image loads untagged).
"""

from __future__ import annotations

import json
from typing import BinaryIO

from skiff.errors import NotFoundError, SkiffError
from skiff.oci import docker, reference
from skiff.oci import image as oci
from skiff.oci.codec import CodecError
from skiff.oci.digest import Digest, VerifyingReader
from skiff.transfer.bundle import ArchiveFormatError, Bundle
from skiff.transfer.sink import Sink

LAYOUT_FILE = "oci-layout"
LAYOUT_BODY = b'{"imageLayoutVersion":"1.0.0"}'
CONTAINERD_NAME = "io.containerd.image.name"


def blob_path(digest: str) -> str:
    d = Digest(digest)
    return f"blobs/{d.algorithm}/{d.hex}"


def is_layout(bundle: Bundle) -> bool:
    return bundle.exists(LAYOUT_FILE) and bundle.exists("index.json")


def read_index(bundle: Bundle) -> oci.Index:
    try:
        return oci.decode_index(bundle.read("index.json"), f"{bundle.label}: index.json")
    except (CodecError, ValueError) as e:
        raise ArchiveFormatError(f"{bundle.label}: index.json: {e}") from None


def names_of(desc: oci.Descriptor) -> list[str]:
    ann = desc.annotations
    for cand in (ann.get(CONTAINERD_NAME), ann.get(oci.ANNOTATION_REF_NAME)):
        if cand and (":" in cand or "/" in cand):
            try:
                return [str(reference.parse(cand))]
            except reference.ReferenceError:
                continue
    return []


class LayoutSource:
    """One entry of a layout's index.json (a manifest, or an index for several platforms)."""

    def __init__(self, bundle: Bundle, desc: oci.Descriptor, names: list[str] | None = None) -> None:
        self.bundle = bundle
        self.desc = desc
        self._names = names if names is not None else names_of(desc)

    def get_manifest(self, instance: str | None = None) -> tuple[bytes, str]:
        digest = instance or self.desc.digest
        path = blob_path(digest)
        if not self.bundle.exists(path):
            raise NotFoundError(f"{self.bundle.label}: manifest {digest} is missing ({path})")
        raw = self.bundle.read(path)
        if Digest.of(raw) != Digest(digest):
            raise SkiffError(f"{self.bundle.label}: manifest {digest} is corrupted: content has digest "
                             f"{Digest.of(raw)}")
        mt = oci.sniff_media_type(raw) or self.desc.media_type
        return raw, mt

    def get_blob(self, desc: oci.Descriptor) -> BinaryIO:
        path = blob_path(desc.digest)
        if not self.bundle.exists(path):
            raise NotFoundError(f"{self.bundle.label}: manifest names blob {desc.digest}, which is missing")
        return self.bundle.open(path)

    def names(self) -> list[str]:
        return list(self._names)

    def close(self) -> None:
        return None


def layout_images(bundle: Bundle) -> list[LayoutSource]:
    return [LayoutSource(bundle, d) for d in read_index(bundle).manifests]


class LayoutDestination:
    """Writes images into an OCI layout on ``sink``; ``close`` writes index.json and oci-layout.

    ``keep`` are index entries already in the layout (a folder being added to); entries with the same
    ref.name as a new image are replaced."""

    def __init__(self, sink: Sink, keep: list[oci.Descriptor] | None = None) -> None:
        self.sink = sink
        self.entries: list[oci.Descriptor] = list(keep or [])
        self._manifest: oci.Descriptor | None = None

    def has_blob(self, desc: oci.Descriptor) -> bool:
        return self.sink.has(blob_path(desc.digest))

    def put_blob(self, stream: BinaryIO, desc: oci.Descriptor) -> oci.Descriptor:
        vr = VerifyingReader(stream, desc.dgst, desc.size, what=f"blob {desc.digest}")
        self.sink.add(blob_path(desc.digest), vr, desc.size, vr.verify)  # type: ignore[arg-type]
        return desc

    def put_manifest(self, raw: bytes, media_type: str) -> None:
        if docker.is_docker(media_type):
            raw = oci.encode(docker.manifest_to_oci(oci.decode_manifest(raw)))
            media_type = oci.MT_OCI_MANIFEST
        desc = oci.descriptor_for(raw, media_type)
        if not self.sink.has(blob_path(desc.digest)):
            self.sink.add_bytes(blob_path(desc.digest), raw)
        self._manifest = desc

    def commit(self, names: list[str], digests: list[str] | None = None) -> str:
        if self._manifest is None:
            raise SkiffError("layout destination: commit before put_manifest")
        m = self._manifest
        if not names:
            self.entries.append(m)
        for name in names:
            ref = reference.parse(name)
            ann = {CONTAINERD_NAME: str(ref), oci.ANNOTATION_REF_NAME: ref.tag or "latest"}
            self.entries = [e for e in self.entries if e.annotations.get(oci.ANNOTATION_REF_NAME)
                            != ann[oci.ANNOTATION_REF_NAME] or e.annotations.get(CONTAINERD_NAME,
                                                                                 str(ref)) != str(ref)]
            self.entries.append(oci.Descriptor(media_type=m.media_type, digest=m.digest, size=m.size,
                                               annotations=ann))
        self._manifest = None
        return m.digest

    def close(self) -> None:
        index = oci.Index(manifests=self.entries)
        self.sink.add_bytes("index.json", json.dumps(_index_obj(index), indent=None).encode())
        self.sink.add_bytes(LAYOUT_FILE, LAYOUT_BODY)
        self.sink.close()


def _index_obj(index: oci.Index) -> object:
    from skiff.oci.codec import to_obj

    return to_obj(index)
