"""commit: the container's image plus one layer holding the container's changes, stored as a new image."""

from __future__ import annotations

import contextlib
import os
import tempfile
from typing import TYPE_CHECKING

from skiff.errors import SkiffError
from skiff.records import replace

if TYPE_CHECKING:
    from .containers import ContainerEngine


def commit_container(eng: ContainerEngine, cid: str, reference: str | None, *, changes: list[str],
                     message: str | None, author: str | None, pause: bool = True) -> str:
    from skiff.archive import create_layer
    from skiff.oci import image as oci
    from skiff.oci import reference as refmod

    from .changes import apply_changes
    from .containers_state import Status
    from .image_io import now_rfc3339

    edit = apply_changes(changes)  # bad -c fails before anything is written
    name = str(refmod.parse(reference)) if reference else None
    store = eng.store
    rec = eng.cs.record(cid)
    drv = store.driver
    if drv.name != "overlay":
        raise SkiffError(f"commit: the {drv.name} storage driver is not supported yet (use overlay)")
    img = store.get_image(rec.image)
    base_cfg = store.image_config(img)
    manifest = store.image_manifest(img)
    cfg = rec.config
    container_cfg = replace(base_cfg.config, env=list(cfg.env), cmd=cfg.cmd, entrypoint=cfg.entrypoint,
                            working_dir=cfg.working_dir or None, user=cfg.user or None,
                            labels=dict(cfg.labels), stop_signal=cfg.stop_signal,
                            healthcheck=cfg.healthcheck if cfg.healthcheck is not None else base_cfg.config.healthcheck)
    container_cfg = edit(container_cfg)
    created = now_rfc3339()
    store.tmp.mkdir(parents=True, exist_ok=True)
    paused = False
    if pause and eng.cs.state(cid).st is Status.RUNNING:
        with contextlib.suppress(SkiffError):
            eng.pause(cid)
            paused = True
    with tempfile.TemporaryDirectory(dir=store.tmp) as work, store.writing():
        blob = os.path.join(work, "layer.blob")
        try:
            with open(blob, "wb") as out:
                res = create_layer(drv.upper_dir(cid), out, compression="gzip", mode="overlay-upper")
        finally:
            if paused:
                with contextlib.suppress(SkiffError):
                    eng.unpause(cid)
        hist = [*base_cfg.history, oci.History(created=created, created_by=" ".join([rec.path, *rec.args]),
                                               comment=message, author=author)]
        # Docker's image "comment" is the commit message (none without -m), not the parent's
        extra = {k: v for k, v in base_cfg.extra.items() if k != "comment"} | ({"comment": message} if message else {})
        new_cfg = replace(base_cfg, config=container_cfg, created=created, author=author, extra=extra,
                          rootfs=replace(base_cfg.rootfs, diff_ids=[*base_cfg.rootfs.diff_ids, str(res.diff_id)]),
                          history=hist)
        with open(blob, "rb") as f:
            layer = store.put_blob(f, res.digest, res.size, res.media_type)
        cdesc = store.put_blob(oci.encode(new_cfg), media_type=oci.MT_OCI_CONFIG)
        m = oci.Manifest(config=cdesc, layers=[*manifest.layers, layer])
        new = store.put_image(oci.encode(m), names=[name] if name else [], parent=img.id)
    from skiff.events import image_event

    familiar = refmod.parse(name).familiar() if name else ""
    eng.event(rec, "commit", {"comment": message or "", "imageID": str(new.id), "imageRef": familiar})
    if name:
        image_event(eng.runroot, "tag", str(new.id), familiar)
    return str(new.id)
