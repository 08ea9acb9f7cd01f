"""Volume use cases that need the containers: prune (unused volumes)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .containers import ContainerEngine


def prune_volumes(eng: ContainerEngine, *, all: bool = False) -> list[str]:
    """Remove volumes no container uses: anonymous ones only, or every one with ``all``."""
    used = {m.name for cid in eng.cs.ids() for m in eng.cs.record(cid).mounts if m.name}
    gone = []
    for v in eng.volumes.list():
        if v.name in used or (not all and not v.anonymous):
            continue
        eng.volumes.remove(v.name, [])
        gone.append(v.name)
    return gone
