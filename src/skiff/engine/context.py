"""EngineContext: paths, configuration and lazily opened services, built once by the CLI or the API server
and passed down (no global state)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol

if TYPE_CHECKING:
    from skiff.store.store import Store


class HasGlobalOptions(Protocol):
    root: str
    runroot: str
    storage_driver: str | None
    runtime: str
    config: str | None


def unpack_layer(stream: BinaryIO, media_type: str, dest: Path) -> tuple[str, int]:
    """The store's LayerUnpacker, backed by skiff.archive (store and archive are siblings; the engine joins
    them). Layers go in overlay form: whiteouts become 0/0 char devices and opaque folders get the xattr."""
    from skiff.archive import apply_layer

    res = apply_layer(stream, dest, overlay_whiteouts=True, allow_devices=True, what=f"layer ({media_type})")
    return str(res.diff_id), res.size


@dataclass
class EngineContext:
    root: Path
    runroot: Path
    storage_driver: str | None = None
    runtime: str = "skiff"
    config_file: Path | None = None

    @classmethod
    def from_options(cls, opts: HasGlobalOptions) -> EngineContext:
        return cls(root=Path(opts.root), runroot=Path(opts.runroot), storage_driver=opts.storage_driver or None,
                   runtime=opts.runtime, config_file=Path(opts.config) if opts.config else None)

    @functools.cached_property
    def store(self) -> Store:
        from skiff.store.store import Store

        return Store(self.root, self.runroot, self.storage_driver, unpacker=unpack_layer)

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"
