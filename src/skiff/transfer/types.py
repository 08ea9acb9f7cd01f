"""The transfer Protocols (containers/image's types.ImageSource / ImageDestination, trimmed to what skiff uses).

A source is ONE image (or one index of images) somewhere: an entry of a docker archive, a manifest in an OCI
layout or archive, a registry repository, or an image in the store. A destination receives one image at a
time: blobs first, then the manifest, then ``commit`` makes it visible (the store writes its image record only
there, so a crash before commit leaves no image). ``copy.copy_image`` moves an image between any pair and
verifies every blob against its digest and size on the way.

Implementations: docker_archive, oci_layout (folders), oci_archive (tar of a layout), store; the registry work
adds registry.py with the same Protocols.
"""

from __future__ import annotations

from typing import BinaryIO, Protocol

from skiff.oci.image import Descriptor
from skiff.records import dataclass, field


class ImageSource(Protocol):
    def get_manifest(self, instance: str | None = None) -> tuple[bytes, str]:
        """The manifest (or index) bytes exactly as stored, and their media type. ``instance`` is a digest
        naming one manifest of the index this source returned first (multi-platform images)."""
        ...

    def get_blob(self, desc: Descriptor) -> BinaryIO:
        """A stream of the blob (config or layer); the caller verifies it and closes it."""
        ...

    def names(self) -> list[str]:
        """Normalised tagged references this image carries in the source (archives, store); may be empty."""
        ...

    def close(self) -> None: ...


class ImageDestination(Protocol):
    def has_blob(self, desc: Descriptor) -> bool: ...

    def put_blob(self, stream: BinaryIO, desc: Descriptor) -> Descriptor:
        """Store the blob; must refuse content that does not match ``desc`` (digest and size)."""
        ...

    def put_manifest(self, raw: bytes, media_type: str) -> None:
        """The image manifest (never an index: copy chooses the platform first)."""
        ...

    def commit(self, names: list[str], digests: list[str] | None = None) -> str:
        """Make the image visible under ``names`` (normalised references); returns the image ID."""
        ...

    def close(self) -> None:
        """Finish the destination (write an archive's index); a destination can take several images."""
        ...


@dataclass
class CopyResult:
    """What :func:`copy_image` did: image ID, manifest digest, names, layers, bytes copied, blobs skipped."""

    image_id: str
    manifest_digest: str
    names: list[str] = field(default_factory=list)
    layers: list[str] = field(default_factory=list)
    bytes_copied: int = 0
    blobs_skipped: int = 0
