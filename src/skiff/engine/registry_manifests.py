"""`skiff manifest create/annotate/inspect/push/rm`: local manifest lists, as docker/cli's ``docker manifest``.

A list is a folder ``ROOT/manifests/<list ref>/`` holding one file per image, ``<image ref>.json`` (references
made file-safe as docker/cli does: ``:`` -> ``%``, ``/`` -> ``#``), in docker/cli's ``types.ImageManifest``
JSON, written atomically. `create` reads each image's manifest and config from its registry (never the
image store); `push` copies images from other repositories of the same registry into the list's (blobs
mounted across repositories, else downloaded and uploaded; then the manifest PUT by digest) and PUTs the
list by its tag.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from skiff.errors import ConflictError, InvalidArgumentError, NotFoundError
from skiff.oci import reference
from skiff.oci.image import INDEX_TYPES, LAYER_TYPES, MANIFEST_TYPES, Descriptor, decode_index
from skiff.records import dataclass
from skiff.registry import manifest_lists as ml
from skiff.registry.manifest_lists import ListEntry

if TYPE_CHECKING:
    from skiff.engine.registry import RegistryOptions
    from skiff.registry.client import RegistryClient

_FOREIGN = frozenset({"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
                      "application/vnd.oci.image.layer.nondistributable.v1.tar",
                      "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
                      "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd"})


class ManifestListStore:
    """``ROOT/manifests``: one folder per list, one file per image (docker/cli's ~/.docker/manifests)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.dir = self.root / "manifests"

    def list_dir(self, list_ref: str) -> Path:
        return self.dir / ml.safe_name(list_ref)

    def exists(self, list_ref: str) -> bool:
        return self.list_dir(list_ref).is_dir()

    def get_list(self, list_ref: str) -> list[ListEntry]:
        """The list's entries in docker/cli's order (by image reference); NotFoundError if there is none."""
        d = self.list_dir(list_ref)
        try:
            names = [n for n in os.listdir(d) if n.endswith(ml.FILE_SUFFIX) and not n.startswith(".")]
        except (FileNotFoundError, NotADirectoryError):
            raise NotFoundError(f"No such manifest: {list_ref}") from None
        names.sort(key=lambda n: n.removesuffix(ml.FILE_SUFFIX))
        return [self._read(d / n) for n in names]

    def get(self, list_ref: str, ref: str) -> ListEntry:
        path = self.list_dir(list_ref) / ml.entry_filename(ref)
        try:
            return self._read(path)
        except FileNotFoundError:
            raise NotFoundError(f"No such manifest: {ref}") from None

    @staticmethod
    def _read(path: Path) -> ListEntry:
        return ml.decode_entry(path.read_bytes(), str(path))

    def save(self, list_ref: str, entry: ListEntry) -> None:
        from skiff.store.blobs import atomic_write

        d = self.list_dir(list_ref)
        d.mkdir(parents=True, exist_ok=True)
        atomic_write(d / ml.entry_filename(entry.ref), ml.encode_entry(entry))

    def remove(self, list_ref: str) -> None:
        d = self.list_dir(list_ref)
        if not d.exists():
            return
        gone = d.with_name(f".rm-{d.name}-{os.getpid()}")
        os.replace(d, gone)  # readers see the whole list or none of it
        shutil.rmtree(gone, ignore_errors=True)


def _list_ref(text: str, what: str) -> reference.Reference:
    try:
        return reference.parse(text)
    except reference.ReferenceError as e:
        raise InvalidArgumentError(f"{what} {text}: {e}") from None


def _open(root: str | Path, o: RegistryOptions) -> RegistryClient:
    from skiff.engine.registry import open_client

    return open_client(root, o)


def _entry_from(client: RegistryClient, ref: reference.Reference, raw: bytes, media_type: str,
                digest: str) -> ListEntry:
    """docker/cli's ImageManifest of an image manifest: its descriptor, the platform from its config."""
    try:
        m = json.loads(raw)
        c = m["config"]
        cdesc = Descriptor(media_type=str(c.get("mediaType") or ""), digest=str(c["digest"]), size=int(c["size"]))
    except (ValueError, KeyError, TypeError, AttributeError):
        raise InvalidArgumentError(f"{ref}: the manifest has no usable config descriptor") from None
    config = json.loads(client.get_blob_bytes(ref, cdesc))
    if not isinstance(config, dict):
        raise InvalidArgumentError(f"{ref}: the image config is not a JSON object")
    return ListEntry(str(ref), media_type, digest, len(raw), raw, ml.platform_from_config(config))


def fetch_entry(client: RegistryClient, ref: reference.Reference) -> ListEntry:
    """An image's manifest from its registry, as `docker manifest create` records it (a list is refused)."""
    from skiff.registry.errors import RegistryNotFoundError

    try:
        got = client.get_manifest(ref)
    except RegistryNotFoundError:
        raise NotFoundError(f"no such manifest: {ref}") from None
    if got.media_type in INDEX_TYPES:
        raise InvalidArgumentError(f"{ref} is a manifest list")
    if got.media_type not in MANIFEST_TYPES:
        raise InvalidArgumentError(f"{ref} is not a manifest")
    return _entry_from(client, ref, got.raw, got.media_type, str(got.digest))


# ---- create ------------------------------------------------------------------------------------------------
def manifest_create(root: str | Path, list_text: str, images: list[str], o: RegistryOptions, *,
                    amend: bool = False) -> str:
    """Record ``images`` (fetched from their registry) in local list ``list_text``; returns the list's
    normalised reference. An image already in the list keeps its entry (and its annotations)."""
    target = str(_list_ref(list_text, "error parsing name for manifest list"))
    store = ManifestListStore(root)
    if store.exists(target) and not amend:
        raise ConflictError("refusing to amend an existing manifest list with no --amend flag")
    client: RegistryClient | None = None
    try:
        for text in images:
            ref = reference.parse(text)
            try:
                entry = store.get(target, str(ref))
            except NotFoundError:
                if client is None:
                    client = _open(root, o)
                entry = fetch_entry(client, ref)
            store.save(target, entry)
    finally:
        if client is not None:
            client.close()
    return target


# ---- annotate ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AnnotateOptions:
    """What `skiff manifest annotate` sets (empty: unchanged; os features are added)."""

    os: str = ""
    arch: str = ""
    variant: str = ""
    os_version: str = ""
    os_features: tuple[str, ...] = ()


def manifest_annotate(root: str | Path, list_text: str, image_text: str, a: AnnotateOptions) -> ListEntry:
    target = str(_list_ref(list_text, "annotate: error parsing name for manifest list"))
    ref = str(_list_ref(image_text, "annotate: error parsing name for manifest"))
    store = ManifestListStore(root)
    try:
        entry = store.get(target, ref)
    except NotFoundError:
        raise NotFoundError(f"manifest for image {image_text} does not exist in {list_text}") from None
    entry = ml.annotate(entry, os_=a.os, arch=a.arch, variant=a.variant, os_version=a.os_version,
                        os_features=list(a.os_features))
    store.save(target, entry)
    return entry


# ---- inspect -----------------------------------------------------------------------------------------------
def manifest_inspect_local(root: str | Path, list_text: str | None, ref_text: str, *,
                           verbose: bool = False) -> bytes | None:
    """What `docker manifest inspect` prints from the local store (with its newline), or None when
    ``ref_text`` names no local list (the caller asks the registry). With ``list_text``, the entry
    ``ref_text`` of that list (no registry fallback)."""
    ref = str(reference.parse(ref_text))
    store = ManifestListStore(root)
    if list_text is not None:
        entry = store.get(str(reference.parse(list_text)), ref)
        if verbose:
            return ml.verbose_entry(entry) + b"\n"
        return ml.go_indent(entry.raw) + b"\n"
    try:
        entries = store.get_list(ref)
    except NotFoundError:
        return None
    if verbose:
        return ml.verbose_list(entries) + b"\n"
    return ml.build_list(entries, ref) + b"\n"


def manifest_inspect_verbose_remote(root: str | Path, ref_text: str, o: RegistryOptions) -> bytes:
    """`docker manifest inspect -v REF` of a registry's manifest (its entry, platform from its config) or
    list (each image's entry, platform from the list)."""
    from skiff.oci.image import Platform

    ref = reference.parse(ref_text)
    with _open(root, o) as client:
        got = client.get_manifest(ref)
        if got.media_type not in INDEX_TYPES:
            entry = _entry_from(client, ref, got.raw, got.media_type, str(got.digest))
            return ml.verbose_entry(entry) + b"\n"
        index = decode_index(got.raw, f"{ref}: manifest list")
        entries = []
        for d in index.manifests:
            child = client.get_manifest(ref, digest=d.digest)
            cref = reference.Reference(ref.domain, ref.path, ref.tag, d.digest)
            p = d.platform or Platform(architecture="", os="")
            entries.append(ListEntry(str(cref), child.media_type, str(child.digest), len(child.raw), child.raw,
                                     Platform(architecture=p.architecture, os=p.os, os_version=p.os_version,
                                              os_features=list(p.os_features), variant=p.variant)))
    return ml.verbose_list(entries) + b"\n"


# ---- push --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ManifestPushReport:
    """What `skiff manifest push` did: the list's reference, media type and digest, the images it copied
    from other repositories (``name@digest``), and whether the local list was removed."""

    reference: str
    media_type: str
    digest: str
    copied: list[str]
    purged: bool


def manifest_push(root: str | Path, list_text: str, o: RegistryOptions, *, purge: bool = False,
                  copied: Callable[[str, str], None] | None = None) -> ManifestPushReport:
    """Push local list ``list_text``: images from other repositories first (``copied(ref, digest)`` hears of
    each), then the list under its tag; ``purge`` removes the local list afterwards."""
    target = reference.parse(list_text)
    store = ManifestListStore(root)
    entries = store.get_list(str(target))
    if not entries:
        raise NotFoundError(f"{target} not found")
    body = ml.build_list(entries, str(target), for_push=True)
    media_type = ml.list_media_type(entries)
    repo = reference.Reference(target.domain, target.path)
    done: list[str] = []
    with _open(root, o) as client:
        for e in entries:
            src = reference.parse(e.ref)
            if src.name == target.name:
                continue
            for b in e.blobs():
                _copy_blob(client, root, src, repo, b)
            client.put_manifest(repo, e.raw, e.media_type, tag=e.digest)
            pushed = f"{target.name}@{e.digest}"
            done.append(pushed)
            if copied is not None:
                copied(pushed, e.digest)
        dgst = client.put_manifest(target, body, media_type)
    if purge:
        store.remove(str(target))
    return ManifestPushReport(str(target), media_type, str(dgst), done, purge)


def _copy_blob(client: RegistryClient, root: str | Path, src: reference.Reference, dest: reference.Reference,
               d: dict[str, Any]) -> None:
    """Make blob ``d`` of ``src`` present in ``dest`` (same registry): there already, mounted, or copied."""
    import tempfile

    try:
        desc = Descriptor(media_type=str(d.get("mediaType") or ""), digest=str(d["digest"]), size=int(d["size"]))
    except (KeyError, TypeError, ValueError):
        raise InvalidArgumentError(f"{src}: the manifest has a malformed descriptor") from None
    if client.blob_exists(dest, desc.digest) or client.mount_blob(dest, desc.digest, src.path):
        return
    if desc.media_type in _FOREIGN or (desc.media_type in LAYER_TYPES and d.get("urls")):
        return  # foreign layers live elsewhere (docker/cli lets Windows' go unmounted)
    tmp = Path(root) / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile(dir=tmp) as f:
        client.get_blob(src, desc, f)
        client.push_blob(dest, desc, f)


# ---- rm ----------------------------------------------------------------------------------------------------
def manifest_rm(root: str | Path, lists: list[str]) -> None:
    """Remove local lists; every one is tried, the errors (docker/cli's words) are raised together."""
    store = ManifestListStore(root)
    errs: list[str] = []
    for text in lists:
        try:
            ref = str(reference.parse(text))
        except reference.ReferenceError as e:
            errs.append(str(e))
            continue
        if not store.exists(ref):
            errs.append(f"No such manifest: {ref}")
            continue
        try:
            store.remove(ref)
        except OSError as e:
            errs.append(f"{ref}: {e.strerror or e}")
    if errs:
        raise NotFoundError("\n".join(errs))
