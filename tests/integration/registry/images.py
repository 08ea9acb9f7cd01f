"""Test images made here (no outside registry): layer tars from folders, OCI manifests/configs, OCI layouts
(for skopeo's ``oci:`` transport), pushed raw with the client or with skopeo."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

from skiff.oci.image import MT_OCI_CONFIG, MT_OCI_INDEX, MT_OCI_LAYER_GZIP, MT_OCI_MANIFEST

MT_DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
MT_DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
MT_DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"


def _sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def layer_tar(root: Path, *, prefix: str = "") -> bytes:
    """An uncompressed tar of ``root`` (sorted, numeric owners, fixed mtimes)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        paths = sorted(p for p in root.rglob("*"))
        for p in paths:
            rel = prefix + str(p.relative_to(root))
            ti = tf.gettarinfo(str(p), arcname=rel)
            ti.mtime = 1_700_000_000
            ti.uname = ti.gname = ""
            if ti.isreg():
                with open(p, "rb") as f:
                    tf.addfile(ti, f)
            else:
                tf.addfile(ti)
    return buf.getvalue()


def files_tar(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, data in sorted(files.items()):
            ti = tarfile.TarInfo(name)
            ti.size, ti.mode, ti.mtime = len(data), 0o644, 1_700_000_000
            tf.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


@dataclass
class BuiltImage:
    manifest: bytes
    config: bytes
    blobs: dict[str, bytes] = field(default_factory=dict)  # digest -> bytes (config and layers)

    @property
    def digest(self) -> str:
        return _sha(self.manifest)

    @property
    def config_digest(self) -> str:
        return _sha(self.config)

    @property
    def layer_digests(self) -> list[str]:
        return [d["digest"] for d in json.loads(self.manifest)["layers"]]


def make_image(tars: list[bytes], *, arch: str = "amd64", cmd: list[str] | None = None,
               level: int = 1, docker: bool = False) -> BuiltImage:
    """An image of ``tars`` (gzip layers); ``docker`` gives Docker schema2 media types instead of OCI's."""
    blobs: dict[str, bytes] = {}
    layers, diff_ids = [], []
    for t in tars:
        gz = gzip.compress(t, compresslevel=level, mtime=0)
        blobs[_sha(gz)] = gz
        layers.append({"mediaType": MT_DOCKER_LAYER if docker else MT_OCI_LAYER_GZIP, "digest": _sha(gz),
                       "size": len(gz)})
        diff_ids.append(_sha(t))
    config = json.dumps({"architecture": arch, "os": "linux", "created": "2024-01-01T00:00:00Z",
                         "config": {"Cmd": cmd or ["/bin/sh"], "Env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]},
                         "rootfs": {"type": "layers", "diff_ids": diff_ids}}, sort_keys=True).encode()
    blobs[_sha(config)] = config
    manifest = json.dumps({"schemaVersion": 2, "mediaType": MT_DOCKER_MANIFEST if docker else MT_OCI_MANIFEST,
                           "config": {"mediaType": MT_DOCKER_CONFIG if docker else MT_OCI_CONFIG,
                                      "digest": _sha(config), "size": len(config)},
                           "layers": layers}).encode()
    return BuiltImage(manifest, config, blobs)


def make_index(images: dict[str, BuiltImage]) -> bytes:
    """An OCI index of ``{"linux/amd64": image, ...}``."""
    manifests = []
    for plat, img in images.items():
        os_, arch, *variant = plat.split("/")
        p = {"os": os_, "architecture": arch, **({"variant": variant[0]} if variant else {})}
        manifests.append({"mediaType": MT_OCI_MANIFEST, "digest": img.digest, "size": len(img.manifest),
                          "platform": p})
    return json.dumps({"schemaVersion": 2, "mediaType": MT_OCI_INDEX, "manifests": manifests}).encode()


def write_oci_layout(dest: Path, images: list[BuiltImage], top: bytes | None = None, tag: str = "latest") -> Path:
    """An OCI layout holding ``images``; its index.json names ``top`` (an index) or the single image."""
    blobs = dest / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)
    (dest / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    for img in images:
        for d, data in {**img.blobs, img.digest: img.manifest}.items():
            (blobs / d.split(":")[1]).write_bytes(data)
    if top is not None:
        (blobs / _sha(top).split(":")[1]).write_bytes(top)
        desc = {"mediaType": MT_OCI_INDEX, "digest": _sha(top), "size": len(top)}
    else:
        desc = {"mediaType": MT_OCI_MANIFEST, "digest": images[0].digest, "size": len(images[0].manifest)}
    desc["annotations"] = {"org.opencontainers.image.ref.name": tag}
    (dest / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [desc]}))
    return dest


def push_raw(client: object, ref: object, img: BuiltImage, tag: str | None = None) -> str:
    """Push with skiff's client (fast fixture set-up)."""
    from skiff.oci.image import Descriptor

    c = client  # RegistryClient
    m = json.loads(img.manifest)
    for d in [m["config"], *m["layers"]]:
        desc = Descriptor(media_type=d["mediaType"], digest=d["digest"], size=d["size"])
        if not c.blob_exists(ref, desc.digest):  # type: ignore[attr-defined]
            c.push_blob(ref, desc, io.BytesIO(img.blobs[desc.digest]))  # type: ignore[attr-defined]
    mt = m["mediaType"]
    return str(c.put_manifest(ref, img.manifest, mt, tag=tag))  # type: ignore[attr-defined]


def skopeo_env() -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/nonexistent"}
