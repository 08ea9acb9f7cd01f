"""EngineContext: paths, configuration and lazily opened services, built once by the CLI or the API server
and passed down (no global state).

Start-up budget: building a context imports nothing (no pathlib, no store); `skiff images` only reads the
image index through :meth:`EngineContext.image_index`.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up budget)
if TYPE_CHECKING:
    from pathlib import Path
    from typing import BinaryIO, Protocol

    from skiff.store.images import ImageIndex
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
    import shutil

    from skiff.archive import apply_layer

    # a layer may not fill the disk (decompression bombs): bound it by the free space, less 1 GiB
    limit = max(0, shutil.disk_usage(dest).free - (1 << 30))
    res = apply_layer(stream, dest, overlay_whiteouts=True, allow_devices=True, max_bytes=limit,
                      what=f"layer ({media_type})")
    return str(res.diff_id), res.content_size  # the size Docker shows: file contents, not the tar stream


class EngineContext:
    """``root``/``runroot`` are the store folders; ``storage_driver`` None means choose automatically;
    ``runtime`` is skiff, crun or runc; ``config_file`` an optional skiff config file."""

    def __init__(self, root: str | Path, runroot: str | Path, storage_driver: str | None = None,
                 runtime: str = "skiff", config_file: str | Path | None = None) -> None:
        self.root_dir = str(root)
        self.runroot_dir = str(runroot)
        self.storage_driver = storage_driver or None
        self.runtime = runtime
        self.config_path = str(config_file) if config_file else None
        self._store: Store | None = None

    @classmethod
    def from_options(cls, opts: HasGlobalOptions) -> EngineContext:
        return cls(opts.root, opts.runroot, opts.storage_driver, opts.runtime, opts.config)

    @property
    def root(self) -> Path:
        from pathlib import Path

        return Path(self.root_dir)

    @property
    def runroot(self) -> Path:
        from pathlib import Path

        return Path(self.runroot_dir)

    @property
    def config_file(self) -> Path | None:
        from pathlib import Path

        return Path(self.config_path) if self.config_path else None

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"

    @property
    def store(self) -> Store:
        if self._store is None:
            from skiff.store.store import Store

            self._store = Store(self.root, self.runroot, self.storage_driver, unpacker=unpack_layer)
        return self._store

    def image_index(self) -> ImageIndex:
        """The image index alone (cheap): the store's if it is open, else a reader of ROOT/images."""
        if self._store is not None:
            return self._store.images
        from skiff.store.images import ImageIndex

        return ImageIndex(self.root_dir)
