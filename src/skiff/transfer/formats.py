"""Opening image archives and layouts by sniffing them: the sources `skiff load` can read."""

from __future__ import annotations

from pathlib import Path

from skiff.transfer.bundle import ArchiveFormatError, Bundle, open_bundle
from skiff.transfer.docker_archive import docker_archive_images, is_docker_archive
from skiff.transfer.oci_layout import is_layout, layout_images
from skiff.transfer.types import ImageSource


def open_images(path: Path, tmp_dir: Path, label: str | None = None) -> tuple[Bundle, list[ImageSource], str]:
    """(bundle to close, the images in it, format name: docker-archive | oci-archive | oci-dir)."""
    bundle = open_bundle(path, tmp_dir, label)
    try:
        if is_docker_archive(bundle):
            return bundle, list(docker_archive_images(bundle)), "docker-archive"
        if is_layout(bundle):
            kind = "oci-dir" if path.is_dir() else "oci-archive"
            return bundle, list(layout_images(bundle)), kind
    except BaseException:
        bundle.close()
        raise
    bundle.close()
    raise ArchiveFormatError(f"{label or path}: not an image archive (no manifest.json, no OCI index.json "
                             "and oci-layout)")
