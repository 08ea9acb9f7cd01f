"""skiff.store: everything under --root (default /var/lib/skiff) and --runroot (default /run/skiff).

Public API (import the modules directly; this package imports nothing, for start-up time):

  store.Store(root, runroot, driver=None, unpacker=None)      the facade (engine builds it: EngineContext.store)
    put_blob(bytes|stream, expected=None, size=None, media_type=...) -> oci.image.Descriptor   (verified)
    get_blob(digest) -> bytes (verified) | open_blob(digest) -> BinaryIO | has_blob(digest)
    put_image(manifest_bytes, names=(), digests=(), parent=None) -> ImageRecord
        config and layer blobs must already be stored; layers are unpacked (diff_id checked) before the
        record becomes visible. Hold `with store.writing():` around blob puts + put_image.
    resolve_image(text) -> ImageRecord   Docker's rules: full ref, familiar name, repo digest, ID, ID prefix
    get_image(id) | list_images() | image_config(rec) -> ImageConfig | image_manifest(rec) | config_bytes(rec)
    tag(image_id, normalised_name) | untag(name) | delete_image(image_id) | gc() -> (layers, blobs removed)
    image_in_use(image_id) -> [container ids]   reads ROOT/containers/<id>/config.json {"Image": "sha256:..."}
    layer_dirs(rec) -> [Path]               unpacked layer folders, lowest first (overlay form)
    driver -> drivers.base.Driver           overlay or vfs (create_rw, mount, unmount, remove, diff, upper_dir)
    discard_blobs(digests)                  undo a failed transfer
  images.ImageRecord, images.find, layers.chain_ids, lock.LockFile (LOCK ORDER in lock.py)
"""
