"""The registry as a transfer source and destination (containers/image's docker_image_src/dest), plus the
parallel pull into the store and the parallel push from it that ``skiff pull``/``push`` use.

Pull: blobs download in a bounded thread pool straight into the store's CAS (verified there); layers are
unpacked in order as soon as each one and those below it are in, so the disk works while the network does.
A per-blob lock under RUNROOT keeps two concurrent pulls from downloading the same blob twice; the store's
own layer lock keeps them from unpacking it twice. Nothing is recorded as an image before everything is in.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol

from skiff.errors import DigestMismatchError, SkiffError
from skiff.oci import image as oci
from skiff.oci.digest import Digest
from skiff.oci.reference import Reference
from skiff.records import dataclass, field
from skiff.registry.client import RegistryClient
from skiff.registry.errors import RegistryProtocolError

if TYPE_CHECKING:
    from skiff.store.layers import LayerSource, LayerUnpacker
    from skiff.store.store import ImageRecord, Store

#: (layer key, event, value): events "start" (value: size), "progress" (bytes), "exists", "downloaded",
#: "extracting", "done", "pushed", "mounted", "skipped".
Events = Callable[[str, str, int], None]


def _noop(key: str, event: str, value: int) -> None:
    return None


# ---- Protocol implementations ---------------------------------------------------------------------------------
class RegistrySource:
    """ImageSource for one repository reference."""

    def __init__(self, client: RegistryClient, ref: Reference) -> None:
        self.client = client
        self.ref = ref

    def get_manifest(self, instance: str | None = None) -> tuple[bytes, str]:
        got = self.client.get_manifest(self.ref, digest=instance)
        return got.raw, got.media_type

    def get_blob(self, desc: oci.Descriptor) -> BinaryIO:
        return self.client.open_blob(self.ref, desc)  # type: ignore[return-value]

    def names(self) -> list[str]:
        return [str(self.ref)] if self.ref.tag else []

    def close(self) -> None:
        return None


class RegistryDestination:
    """ImageDestination for one repository reference; ``commit`` returns the pushed manifest's digest."""

    def __init__(self, client: RegistryClient, ref: Reference) -> None:
        self.client = client
        self.ref = ref
        self.digest: Digest | None = None

    def has_blob(self, desc: oci.Descriptor) -> bool:
        return self.client.blob_exists(self.ref, desc.digest)

    def put_blob(self, stream: BinaryIO, desc: oci.Descriptor) -> oci.Descriptor:
        if _seekable(stream):
            self.client.push_blob(self.ref, desc, stream)
            return desc
        with tempfile.TemporaryFile() as spool:
            shutil.copyfileobj(stream, spool, 1 << 20)
            self.client.push_blob(self.ref, desc, spool)
        return desc

    def put_manifest(self, raw: bytes, media_type: str) -> None:
        self.digest = self.client.put_manifest(self.ref, raw, media_type)

    def commit(self, names: list[str], digests: list[str] | None = None) -> str:
        return str(self.digest or "")

    def close(self) -> None:
        return None


def _seekable(stream: BinaryIO) -> bool:
    try:
        return bool(stream.seekable())
    except (AttributeError, OSError):
        return False


# ---- pull into the store ---------------------------------------------------------------------------------------
@dataclass
class PullResult:
    """What a pull did: the image and its digests, the bytes downloaded and the blobs already present."""

    image_id: str
    manifest_digest: str
    repo_digest: str
    names: list[str]
    layers: list[str] = field(default_factory=list)
    downloaded: int = 0  # bytes
    skipped: int = 0  # blobs already in the store
    up_to_date: bool = False


@contextlib.contextmanager
def _blob_lock(lock_dir: Path, digest: str) -> Iterator[None]:
    lock_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_dir / f"{Digest(digest).hex}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _unpack_layer(store: Store, src: LayerSource, chain: str, parent: str | None, unpacker: LayerUnpacker,
                  open_blob: Callable[[Digest], BinaryIO]) -> None:
    """Adapter: unpack ONE layer into the store (its own folder, record written last). The store's public
    ``LayerStore.ensure`` unpacks a whole chain one layer after the other from stored blobs; the pull unpacks
    each layer while its blob streams in, so it calls the store's single-layer step (under the layers lock
    the pull holds) with its own ``open_blob``. The layer's diff_id is checked there as always."""
    store.layers._unpack(src, chain, parent, open_blob, unpacker)


class Readable(Protocol):
    def read(self, n: int = -1, /) -> bytes: ...


class _Tee:
    """Reads the network stream for the unpacker and copies every byte into a pipe that a thread stores."""

    def __init__(self, stream: Readable, wfd: int) -> None:
        self.stream = stream
        self.wfd = wfd

    error: BaseException | None = None

    def read(self, n: int = -1) -> bytes:
        try:
            data = self.stream.read(n)
        except DigestMismatchError as e:
            self.error = e
            raise
        view = memoryview(data)
        while view:
            view = view[os.write(self.wfd, view):]
        return data

    def drain(self) -> None:
        while self.read(1 << 20):
            pass

    def __enter__(self) -> _Tee:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def _download_and_unpack(store: Store, stream: Readable, desc: oci.Descriptor, src: LayerSource, chain: str,
                         parent: str | None, unpacker: LayerUnpacker, what: str) -> None:
    """Unpack ``stream`` while a thread stores the same bytes as the blob (verified by the store); the
    blob's digest is checked when the stream ends, the layer's diff_id by the store's unpack step."""
    import threading

    rfd, wfd = os.pipe()
    with contextlib.suppress(OSError):
        fcntl.fcntl(wfd, 1031, 1 << 20)  # F_SETPIPE_SZ: fewer wake-ups
    stored: list[BaseException | None] = [None]

    def store_blob() -> None:
        try:
            with os.fdopen(rfd, "rb") as r:
                store.put_blob(r, desc.dgst, desc.size, desc.media_type, what=what)
        except BaseException as e:
            stored[0] = e

    t = threading.Thread(target=store_blob, name="skiff-pull-store")
    t.start()
    tee = _Tee(stream, wfd)
    failure: BaseException | None = None
    try:
        _unpack_layer(store, src, chain, parent, unpacker, lambda d: tee)  # type: ignore[arg-type,return-value]
        tee.drain()  # the tar may end before the blob does; the last read verifies the digest
    except Exception as e:
        failure = e
        # A corrupt blob usually breaks the decompressor first: name the real cause when the digest says so.
        with contextlib.suppress(Exception):
            tee.drain()
        if isinstance(tee.error, DigestMismatchError):
            failure = tee.error
    finally:
        os.close(wfd)
        t.join()
    if isinstance(failure, BrokenPipeError) and stored[0] is not None:
        raise stored[0]
    if failure is not None:
        raise failure
    if stored[0] is not None:
        raise stored[0]


def _has(store: Store, desc: oci.Descriptor) -> bool:
    return store.has_blob(desc.dgst) and store.blobs.size(desc.dgst) == desc.size


def pull_to_store(client: RegistryClient, store: Store, ref: Reference, *, platform: oci.Platform | None = None,
                  events: Events = _noop, jobs: int = 4, lock_dir: Path | None = None) -> PullResult:
    from skiff.store.layers import LayerSource, chain_ids

    lock_dir = lock_dir or store.runroot / "registry" / "locks"
    resolved = client.resolve(ref, platform)
    manifest = oci.decode_manifest(resolved.raw, f"{ref}: manifest")
    if manifest.config.media_type not in (oci.MT_OCI_CONFIG, "application/vnd.docker.container.image.v1+json"):
        raise RegistryProtocolError(f"{ref}: not a container image (config media type "
                                    f"{manifest.config.media_type!r})")
    for d in manifest.layers:
        if d.media_type not in oci.LAYER_TYPES:
            raise RegistryProtocolError(f"{ref}: unsupported layer media type {d.media_type!r}")
    repo_digest = f"{ref.name}@{resolved.index[2] if resolved.index else resolved.digest}"
    names = [str(ref)] if ref.tag else []
    result = PullResult(manifest.config.digest, str(resolved.digest), repo_digest, names,
                        [d.digest for d in manifest.layers])
    with store.writing():
        with _blob_lock(lock_dir, manifest.config.digest):
            if _has(store, manifest.config):
                raw_config = store.get_blob(manifest.config.dgst)
            else:
                raw_config = client.get_blob_bytes(ref, manifest.config)
                store.put_blob(raw_config, manifest.config.dgst, manifest.config.size,
                               manifest.config.media_type)
        config = oci.decode_config(raw_config, f"{ref}: image config {manifest.config.digest}")
        diff_ids = list(config.rootfs.diff_ids)
        if len(diff_ids) != len(manifest.layers):
            raise RegistryProtocolError(f"{ref}: the image config lists {len(diff_ids)} layers, the manifest "
                                        f"{len(manifest.layers)}")
        sources = [LayerSource(i, d.digest, d.media_type) for i, d in zip(diff_ids, manifest.layers, strict=True)]
        chains = chain_ids(diff_ids)
        unpacker = store.unpacker
        if unpacker is None:
            raise SkiffError("the store was opened without a layer unpacker")

        def layer(i: int) -> None:
            desc, chain, parent = manifest.layers[i], chains[i], chains[i - 1] if i else None
            key = desc.digest
            with _blob_lock(lock_dir, desc.digest):
                if _has(store, desc):
                    result.skipped += 1
                    if not store.layers.is_unpacked(chain):
                        events(key, "extracting", desc.size)
                        _unpack_layer(store, sources[i], chain, parent, unpacker, store.blobs.open)
                    events(key, "done", desc.size)
                    return
                events(key, "start", desc.size)
                with client.open_blob(ref, desc, lambda n: events(key, "progress", n)) as stream:
                    if store.layers.is_unpacked(chain):
                        store.put_blob(stream, desc.dgst, desc.size, desc.media_type,  # type: ignore[arg-type]
                                       what=f"{ref}: blob {desc.digest}")
                    else:
                        _download_and_unpack(store, stream, desc, sources[i], chain, parent, unpacker,
                                             f"{ref}: blob {desc.digest}")
                result.downloaded += desc.size
                events(key, "downloaded", desc.size)
                events(key, "done", desc.size)

        # Each layer unpacks into its own folder (overlay form) while its blob streams in and is stored, in
        # parallel with the other layers: network, decompression and disk all work at once.
        with store.layers.lock.exclusive(), \
                ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="skiff-pull") as pool:
            futures: list[Future[None]] = []
            try:
                for i, (desc, chain) in enumerate(zip(manifest.layers, chains, strict=True)):
                    if store.layers.is_unpacked(chain) and _has(store, desc):
                        events(desc.digest, "exists", desc.size)
                        result.skipped += 1
                        continue
                    futures.append(pool.submit(layer, i))
                for f in futures:
                    f.result()
            except BaseException:
                for f in futures:
                    f.cancel()
                raise
        before = {r.id: r for r in store.list_images()}.get(manifest.config.digest)
        rec = store.put_image(resolved.raw, names, [repo_digest])
        result.image_id = rec.id
        result.up_to_date = (before is not None and result.downloaded == 0
                             and all(n in before.names for n in names))
    return result


# ---- push from the store ---------------------------------------------------------------------------------------
@dataclass
class PushResult:
    """What a push did: the manifest written, its size, and how many blobs were uploaded, mounted or present."""

    reference: str
    manifest_digest: str
    size: int
    pushed: int = 0
    mounted: int = 0
    existing: int = 0


def push_from_store(client: RegistryClient, store: Store, rec: ImageRecord, dest: Reference, *,
                    events: Events = _noop, jobs: int = 4) -> PushResult:
    raw = store.manifest_bytes(rec)
    manifest = oci.decode_manifest(raw, f"manifest of image {rec.id}")
    result = PushResult(str(dest), str(Digest.of(raw)), len(raw))
    mount_from = [Reference(*_split_repo(d)) for d in rec.digests if d.startswith(dest.domain + "/")]
    mount_from = [r for r in mount_from if r.path != dest.path]

    def one(desc: oci.Descriptor) -> str:
        key = desc.digest
        if client.blob_exists(dest, desc.digest):
            events(key, "exists", desc.size)
            return "existing"
        for src in mount_from:
            if client.mount_blob(dest, desc.digest, src.path):
                events(key, "mounted", desc.size)
                return "mounted"
        events(key, "start", desc.size)
        with store.open_blob(desc.dgst) as f:
            client.push_blob(dest, desc, f, lambda n: events(key, "progress", n))
        events(key, "pushed", desc.size)
        return "pushed"

    with ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="skiff-push") as pool:
        outcomes = list(pool.map(one, [*manifest.layers, manifest.config]))
    result.pushed = outcomes.count("pushed")
    result.mounted = outcomes.count("mounted")
    result.existing = outcomes.count("existing")
    mt = rec.manifest_media_type or manifest.media_type or oci.MT_OCI_MANIFEST
    got = client.put_manifest(dest, raw, mt)
    result.manifest_digest = str(got)
    return result


def _split_repo(repo_digest: str) -> tuple[str, str]:
    name = repo_digest.split("@", 1)[0]
    domain, _, path = name.partition("/")
    return domain, path
