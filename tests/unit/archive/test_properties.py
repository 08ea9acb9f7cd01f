"""Property: any tree (files, folders, symlinks, hard links, fifos, modes, owners, xattrs, mtimes)
survives create_layer -> apply_layer exactly."""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skiff.archive import apply_layer, create_layer

from .treeutil import snapshot

_name = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="/\0"),
                min_size=1, max_size=12).filter(lambda n: n not in (".", "..") and not n.startswith(".wh."))
_node = st.fixed_dictionaries({
    "kind": st.sampled_from(["file", "dir", "symlink", "hardlink", "fifo"]),
    "name": _name,
    "mode": st.integers(0, 0o7777),
    "uid": st.integers(0, 70000),
    "gid": st.integers(0, 70000),
    "mtime": st.integers(0, 2_000_000_000),
    "data": st.binary(max_size=1500),
    "target": st.text(max_size=20).filter(lambda t: "\0" not in t and t != ""),
    "xattr": st.one_of(st.none(), st.binary(min_size=1, max_size=20)),
    "depth": st.integers(0, 2),
})


def build(root: Path, nodes: list[dict]) -> None:  # type: ignore[type-arg]
    dirs = [root]
    files: list[Path] = []
    for n in nodes:
        parent = dirs[min(n["depth"], len(dirs) - 1)]
        p = parent / n["name"]
        if os.path.lexists(p):
            continue
        k = n["kind"]
        if k == "dir":
            p.mkdir()
            dirs.append(p)
        elif k == "file" or (k == "hardlink" and not files):
            p.write_bytes(n["data"])
            files.append(p)
        elif k == "hardlink":
            os.link(files[len(files) // 2], p)
            continue  # shares the inode's metadata
        elif k == "symlink":
            os.symlink(n["target"], p)
        else:
            os.mkfifo(p)
        os.chown(p, n["uid"], n["gid"], follow_symlinks=False)
        if k != "symlink":
            os.chmod(p, n["mode"] if k != "dir" else n["mode"] | 0o700)
            if n["xattr"] is not None and k in ("file", "dir"):
                os.setxattr(p, "user.t", n["xattr"])
    for dirpath, ds, fs in os.walk(root, topdown=False):
        for name in ds + fs:
            p = os.path.join(dirpath, name)
            m = hash(p) % 2_000_000_000
            os.utime(p, (m, m), follow_symlinks=False)


@pytest.mark.skipif(os.geteuid() != 0, reason="owners need root")
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(nodes=st.lists(_node, max_size=14), compression=st.sampled_from(["gzip", "zstd", "none"]))
def test_random_trees_round_trip(tmp_path_factory: pytest.TempPathFactory, nodes: list[dict],  # type: ignore[type-arg]
                                 compression: str) -> None:
    base = tmp_path_factory.mktemp("rt")
    src, dst = base / "src", base / "dst"
    src.mkdir()
    dst.mkdir()
    try:
        build(src, nodes)
        blob = io.BytesIO()
        res = create_layer(src, blob, compression=compression)  # type: ignore[arg-type]
        again = io.BytesIO()
        assert create_layer(src, again, compression=compression).digest == res.digest  # type: ignore[arg-type]
        out = apply_layer(io.BytesIO(blob.getvalue()), dst)
        assert out.diff_id == res.diff_id
        assert snapshot(dst) == snapshot(src)
    finally:
        shutil.rmtree(base)
