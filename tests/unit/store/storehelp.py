"""Helpers for store tests: layer tars made with tarfile, and a Store wired to skiff.archive's unpacker."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from skiff.engine.context import unpack_layer
from skiff.oci import image as oci
from skiff.store.store import Store


def layer_tar(files: dict[str, bytes | str | None], dirs: tuple[str, ...] = ()) -> bytes:
    """A layer tar: name -> content (bytes), symlink target ("->target" str), or None for a whiteout file."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for d in dirs:
            info = tarfile.TarInfo(d)
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, 1
            t.addfile(info)
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.mtime = 1
            if isinstance(content, str):
                info.type, info.linkname = tarfile.SYMTYPE, content
                t.addfile(info)
            else:
                data = content or b""
                info.size, info.mode = len(data), 0o644
                t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def put_test_image(store: Store, layers: list[bytes], names: list[str] = (), cmd: list[str] | None = None,
                   created: str = "2024-01-01T00:00:00Z") -> str:
    from skiff.oci.digest import Digest

    descs = [store.put_blob(data, media_type=oci.MT_OCI_LAYER) for data in layers]
    cfg = oci.ImageConfig(rootfs=oci.RootFS(diff_ids=[str(Digest.of(x)) for x in layers]),
                          config=oci.ContainerConfig(cmd=cmd), created=created,
                          history=[oci.History(created=created, created_by=f"layer {i}") for i in range(len(layers))])
    cdesc = store.put_blob(oci.encode(cfg), media_type=oci.MT_OCI_CONFIG)
    manifest = oci.encode(oci.Manifest(config=cdesc, layers=descs))
    return store.put_image(manifest, names=list(names)).id


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "root", tmp_path / "run", unpacker=unpack_layer)
    yield s
    s.locks.close()
