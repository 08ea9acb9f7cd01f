from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from storehelp import layer_tar, put_test_image  # type: ignore[import-not-found]

from skiff.errors import ConflictError, DigestMismatchError, NotFoundError
from skiff.oci import image as oci
from skiff.oci.digest import Digest
from skiff.store.layers import chain_ids
from skiff.store.store import MissingBlobError, Store


def snapshot(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if "locks" not in p.parts)


def test_chain_ids() -> None:
    a, b = "sha256:" + "1" * 64, "sha256:" + "2" * 64
    assert chain_ids([a]) == [a]
    assert chain_ids([a, b])[1] == str(Digest.of(f"{a} {b}".encode()))


def test_put_image_unpacks_once_and_shares_layers(store: Store) -> None:
    base = layer_tar({"etc/os": b"base\n"}, dirs=("etc",))
    one = put_test_image(store, [base], ["docker.io/library/a:1"])
    two = put_test_image(store, [base, layer_tar({"app": b"x"})], ["docker.io/library/b:1"])
    r1, r2 = store.resolve_image("a:1"), store.resolve_image("b:1")
    assert r1.id == one and r2.id == two and r1.chain_ids[0] == r2.chain_ids[0]
    dirs = store.layer_dirs(r2)
    assert (dirs[0] / "etc/os").read_bytes() == b"base\n" and (dirs[1] / "app").exists()
    assert dirs[0] == store.layer_dirs(r1)[0]
    assert len(store.layers.records()) == 2
    assert os.readlink(store.layers.links / r1.chain_ids[0].split(":")[1][:24]).endswith("/diff")


def test_missing_blob_and_bad_diff_id_leave_no_image(store: Store, tmp_path: Path) -> None:
    layer = layer_tar({"f": b"1"})
    cfg = oci.ImageConfig(rootfs=oci.RootFS(diff_ids=[str(Digest.of(layer))]))
    cdesc = store.put_blob(oci.encode(cfg), media_type=oci.MT_OCI_CONFIG)
    ghost = oci.Descriptor(media_type=oci.MT_OCI_LAYER, digest=str(Digest.of(layer)), size=len(layer))
    with pytest.raises(MissingBlobError, match=r"names blob sha256:.*which is missing"):
        store.put_image(oci.encode(oci.Manifest(config=cdesc, layers=[ghost])), ["docker.io/library/x:1"])
    other = layer_tar({"g": b"2"})
    odesc = store.put_blob(other, media_type=oci.MT_OCI_LAYER)
    with pytest.raises(DigestMismatchError, match="the image config says"):
        store.put_image(oci.encode(oci.Manifest(config=cdesc, layers=[odesc])), ["docker.io/library/x:1"])
    assert store.list_images() == [] and store.layers.records() == []
    assert not [n for n in os.listdir(store.layers.dir) if n.startswith(".tmp-")]


def test_hostile_layer_is_refused(store: Store) -> None:
    evil = layer_tar({"../../escape": b"x"})
    with pytest.raises(Exception) as e:
        put_test_image(store, [evil], ["docker.io/library/evil:1"])
    assert "escape" in str(e.value)
    assert store.list_images() == []
    assert not (store.root.parent / "escape").exists()


def test_tag_untag_delete_gc(store: Store) -> None:
    i = put_test_image(store, [layer_tar({"f": b"1"})], ["docker.io/library/a:1"])
    store.tag(i, "docker.io/library/a:2")
    assert store.resolve_image("a:2").names == ["docker.io/library/a:1", "docker.io/library/a:2"]
    store.untag("docker.io/library/a:1")
    with pytest.raises(NotFoundError):
        store.resolve_image("a:1")
    store.delete_image(i)
    layers, blobs = store.gc()
    assert len(layers) == 1 and len(blobs) == 3
    assert list(store.blobs.list()) == [] and store.layers.records() == []


def test_image_in_use_blocks_delete(store: Store) -> None:
    i = put_test_image(store, [layer_tar({"f": b"1"})], ["docker.io/library/a:1"])
    c = store.root / "containers" / "c1"
    c.mkdir(parents=True)
    (c / "config.json").write_text(json.dumps({"Image": i}))
    assert store.image_in_use(i) == ["c1"]
    with pytest.raises(ConflictError, match="used by container c1"):
        store.delete_image(i)
    (c / "config.json").write_text(json.dumps({"Image": i.split(":")[1]}))
    assert store.image_in_use(i) == ["c1"]


def test_gc_skips_while_a_writer_is_active(store: Store) -> None:
    d = store.put_blob(b"orphan")
    with store.writing():
        assert store.gc() == ([], [])
    assert store.has_blob(d.dgst)
    store.gc()
    assert not store.has_blob(d.dgst)
