"""Make a one-layer image from a root folder and put it in the store (import, bootstrap)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from skiff.engine.context import EngineContext
from skiff.oci import image as oci
from skiff.oci.digest import Digest


def commit_rootfs_image(ctx: EngineContext, rootfs: Path, work: Path, *, names: list[str],
                        edits: Callable[[oci.ContainerConfig], oci.ContainerConfig] | None = None,
                        created_by: str, comment: str | None = None, architecture: str | None = None,
                        os_name: str | None = None, created: str | None = None,
                        history: list[oci.History] | None = None) -> str:
    """Archive ``rootfs`` as a gzip layer, write config and manifest, store the image; returns its ID."""
    from skiff.archive import create_layer
    from skiff.engine.image_io import now_rfc3339
    from skiff.transfer.copy import host_platform

    store = ctx.store
    blob = work / "layer.blob"
    with open(blob, "wb") as out:
        res = create_layer(rootfs, out, compression="gzip")
    created = created or now_rfc3339()
    config = oci.ContainerConfig()
    if edits is not None:
        config = edits(config)
    hp = host_platform()
    hist = list(history or []) or [oci.History(created=created, created_by=created_by, comment=comment)]
    image_config = oci.ImageConfig(architecture=architecture or hp.architecture, os=os_name or "linux",
                                   rootfs=oci.RootFS(diff_ids=[str(res.diff_id)]), config=config,
                                   created=created, history=hist)
    raw_config = oci.encode(image_config)
    new = [d for d in (str(res.digest), str(oci.descriptor_for(raw_config, "").digest))
           if not store.has_blob(Digest(d))]
    with store.writing():
        try:
            with open(blob, "rb") as f:
                layer = store.put_blob(f, res.digest, res.size, res.media_type)
            cdesc = store.put_blob(raw_config, media_type=oci.MT_OCI_CONFIG)
            manifest = oci.Manifest(config=cdesc, layers=[layer])
            os.unlink(blob)
            rec = store.put_image(oci.encode(manifest), names=names)
        except BaseException:
            store.discard_blobs(new)
            raise
    return rec.id
