"""Copy one image from any ImageSource to any ImageDestination, verifying every blob (containers/image copy/)."""

from __future__ import annotations

import os

from skiff.errors import NotFoundError
from skiff.oci import image as oci
from skiff.oci.digest import Digest, VerifyingReader
from skiff.transfer.types import CopyResult, ImageDestination, ImageSource

_ARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386", "ppc64le": "ppc64le",
         "s390x": "s390x", "riscv64": "riscv64"}


def host_platform() -> oci.Platform:
    return oci.Platform(architecture=_ARCH.get(os.uname().machine, os.uname().machine), os="linux")


def choose_instance(index: oci.Index, want: oci.Platform) -> oci.Descriptor:
    for d in index.manifests:
        p = d.platform
        if p is not None and p.os == want.os and p.architecture == want.architecture and (
                want.variant is None or p.variant == want.variant):
            return d
    raise NotFoundError(f"no image for platform {want} in the index (has: "
                        f"{', '.join(str(d.platform) for d in index.manifests if d.platform) or 'none'})")


def copy_image(src: ImageSource, dst: ImageDestination, *, names: list[str] | None = None,
               digests: list[str] | None = None, platform: oci.Platform | None = None) -> CopyResult:
    """Copy the image ``src`` names into ``dst`` and commit it under ``names`` (default: the source's)."""
    raw, mt = src.get_manifest()
    if mt in oci.INDEX_TYPES:
        desc = choose_instance(oci.decode_index(raw), platform or host_platform())
        raw, mt = src.get_manifest(desc.digest)
        if Digest.of(raw) != desc.dgst:
            from skiff.errors import DigestMismatchError

            raise DigestMismatchError(f"manifest {desc.digest}: content has digest {Digest.of(raw)}")
    manifest = oci.decode_manifest(raw)
    result = CopyResult(image_id=manifest.config.digest, manifest_digest=str(Digest.of(raw)))
    for desc in [manifest.config, *manifest.layers]:
        if dst.has_blob(desc):
            result.blobs_skipped += 1
            continue
        stream = src.get_blob(desc)
        try:
            vr = VerifyingReader(stream, desc.dgst, desc.size, what=f"blob {desc.digest}")
            dst.put_blob(vr, desc)  # type: ignore[arg-type]
            vr.verify()
        finally:
            stream.close()
        result.bytes_copied += desc.size
    result.layers = [d.digest for d in manifest.layers]
    dst.put_manifest(raw, mt)
    result.names = list(src.names() if names is None else names)
    result.image_id = dst.commit(result.names, digests)
    return result
