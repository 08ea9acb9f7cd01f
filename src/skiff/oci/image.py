"""OCI image spec v1.1 structures (descriptor, manifest, index, image config) and media types.

Docker's schema2 manifest and manifest list have the same shape with other media types (see ``docker.py``),
so one set of classes serves both; the ``media_type`` member says which is which.
"""

from __future__ import annotations

from skiff.oci.codec import canonical, jextra, jfield, loads
from skiff.oci.digest import Digest
from skiff.oci.health import HealthConfig as HealthConfig  # re-exported: an image config's Healthcheck
from skiff.records import dataclass, replace

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from typing import Any

MT_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_OCI_INDEX = "application/vnd.oci.image.index.v1+json"
MT_OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
MT_OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
MT_OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
MT_OCI_LAYER_NONDIST_GZIP = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
MT_OCI_EMPTY = "application/vnd.oci.empty.v1+json"

MANIFEST_TYPES = frozenset({MT_OCI_MANIFEST, "application/vnd.docker.distribution.manifest.v2+json"})
INDEX_TYPES = frozenset({MT_OCI_INDEX, "application/vnd.docker.distribution.manifest.list.v2+json"})
LAYER_TYPES = frozenset({
    MT_OCI_LAYER, MT_OCI_LAYER_GZIP, MT_OCI_LAYER_ZSTD, MT_OCI_LAYER_NONDIST_GZIP,
    "application/vnd.oci.image.layer.nondistributable.v1.tar",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
    "application/vnd.docker.image.rootfs.diff.tar.gzip",
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
    "application/vnd.docker.image.rootfs.diff.tar",
})

ANNOTATION_REF_NAME = "org.opencontainers.image.ref.name"
ANNOTATION_CREATED = "org.opencontainers.image.created"


@dataclass(frozen=True)
class Platform:
    """An OCI platform (os, architecture, variant, ...); ``str()`` gives ``os/arch[/variant]``."""

    architecture: str = jfield("architecture", default="amd64")
    os: str = jfield("os", default="linux")
    os_version: str | None = jfield("os.version", default=None)
    os_features: list[str] = jfield("os.features", default_factory=list)
    variant: str | None = jfield("variant", default=None)

    def __str__(self) -> str:
        s = f"{self.os}/{self.architecture}"
        return f"{s}/{self.variant}" if self.variant else s


@dataclass(frozen=True)
class Descriptor:
    """An OCI content descriptor: a blob's media type, digest and size, optional platform and annotations."""

    media_type: str = jfield("mediaType")
    digest: str = jfield("digest")
    size: int = jfield("size", keep_empty=True)
    urls: list[str] = jfield("urls", default_factory=list)
    annotations: dict[str, str] = jfield("annotations", default_factory=dict)
    data: str | None = jfield("data", default=None)
    platform: Platform | None = jfield("platform", default=None)
    artifact_type: str | None = jfield("artifactType", default=None)
    extra: dict[str, Any] = jextra()

    def __post_init__(self) -> None:
        Digest(self.digest)  # validates: sha256:<64 hex>, nothing that could become a path

    @property
    def dgst(self) -> Digest:
        return Digest(self.digest)


@dataclass(frozen=True)
class Manifest:
    """An OCI (or Docker v2.2) image manifest: the config descriptor and layer descriptors, bottom first."""

    config: Descriptor = jfield("config")
    layers: list[Descriptor] = jfield("layers", default_factory=list, keep_empty=True)
    schema_version: int = jfield("schemaVersion", default=2)
    media_type: str | None = jfield("mediaType", default=MT_OCI_MANIFEST)
    artifact_type: str | None = jfield("artifactType", default=None)
    subject: Descriptor | None = jfield("subject", default=None)
    annotations: dict[str, str] = jfield("annotations", default_factory=dict)
    extra: dict[str, Any] = jextra()


@dataclass(frozen=True)
class Index:
    """An OCI image index (or Docker manifest list): one descriptor per manifest, usually one per platform."""

    manifests: list[Descriptor] = jfield("manifests", default_factory=list, keep_empty=True)
    schema_version: int = jfield("schemaVersion", default=2)
    media_type: str | None = jfield("mediaType", default=MT_OCI_INDEX)
    artifact_type: str | None = jfield("artifactType", default=None)
    subject: Descriptor | None = jfield("subject", default=None)
    annotations: dict[str, str] = jfield("annotations", default_factory=dict)
    extra: dict[str, Any] = jextra()


@dataclass(frozen=True)
class ContainerConfig:
    """The ``config`` member of an image config: defaults for containers run from the image."""

    user: str | None = jfield("User", default=None)
    exposed_ports: dict[str, dict[str, Any]] = jfield("ExposedPorts", default_factory=dict)
    env: list[str] = jfield("Env", default_factory=list)
    entrypoint: list[str] | None = jfield("Entrypoint", default=None)
    cmd: list[str] | None = jfield("Cmd", default=None)
    volumes: dict[str, dict[str, Any]] = jfield("Volumes", default_factory=dict)
    working_dir: str | None = jfield("WorkingDir", default=None)
    labels: dict[str, str] = jfield("Labels", default_factory=dict)
    stop_signal: str | None = jfield("StopSignal", default=None)
    args_escaped: bool | None = jfield("ArgsEscaped", default=None)
    healthcheck: HealthConfig | None = jfield("Healthcheck", default=None)
    on_build: list[str] = jfield("OnBuild", default_factory=list)
    shell: list[str] = jfield("Shell", default_factory=list)
    extra: dict[str, Any] = jextra()


@dataclass(frozen=True)
class History:
    """One entry of an image config's ``history``: the step that made a layer (or none, ``empty_layer``)."""

    created: str | None = jfield("created", default=None)
    created_by: str | None = jfield("created_by", default=None)
    author: str | None = jfield("author", default=None)
    comment: str | None = jfield("comment", default=None)
    empty_layer: bool | None = jfield("empty_layer", default=None)


@dataclass(frozen=True)
class RootFS:
    """An image config's ``rootfs``: the diff_ids of its layers, bottom first."""

    diff_ids: list[str] = jfield("diff_ids", default_factory=list, keep_empty=True)
    type: str = jfield("type", default="layers")


@dataclass(frozen=True)
class ImageConfig:
    """The image configuration blob (its digest is the image ID)."""

    architecture: str = jfield("architecture", default="amd64")
    os: str = jfield("os", default="linux")
    rootfs: RootFS = jfield("rootfs", default_factory=RootFS)
    config: ContainerConfig = jfield("config", default_factory=ContainerConfig)
    created: str | None = jfield("created", default=None)
    author: str | None = jfield("author", default=None)
    variant: str | None = jfield("variant", default=None)
    os_version: str | None = jfield("os.version", default=None)
    history: list[History] = jfield("history", default_factory=list)
    extra: dict[str, Any] = jextra()

    def with_config(self, **changes: Any) -> ImageConfig:
        return replace(self, config=replace(self.config, **changes))


def descriptor_for(data: bytes, media_type: str, **kw: Any) -> Descriptor:
    """The descriptor of ``data`` as stored (digest and size of exactly these bytes)."""
    return Descriptor(media_type=media_type, digest=str(Digest.of(data)), size=len(data), **kw)


def encode(obj: Manifest | Index | ImageConfig) -> bytes:
    """Canonical bytes to store or push (the digest is taken over exactly these bytes)."""
    return canonical(obj)


def decode_manifest(raw: bytes, what: str = "manifest") -> Manifest:
    return loads(Manifest, raw, what)


def decode_index(raw: bytes, what: str = "index") -> Index:
    return loads(Index, raw, what)


def decode_config(raw: bytes, what: str = "image config") -> ImageConfig:
    return loads(ImageConfig, raw, what)


def sniff_media_type(raw: bytes) -> str | None:
    """The media type a manifest/index declares in its body, or guessed from its members (Docker v2.2 rules)."""
    import json

    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    mt = data.get("mediaType")
    if isinstance(mt, str) and mt:
        return mt
    if "manifests" in data:
        return MT_OCI_INDEX
    if "config" in data and "layers" in data:
        return MT_OCI_MANIFEST
    return None
