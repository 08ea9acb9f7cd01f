"""skiff.transfer: moving images between the store and archives, layouts (and registries).

types.ImageSource / types.ImageDestination are the Protocols; copy.copy_image(src, dst, names=None,
digests=None, platform=None) -> CopyResult copies one image between any pair, verifying each blob.
Implementations: store.StoreSource/StoreDestination, docker_archive (DockerArchiveSource, docker_archive_images,
DockerArchiveDestination), oci_layout (LayoutSource, layout_images, LayoutDestination), formats.open_images
(sniffs a file or folder), bundle (read-only tar/folder access), sink (folder or tar output).
"""
