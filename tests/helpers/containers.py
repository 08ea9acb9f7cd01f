"""What a container test must not leave behind."""

from __future__ import annotations

import os
from pathlib import Path


def leftovers(root: Path) -> list[str]:
    """Mounts under the store and skiff cgroups of containers of this store."""
    out = []
    with open("/proc/mounts") as f:
        out += [line.split()[1] for line in f if str(root) in line.split()[1]]
    cdir = root / "containers"
    ids = [n for n in os.listdir(cdir)] if cdir.is_dir() else []
    for base in ("/sys/fs/cgroup/memory/skiff", "/sys/fs/cgroup/pids/skiff", "/sys/fs/cgroup/unified/skiff"):
        for cid in ids:
            if os.path.isdir(f"{base}/{cid}"):
                out.append(f"{base}/{cid}")
    return out
