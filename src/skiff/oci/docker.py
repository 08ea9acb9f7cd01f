"""Docker's schema2 manifest and manifest list: media types and conversion to and from OCI.

The JSON shapes are the same as OCI's manifest and index; only media types differ (and Docker's
manifest must carry ``mediaType``).
"""

from __future__ import annotations

from skiff.oci import image as oci
from skiff.records import replace

MT_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
MT_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
MT_CONFIG = "application/vnd.docker.container.image.v1+json"
MT_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
MT_LAYER_FOREIGN = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
MT_LAYER_TAR = "application/vnd.docker.image.rootfs.diff.tar"
MT_SCHEMA1 = "application/vnd.docker.distribution.manifest.v1+json"
MT_SCHEMA1_SIGNED = "application/vnd.docker.distribution.manifest.v1+prettyjws"

_TO_OCI = {
    MT_MANIFEST: oci.MT_OCI_MANIFEST,
    MT_MANIFEST_LIST: oci.MT_OCI_INDEX,
    MT_CONFIG: oci.MT_OCI_CONFIG,
    MT_LAYER_GZIP: oci.MT_OCI_LAYER_GZIP,
    MT_LAYER_FOREIGN: oci.MT_OCI_LAYER_NONDIST_GZIP,
    MT_LAYER_TAR: oci.MT_OCI_LAYER,
}
_TO_DOCKER = {v: k for k, v in _TO_OCI.items()}
_TO_DOCKER[oci.MT_OCI_LAYER_ZSTD] = oci.MT_OCI_LAYER_ZSTD  # Docker has no zstd type of its own


def to_oci_type(media_type: str) -> str:
    return _TO_OCI.get(media_type, media_type)


def to_docker_type(media_type: str) -> str:
    return _TO_DOCKER.get(media_type, media_type)


def _conv(d: oci.Descriptor, table: dict[str, str]) -> oci.Descriptor:
    return replace(d, media_type=table.get(d.media_type, d.media_type))


def manifest_to_oci(m: oci.Manifest) -> oci.Manifest:
    return replace(m, media_type=oci.MT_OCI_MANIFEST, config=_conv(m.config, _TO_OCI),
                   layers=[_conv(x, _TO_OCI) for x in m.layers])


def manifest_to_docker(m: oci.Manifest) -> oci.Manifest:
    return replace(m, media_type=MT_MANIFEST, config=_conv(m.config, _TO_DOCKER),
                   layers=[_conv(x, _TO_DOCKER) for x in m.layers])


def index_to_oci(i: oci.Index) -> oci.Index:
    return replace(i, media_type=oci.MT_OCI_INDEX, manifests=[_conv(x, _TO_OCI) for x in i.manifests])


def index_to_docker(i: oci.Index) -> oci.Index:
    return replace(i, media_type=MT_MANIFEST_LIST, manifests=[_conv(x, _TO_DOCKER) for x in i.manifests])


def is_docker(media_type: str | None) -> bool:
    return bool(media_type) and str(media_type).startswith("application/vnd.docker.")
