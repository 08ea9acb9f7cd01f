"""Several skiff commands at once on one store (no daemon): nothing lost, nothing corrupted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any


def test_parallel_imports_loads_tags_and_removals(bb: Any, bb_tar: Path, tmp_path: Path) -> None:
    archive = tmp_path / "bb.tar"
    bb("save", "-o", str(archive), "busybox")
    bb("tag", "busybox", "doomed:1")
    exe = str(Path(sys.executable).parent / "skiff")
    base = [exe, "--root", str(bb.root), "--runroot", str(bb.runroot)]
    cmds = [[*base, "import", "-c", f"LABEL n={i}", str(bb_tar), f"imp{i}:1"] for i in range(4)]
    cmds += [[*base, "load", "-i", str(archive)], [*base, "rmi", "doomed:1"]]
    cmds += [[*base, "tag", "busybox", f"t{i}:x"] for i in range(4)]
    procs = [subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for c in cmds]
    for p, c in zip(procs, cmds, strict=True):
        _, err = p.communicate(timeout=240)
        assert p.returncode == 0, (c, err.decode())
    names = bb("images", "--format", "{{.Repository}}:{{.Tag}}").stdout.decode().split()
    assert sorted(names) == sorted([f"imp{i}:1" for i in range(4)] + [f"t{i}:x" for i in range(4)]
                                   + ["busybox:latest"])
    index = json.loads((bb.root / "images" / "images.json").read_text())
    blobs = {p.name for p in (bb.root / "blobs" / "sha256").iterdir()}
    for rec in index["images"]:
        for d in [rec["id"], rec["manifest"], *rec["layerBlobs"]]:
            assert d.split(":")[1] in blobs
        bb("image", "inspect", rec["id"])
    assert not list((bb.root / "tmp").iterdir())
