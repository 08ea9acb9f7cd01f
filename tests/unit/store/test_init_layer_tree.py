"""tree.make_init_layer / layered_stat: Docker's init layer, made from what the image's layers show (whiteouts,
opaque folders, folders replaced by files or links), never written through a link."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from skiff.store.drivers.tree import CONTAINER_INIT, OPAQUE, layered_stat, make_init_layer


def _layer(base: Path, name: str, files: dict[str, str]) -> Path:
    """A layer folder: "path/" a folder, "path" a file, "path->target" a symlink, "path:wh" a whiteout."""
    d = base / name
    d.mkdir()
    for spec, mode in files.items():
        if spec.endswith(":wh"):
            p = d / spec[:-3]
            p.parent.mkdir(parents=True, exist_ok=True)
            os.mknod(p, stat.S_IFCHR | 0o600, os.makedev(0, 0))
        elif "->" in spec:
            path, target = spec.split("->")
            (d / path).parent.mkdir(parents=True, exist_ok=True)
            os.symlink(target, d / path)
        elif spec.endswith("/"):
            (d / spec).mkdir(parents=True, exist_ok=True)
            os.chmod(d / spec, int(mode, 8))
        else:
            (d / spec).parent.mkdir(parents=True, exist_ok=True)
            (d / spec).write_text("x")
    return d


def test_layered_stat_follows_the_overlay_rules(tmp_path: Path) -> None:
    low = _layer(tmp_path, "low", {"etc/": "755", "etc/hosts": "", "a/": "755", "a/b": "", "c/": "755",
                                   "c/d": "", "e/": "755", "e/f": ""})
    opaque_dir = tmp_path / "high" / "c"
    high = _layer(tmp_path, "high", {"etc/hosts:wh": "", "a:wh": "", "c/": "700", "e": ""})
    os.setxattr(opaque_dir, OPAQUE, b"y")
    layers = [low, high]
    assert layered_stat(layers, "etc") is not None
    assert layered_stat(layers, "etc/hosts") is None  # whited out above
    assert layered_stat(layers, "a/b") is None  # its folder whited out
    assert layered_stat(layers, "c/d") is None  # an opaque folder above hides it
    st = layered_stat(layers, "c")
    assert st is not None and stat.S_IMODE(st.st_mode) == 0o700  # the top folder's metadata
    assert layered_stat(layers, "e/f") is None  # a file replaced the folder
    assert layered_stat([low], "e/f") is not None


def test_init_layer_adds_only_what_the_image_lacks(tmp_path: Path) -> None:
    img = _layer(tmp_path, "img", {"etc/": "750", "etc/hosts": "", "proc/": "555"})
    os.chown(img / "etc", 0, 42)
    init = tmp_path / "init"
    make_init_layer(init, [img], CONTAINER_INIT)
    got = sorted(str(p.relative_to(init)) + ("/" if p.is_dir() else "") for p in init.rglob("*"))
    assert got == ["dev/", "etc/", "etc/hostname", "etc/resolv.conf", "sys/"]
    st = os.lstat(init / "etc")  # the folder shows what the image's /etc shows: mode and owner
    assert (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid) == (0o750, 0, 42)
    assert (init / "etc" / "hostname").stat().st_size == 0


def test_init_layer_never_replaces_a_link_or_a_file(tmp_path: Path) -> None:
    """An image whose /etc is a link (or a file) keeps it: nothing is made under it, no path is followed."""
    outside = tmp_path / "outside"
    outside.mkdir()
    img = _layer(tmp_path, "img", {"etc->" + str(outside): "", "sys": ""})
    init = tmp_path / "init"
    make_init_layer(init, [img], CONTAINER_INIT)
    assert sorted(p.name for p in init.iterdir()) == ["dev", "proc"]
    assert list(outside.iterdir()) == []


def test_empty_image(tmp_path: Path) -> None:
    init = tmp_path / "init"
    make_init_layer(init, [], CONTAINER_INIT)
    assert sorted(str(p.relative_to(init)) for p in init.rglob("*")) == [
        "dev", "etc", "etc/hostname", "etc/hosts", "etc/resolv.conf", "proc", "sys"]
