"""One conformance suite run against every storage driver (containers/storage drivers/graphtest style)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from storehelp import layer_tar, put_test_image  # type: ignore[import-not-found]

from skiff.engine.context import unpack_layer
from skiff.store.drivers.base import choose, is_mountpoint
from skiff.store.store import Store

DRIVERS = ["overlay", "vfs"]


@pytest.fixture(params=DRIVERS)
def dstore(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "root", tmp_path / "run", driver=request.param, unpacker=unpack_layer)
    yield s
    drv = s.driver
    for cid in drv.container_ids():
        if not cid.startswith("."):
            drv.remove(cid)


def make_image(s: Store) -> list[Path]:
    base = layer_tar({"etc/a": b"a\n", "etc/b": b"b\n", "old/x": b"x", "link": "etc/a"}, dirs=("etc", "old"))
    # second layer: deletes etc/b (whiteout), makes old/ opaque, changes etc/a
    top = layer_tar({"etc/.wh.b": None, "old/.wh..wh..opq": None, "old/y": b"y", "etc/a": b"A\n"})
    image_id = put_test_image(s, [base, top], ["docker.io/library/t:1"])
    return s.layer_dirs(s.get_image(image_id))


def test_merged_view_write_diff_remove(dstore: Store) -> None:
    drv = dstore.driver
    layers = make_image(dstore)
    drv.create_rw("c1", layers)
    root = drv.mount("c1")
    assert drv.mount("c1") == root  # idempotent
    assert (root / "etc/a").read_bytes() == b"A\n"
    assert not (root / "etc/b").exists()
    assert sorted(os.listdir(root / "old")) == ["y"]
    assert os.readlink(root / "link") == "etc/a"
    (root / "new").write_text("n")
    (root / "etc/a").write_text("changed")
    os.unlink(root / "old/y")
    changes = {(c.kind, c.path) for c in drv.diff("c1")}
    assert {("A", "/new"), ("C", "/etc/a"), ("D", "/old/y")} <= changes, changes
    assert not any(p == "/link" for _, p in changes)
    assert drv.lower_dirs("c1") == [p.resolve() for p in layers] or drv.lower_dirs("c1") == layers
    drv.unmount("c1")
    drv.unmount("c1")
    if drv.name == "overlay":
        assert not is_mountpoint(root)
        assert (drv.upper_dir("c1") / "new").exists()
        st = os.lstat(drv.upper_dir("c1") / "old/y")
        assert stat.S_ISCHR(st.st_mode) and st.st_rdev == 0
    drv.remove("c1")
    assert not drv.exists("c1") and "c1" not in drv.container_ids()
    # the image's layers are untouched by the container
    assert (layers[1] / "etc/a").read_bytes() == b"A\n"


def test_layers_used_by_a_container_survive_gc(dstore: Store) -> None:
    layers = make_image(dstore)
    dstore.driver.create_rw("c2", layers)
    dstore.delete_image(dstore.resolve_image("t:1").id)
    removed, _ = dstore.gc()
    assert removed == [] and all(p.is_dir() for p in layers)
    dstore.driver.remove("c2")
    removed, _ = dstore.gc()
    assert len(removed) == 2


def test_bad_container_id(dstore: Store) -> None:
    with pytest.raises(Exception, match="invalid container ID"):
        dstore.driver.create_rw("../x", [])


def test_overlay_many_layers_past_page_size(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 120) / ("e" * 120)
    s = Store(deep / "root", tmp_path / "run", driver="overlay", unpacker=unpack_layer)
    layers = [layer_tar({f"f{i}": str(i).encode()}) for i in range(40)]
    image_id = put_test_image(s, layers, ["docker.io/library/many:1"])
    dirs = s.layer_dirs(s.get_image(image_id))
    assert sum(len(str(d)) for d in dirs) > 4096
    drv = s.driver
    root = drv.create_rw("many", dirs)
    try:
        drv.mount("many")
        assert sorted(os.listdir(root)) == sorted(f"f{i}" for i in range(40))
    finally:
        drv.remove("many")
    assert not is_mountpoint(root)


def test_choose_automatic(tmp_path: Path) -> None:
    d = choose(None, tmp_path / "root", tmp_path / "run")
    assert d.name == "overlay"  # this machine's ext4 supports it
    assert (tmp_path / "run" / "storage-probe").read_text().startswith("overlay")
    (tmp_path / "run" / "storage-probe").write_text("vfs\noverlay mount failed: test")
    d2 = choose(None, tmp_path / "root", tmp_path / "run")
    assert d2.name == "vfs" and ("Fallback Reason", "overlay mount failed: test") in d2.status()
