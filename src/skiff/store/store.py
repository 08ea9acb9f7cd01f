"""The Store facade (containers/storage's store.go): blobs, images, layers, the storage driver, locks and gc.

Layout under ROOT (default /var/lib/skiff):
  blobs/sha256/<hex>            content-addressed blobs (manifests, configs, layer tars as received)
  images/images.json            image records and names (store/images.py)
  layers/<chain>.json, overlay/ unpacked layers shared between images (store/layers.py)
  overlay-containers/, vfs-containers/   containers' read-write layers (store/drivers/)
  containers/<id>/config.json   written by the containers work; its "Image" member (an image ID,
                                "sha256:<hex>") marks the image as in use (see image_in_use)
  locks/                        lock files (order: store/lock.py);  tmp/  temp files, same file system
RUNROOT (default /run/skiff) holds the driver probe result.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

from skiff.errors import ConflictError, NotFoundError, SkiffError
from skiff.oci.digest import Digest
from skiff.store import images as imgs
from skiff.store.lock import IMAGES, LAYERS, Locks

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from typing import BinaryIO

    from skiff.oci import image as oci
    from skiff.store.blobs import BlobStore
    from skiff.store.drivers.base import Driver
    from skiff.store.layers import LayerStore, LayerUnpacker

ImageRecord = imgs.ImageRecord


class MissingBlobError(NotFoundError):
    """A manifest names a blob that is not in the store."""


class Store:
    def __init__(self, root: Path, runroot: Path, driver: str | None = None,
                 unpacker: LayerUnpacker | None = None) -> None:
        self.root = Path(root)
        self.runroot = Path(runroot)
        self.tmp = self.root / "tmp"
        self.locks = Locks(self.root)
        self.images = imgs.ImageIndex(self.root, self.locks[IMAGES], self.tmp)
        self.unpacker = unpacker
        self._driver_name = driver
        self._driver: Driver | None = None

    # Blobs and layers are opened on first use: `skiff images` reads only the image index (start-up budget).
    @functools.cached_property
    def blobs(self) -> BlobStore:
        from skiff.store.blobs import BlobStore

        return BlobStore(self.root, self.tmp)

    @functools.cached_property
    def layers(self) -> LayerStore:
        from skiff.store.layers import LayerStore

        return LayerStore(self.root, self.locks[LAYERS], self.tmp)

    # ---- blobs ----
    def put_blob(self, data: bytes | BinaryIO, expected: Digest | None = None, size: int | None = None,
                 media_type: str = "application/octet-stream", what: str = "blob") -> oci.Descriptor:
        from skiff.oci import image as oci

        d, n = self.blobs.put(data, expected, size, what=what)
        return oci.Descriptor(media_type=media_type, digest=str(d), size=n)

    def get_blob(self, digest: Digest) -> bytes:
        return self.blobs.read(digest)

    def open_blob(self, digest: Digest) -> BinaryIO:
        return self.blobs.open(digest)

    def has_blob(self, digest: Digest) -> bool:
        return self.blobs.has(digest)

    # ---- images ----
    def list_images(self) -> list[ImageRecord]:
        return self.images.load()

    def resolve_image(self, text: str) -> ImageRecord:
        return imgs.find(self.images.load(), text)[0]

    def get_image(self, image_id: str) -> ImageRecord:
        for r in self.images.load():
            if r.id == image_id:
                return r
        raise NotFoundError(f"No such image: {image_id}")

    def manifest_bytes(self, rec: ImageRecord) -> bytes:
        return self.blobs.read(Digest(rec.manifest))

    def image_manifest(self, rec: ImageRecord) -> oci.Manifest:
        from skiff.oci import image as oci

        return oci.decode_manifest(self.manifest_bytes(rec), f"manifest of image {rec.short_id}")

    def config_bytes(self, rec: ImageRecord) -> bytes:
        return self.blobs.read(Digest(rec.id))

    def image_config(self, rec: ImageRecord) -> oci.ImageConfig:
        from skiff.oci import image as oci

        return oci.decode_config(self.config_bytes(rec), f"config of image {rec.short_id}")

    def put_image(self, manifest: bytes, names: list[str] | tuple[str, ...] = (),
                  digests: list[str] | tuple[str, ...] = (), parent: str | None = None) -> ImageRecord:
        """Record an image whose config and layer blobs are in the store; unpacks its layers (checking each
        layer's diff_id) and only then makes it visible. ``names`` are normalised tagged references."""
        from skiff.oci import image as oci
        from skiff.store.layers import LayerSource, chain_ids

        mdesc = oci.descriptor_for(manifest, oci.MT_OCI_MANIFEST)
        m = oci.decode_manifest(manifest)
        mt = m.media_type or oci.sniff_media_type(manifest) or oci.MT_OCI_MANIFEST
        if mt not in oci.MANIFEST_TYPES:
            raise SkiffError(f"manifest {mdesc.digest}: unsupported media type {mt}")
        for d in [m.config, *m.layers]:
            if not self.blobs.has(d.dgst):
                raise MissingBlobError(f"manifest {mdesc.digest} names blob {d.digest}, which is missing")
            if self.blobs.size(d.dgst) != d.size:
                raise SkiffError(f"blob {d.digest}: stored size {self.blobs.size(d.dgst)} differs from the "
                                 f"{d.size} in manifest {mdesc.digest}")
        raw_config = self.blobs.read(m.config.dgst)
        config = oci.decode_config(raw_config, f"image config {m.config.digest}")
        diff_ids = list(config.rootfs.diff_ids)
        if len(diff_ids) != len(m.layers):
            raise SkiffError(f"image config {m.config.digest} lists {len(diff_ids)} layers, its manifest "
                             f"{mdesc.digest} has {len(m.layers)}")
        sources = [LayerSource(diff_id, d.digest, d.media_type) for diff_id, d in zip(diff_ids, m.layers,
                                                                                       strict=True)]
        created: list[str] = []
        try:
            layer_recs = self.layers.ensure(sources, self.blobs.open, self._unpacker(), created)
        except BaseException:
            self._discard_layers(created)
            raise
        self.put_blob(manifest, mdesc.dgst, what="manifest")
        rec = ImageRecord(
            id=m.config.digest, manifest=mdesc.digest, manifest_media_type=mt,
            config_media_type=m.config.media_type, names=list(dict.fromkeys(names)),
            digests=list(dict.fromkeys(digests)), diff_ids=diff_ids,
            layer_blobs=[d.digest for d in m.layers], layer_media_types=[d.media_type for d in m.layers],
            chain_ids=chain_ids(diff_ids), created=config.created, size=sum(r.size for r in layer_recs),
            loaded=time.time(), architecture=config.architecture, os=config.os, parent=parent)
        self.blobs.sync()  # the blobs' names are durable before a record names them
        records = self.images.update(lambda rs: imgs.add_record(rs, rec))
        return next(r for r in records if r.id == rec.id)

    def _unpacker(self) -> LayerUnpacker:
        if self.unpacker is None:
            raise SkiffError("this store was opened without a layer unpacker")
        return self.unpacker

    def tag(self, image_id: str, name: str) -> ImageRecord:
        """Give ``name`` (a normalised tagged reference) to the image; it leaves any other image."""
        def change(rs: list[ImageRecord]) -> list[ImageRecord]:
            target = next((r for r in rs if r.id == image_id), None)
            if target is None:
                raise NotFoundError(f"No such image: {image_id}")
            return imgs.add_record(rs, target.replace(names=[*target.names, name]))

        return next(r for r in self.images.update(change) if r.id == image_id)

    def untag(self, name: str) -> ImageRecord:
        """Remove a name or repo digest from the image holding it; returns the image as it is now."""
        found: list[ImageRecord] = []

        def change(rs: list[ImageRecord]) -> list[ImageRecord]:
            out = []
            for r in rs:
                if name in r.names or name in r.digests:
                    r = r.replace(names=[n for n in r.names if n != name],
                                  digests=[d for d in r.digests if d != name])
                    found.append(r)
                out.append(r)
            if not found:
                raise NotFoundError(f"No such image: {name}")
            return out

        self.images.update(change)
        return found[0]

    def delete_image(self, image_id: str) -> ImageRecord:
        """Delete the image record (refused while a container uses it); layers and blobs go at gc().

        The in-use check runs under the images lock: a command creating a container takes that lock
        (``store.locks["images"].shared()``) while it writes its config.json, so the two cannot interleave."""
        gone: list[ImageRecord] = []

        def change(rs: list[ImageRecord]) -> list[ImageRecord]:
            users = self.image_in_use(image_id)
            if users:
                raise ConflictError(f"unable to delete {image_id.split(':', 1)[-1][:12]} (cannot be forced) - "
                                    f"image is being used by container {users[0][:12]}")
            gone.extend(r for r in rs if r.id == image_id)
            if not gone:
                raise NotFoundError(f"No such image: {image_id}")
            return [r for r in rs if r.id != image_id]

        self.images.update(change)
        return gone[0]

    def image_in_use(self, image_id: str) -> list[str]:
        """IDs of containers whose ROOT/containers/<id>/config.json has "Image" equal to this image's ID
        (either "sha256:<hex>" or the bare hex). The containers work writes those records."""
        d = self.root / "containers"
        if not d.is_dir():
            return []
        want = {image_id, image_id.split(":", 1)[-1]}
        users = []
        for cid in sorted(os.listdir(d)):
            try:
                data = json.loads((d / cid / "config.json").read_bytes())
            except (OSError, ValueError):
                continue
            if isinstance(data, dict) and data.get("Image") in want:
                users.append(cid)
        return users

    # ---- layers and containers' storage ----
    def layer_dirs(self, rec: ImageRecord) -> list[Path]:
        """The image's unpacked layer folders, lowest first (unpacked now if they are not yet)."""
        from skiff.store.layers import LayerSource

        sources = [LayerSource(d, b, t) for d, b, t in zip(rec.diff_ids, rec.layer_blobs, rec.layer_media_types,
                                                           strict=True)]
        if not all(self.layers.is_unpacked(c) for c in rec.chain_ids):
            self.layers.ensure(sources, self.blobs.open, self._unpacker())
        return [self.layers.diff_dir(c) for c in rec.chain_ids]

    @property
    def driver(self) -> Driver:
        if self._driver is None:
            from skiff.store.drivers.base import choose

            self._driver = choose(self._driver_name, self.root, self.runroot)
        return self._driver

    # ---- writers, undo and garbage collection (store/gc.py) ----
    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """Held by anything that writes blobs, images or ROOT/tmp files; gc leaves those alone meanwhile. The
        blob folder's fsync is deferred to the end, or to :meth:`put_image` (BlobStore.deferring)."""
        from skiff.store import gc

        with gc.writing(self.root), self.blobs.deferring():
            yield

    def discard_blobs(self, digests: list[str]) -> None:
        """Undo a failed transfer: delete these blobs unless an image uses them (the store is left as it was)."""
        from skiff.store import gc

        gc.discard_blobs(self, digests)

    def _discard_layers(self, chains: list[str]) -> None:
        from skiff.store import gc

        gc.discard_layers(self, chains)

    def gc(self) -> tuple[list[str], list[str]]:
        """Delete layers, blobs and temp files nothing uses; (removed chain IDs, removed blob digests).
        Skipped (empty lists) while another command is writing (see writing())."""
        from skiff.store import gc

        return gc.collect(self)
