"""Snapshots of a store, to show that a failed command changed nothing."""

from __future__ import annotations

from pathlib import Path


def store_state(root: Path) -> list[tuple[str, int]]:
    """Everything in the store that a failed command must not change (locks and tmp excluded)."""
    out = []
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if rel.parts[0] in ("locks", "tmp"):
            continue
        out.append((str(rel), p.stat().st_size if p.is_file() and not p.is_symlink() else 0))
    return out
