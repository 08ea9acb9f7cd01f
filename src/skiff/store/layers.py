"""The layer store: each layer unpacked once, in overlay form, and shared by every image that has it.

Layout (containers/storage's overlay layout):
  ROOT/layers/<chain-hex>.json         LayerRecord, written after the folder is complete
  ROOT/overlay/<chain-hex>/diff        the layer's files; whiteouts as overlayfs keeps them (0/0 char devices,
                                       trusted.overlay.opaque=y), so the folder is a ready overlay lower dir
  ROOT/overlay/l/<short>               symlink -> ../<chain-hex>/diff; keeps overlay mount options short

A layer is identified by its chain ID (image-spec: chain[0] = diff_id[0], chain[n] = sha256(chain[n-1] + " " +
diff_id[n])). Unpacking happens under the layers lock into ROOT/overlay/.tmp-*, is checked against the
diff_id, then renamed into place: a crash leaves only a .tmp-* folder that the next writer removes.
References are counted from the image index and the containers' lower lists (see ``Store.gc``), never stored,
so a crash cannot make them wrong.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path

from skiff.errors import DigestMismatchError, SkiffError
from skiff.hashes import sha256
from skiff.lightfs import mkdtemp, remove_tree
from skiff.oci.codec import from_obj, jfield, to_obj
from skiff.oci.digest import Digest
from skiff.records import dataclass
from skiff.store.blobs import atomic_write
from skiff.store.lock import LockFile

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from typing import BinaryIO, Protocol
else:  # the protocols are only read by type checkers
    Protocol = object

SHORT = 24


class LayerUnpacker(Protocol):
    """Unpacks one layer blob (``media_type`` says its compression) into ``dest`` with overlay whiteouts.

    Returns (diff_id, unpacked size in bytes). Must refuse hostile tars (escapes, bad whiteouts) with a
    SkiffError. The engine injects skiff.archive's apply_layer here (store and archive are siblings)."""

    def __call__(self, stream: BinaryIO, media_type: str, dest: Path) -> tuple[str, int]: ...


@dataclass(frozen=True)
class LayerRecord:
    """One unpacked layer (``ROOT/layers/<chain-hex>.json``): chain ID, diff_id, parent, blob, size."""

    chain_id: str = jfield("chainID")
    diff_id: str = jfield("diffID")
    parent: str | None = jfield("parent", default=None)
    blob: str | None = jfield("blob", default=None)
    media_type: str | None = jfield("mediaType", default=None)
    size: int = jfield("size", default=0, keep_empty=True)

    @property
    def hex(self) -> str:
        return self.chain_id.split(":", 1)[1]

    @property
    def short(self) -> str:
        return self.hex[:SHORT]


@dataclass(frozen=True)
class LayerSource:
    """What the layer store needs to unpack a layer: its diff_id and the blob holding it."""

    diff_id: str
    blob: str
    media_type: str


def chain_ids(diff_ids: Iterable[str]) -> list[str]:
    out: list[str] = []
    for d in diff_ids:
        Digest(d)
        out.append(d if not out else "sha256:" + sha256(f"{out[-1]} {d}".encode()).hexdigest())
    return out


class LayerStore:
    def __init__(self, root: Path, lock: LockFile, tmp: Path) -> None:
        self.records_dir = root / "layers"
        self.dir = root / "overlay"
        self.links = self.dir / "l"
        self.lock = lock
        self.tmp = tmp

    def diff_dir(self, chain_id: str) -> Path:
        return self.dir / Digest(chain_id).hex / "diff"

    def link_name(self, chain_id: str) -> str:
        return "l/" + Digest(chain_id).hex[:SHORT]

    def get(self, chain_id: str) -> LayerRecord | None:
        try:
            raw = (self.records_dir / (Digest(chain_id).hex + ".json")).read_bytes()
        except FileNotFoundError:
            return None
        return from_obj(LayerRecord, json.loads(raw))

    def records(self) -> list[LayerRecord]:
        if not self.records_dir.is_dir():
            return []
        out = []
        for name in sorted(os.listdir(self.records_dir)):
            if name.endswith(".json"):
                rec = self.get("sha256:" + name[:-5])
                if rec is not None:
                    out.append(rec)
        return out

    def is_unpacked(self, chain_id: str) -> bool:
        return self.get(chain_id) is not None and self.diff_dir(chain_id).is_dir()

    def ensure(self, sources: list[LayerSource], open_blob: Callable[[Digest], BinaryIO],
               unpack: LayerUnpacker, created: list[str] | None = None) -> list[LayerRecord]:
        """Unpack every layer that is not unpacked yet; returns the records, lowest layer first.
        The chain IDs unpacked by this call are appended to ``created`` (so a failed caller can undo)."""
        chains = chain_ids(s.diff_id for s in sources)
        if all(self.is_unpacked(c) for c in chains):
            return [r for r in (self.get(c) for c in chains) if r is not None]
        with self.lock.exclusive():
            self._clean_tmp()
            out: list[LayerRecord] = []
            for i, (src, chain) in enumerate(zip(sources, chains, strict=True)):
                rec = self.get(chain)
                if rec is None or not self.diff_dir(chain).is_dir():
                    rec = self._unpack(src, chain, chains[i - 1] if i else None, open_blob, unpack)
                    if created is not None:
                        created.append(chain)
                out.append(rec)
            return out

    def _clean_tmp(self) -> None:
        if self.dir.is_dir():
            for name in os.listdir(self.dir):
                if name.startswith(".tmp-"):
                    remove_tree(self.dir / name)

    def _unpack(self, src: LayerSource, chain: str, parent: str | None,
                open_blob: Callable[[Digest], BinaryIO], unpack: LayerUnpacker) -> LayerRecord:
        self.dir.mkdir(parents=True, exist_ok=True)
        self.links.mkdir(exist_ok=True)
        self.records_dir.mkdir(parents=True, exist_ok=True)
        tmp = Path(mkdtemp(dir=self.dir, prefix=".tmp-"))
        try:
            (tmp / "diff").mkdir(mode=0o755)
            with open_blob(Digest(src.blob)) as stream:
                diff_id, size = unpack(stream, src.media_type, tmp / "diff")
            if diff_id != src.diff_id:
                raise DigestMismatchError(f"layer {src.blob}: uncompressed content has digest {diff_id}, "
                                          f"the image config says {src.diff_id}")
            final = self.dir / Digest(chain).hex
            if final.exists():  # left by a crash between rename and record: replace it
                import shutil

                shutil.rmtree(final)
            os.rename(tmp, final)
        except BaseException:
            remove_tree(tmp)
            raise
        link = self.links / Digest(chain).hex[:SHORT]
        with contextlib.suppress(FileNotFoundError):
            link.unlink()
        link.symlink_to(f"../{Digest(chain).hex}/diff")
        rec = LayerRecord(chain_id=chain, diff_id=src.diff_id, parent=parent, blob=src.blob,
                          media_type=src.media_type, size=size)
        atomic_write(self.records_dir / f"{Digest(chain).hex}.json", json.dumps(to_obj(rec)).encode(), self.tmp)
        return rec

    def remove(self, chains: list[str]) -> None:
        with self.lock.exclusive():
            for chain in chains:
                hexid = Digest(chain).hex
                with contextlib.suppress(FileNotFoundError):
                    (self.records_dir / f"{hexid}.json").unlink()
                with contextlib.suppress(FileNotFoundError):
                    (self.links / hexid[:SHORT]).unlink()
                _rmtree(self.dir / hexid)

    def remove_unused(self, keep: set[str]) -> list[str]:
        """Delete every layer whose chain ID is not in ``keep`` (caller holds the gc lock); returns them."""
        removed: list[str] = []
        with self.lock.exclusive():
            self._clean_tmp()
            for rec in self.records():
                if rec.chain_id in keep:
                    continue
                (self.records_dir / f"{rec.hex}.json").unlink()
                with contextlib.suppress(FileNotFoundError):
                    (self.links / rec.short).unlink()
                _rmtree(self.dir / rec.hex)
                removed.append(rec.chain_id)
        return removed


def _rmtree(path: Path) -> None:
    import shutil

    try:
        shutil.rmtree(path)
    except FileNotFoundError:
        pass
    except OSError as e:
        raise SkiffError(f"cannot remove layer folder {path}: {e.strerror}") from None
