"""The store as a transfer source and destination."""

from __future__ import annotations

from typing import BinaryIO

from skiff.errors import SkiffError
from skiff.oci import image as oci
from skiff.store.store import ImageRecord, Store


class StoreSource:
    def __init__(self, store: Store, rec: ImageRecord) -> None:
        self.store = store
        self.rec = rec

    def get_manifest(self, instance: str | None = None) -> tuple[bytes, str]:
        return self.store.manifest_bytes(self.rec), self.rec.manifest_media_type

    def get_blob(self, desc: oci.Descriptor) -> BinaryIO:
        return self.store.open_blob(desc.dgst)

    def names(self) -> list[str]:
        return list(self.rec.names)

    def close(self) -> None:
        return None


class StoreDestination:
    """Blobs go in as they come (verified); ``commit`` unpacks the layers and writes the image record.

    Hold ``store.writing()`` around the whole copy so that a concurrent gc leaves the new blobs alone."""

    def __init__(self, store: Store, parent: str | None = None) -> None:
        self.store = store
        self.parent = parent
        self._manifest: bytes | None = None
        self.created: list[str] = []  # blobs this destination added (discard() removes them after a failure)

    def has_blob(self, desc: oci.Descriptor) -> bool:
        return self.store.has_blob(desc.dgst) and self.store.blobs.size(desc.dgst) == desc.size

    def put_blob(self, stream: BinaryIO, desc: oci.Descriptor) -> oci.Descriptor:
        if not self.store.has_blob(desc.dgst):
            self.created.append(desc.digest)
        return self.store.put_blob(stream, desc.dgst, desc.size, desc.media_type, what=f"blob {desc.digest}")

    def put_manifest(self, raw: bytes, media_type: str) -> None:
        if media_type not in oci.MANIFEST_TYPES:
            raise SkiffError(f"cannot store a {media_type} as an image manifest")
        self._manifest = raw

    def commit(self, names: list[str], digests: list[str] | None = None) -> str:
        if self._manifest is None:
            raise SkiffError("store destination: commit before put_manifest")
        rec = self.store.put_image(self._manifest, names, digests or [], parent=self.parent)
        self._manifest = None
        return rec.id

    def discard(self) -> None:
        """After a failed copy: remove the blobs this destination added that no image uses."""
        self.store.discard_blobs(self.created)
        self.created = []

    def close(self) -> None:
        return None
