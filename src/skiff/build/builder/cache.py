"""The persistent build cache: step key -> the image state after the step (layers + config blob).

Keys chain like Docker's: the parent state's key, the instruction after expansion, the build args it used,
and the checksums of the files it copies. Records live in ROOT/buildcache/records/<key>.json: the layers and
the image config after the step (inline, checked against its digest on use, so a step that changes only the
config writes no blob). They are written atomically without fsync: a record lost or torn by a crash is a cache
miss, never a wrong hit. The blobs they name are listed by :meth:`BuildCache.live_blobs` for gc.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from skiff.hashes import sha256
from skiff.records import dataclass


@dataclass(frozen=True)
class LayerRef:
    """One layer of a build state: its diff_id, blob digest, media type and size (0: unknown)."""

    diff_id: str
    blob: str
    media_type: str
    size: int


@dataclass(frozen=True)
class CachedState:
    """One cache record: the image state after a step, i.e. its layers and image config (digest and JSON)."""

    layers: tuple[LayerRef, ...]
    config: str  # digest of the image config after the step
    config_json: str = ""  # that config (its canonical JSON)


def step_key(parent: str, *parts: str) -> str:
    h = sha256(parent.encode())
    for p in parts:
        h.update(b"\0")
        h.update(p.encode())
    return h.hexdigest()


class BuildCache:
    def __init__(self, root: Path) -> None:
        self.dir = root / "buildcache" / "records"
        self.mounts = root / "buildcache" / "mounts"

    def get(self, key: str) -> CachedState | None:
        try:
            raw = json.loads((self.dir / f"{key}.json").read_bytes())
        except (FileNotFoundError, ValueError):
            return None
        try:
            return CachedState(layers=tuple(LayerRef(**x) for x in raw["layers"]), config=raw["config"],
                               config_json=raw.get("config_json", ""))
        except (KeyError, TypeError):
            return None

    def put(self, key: str, state: CachedState) -> None:
        """Write the record atomically; an identical record already there is left alone (no write, no fsync)."""
        data = json.dumps({"layers": [lr.__dict__ for lr in state.layers], "config": state.config,
                           "config_json": state.config_json}).encode()
        final = self.dir / f"{key}.json"
        try:
            if final.read_bytes() == data:
                return
        except FileNotFoundError:
            self.dir.mkdir(parents=True, exist_ok=True)
        tmp = self.dir / f".{key}.tmp{os.getpid()}"
        with open(tmp, "wb") as f:
            f.write(data)
        os.rename(tmp, final)

    def records(self) -> list[tuple[str, CachedState]]:
        if not self.dir.is_dir():
            return []
        out = []
        for name in os.listdir(self.dir):
            if name.endswith(".json"):
                st = self.get(name[:-5])
                if st is not None:
                    out.append((name[:-5], st))
        return out

    def live_blobs(self) -> set[str]:
        return {b for _, s in self.records() for b in (s.config, *(lr.blob for lr in s.layers))}

    def prune(self) -> tuple[int, int]:
        """Drop every record, memo and cache mount; returns (records, mount folders) removed."""
        import shutil

        n = 0
        for name in os.listdir(self.dir) if self.dir.is_dir() else []:
            os.unlink(self.dir / name)
            n += 1
        for memo in ("quick", "ctxmemo"):  # build memos and context hash memos (see quick.py, context.py)
            shutil.rmtree(self.dir.parent / memo, ignore_errors=True)
        m = 0
        if self.mounts.is_dir():
            for name in os.listdir(self.mounts):
                if name.endswith(".lock"):  # sharing=locked|private lock files
                    os.unlink(self.mounts / name)
                    continue
                shutil.rmtree(self.mounts / name, ignore_errors=True)
                m += 1
        return n, m

    def mount_dir(self, cache_id: str) -> Path:
        """The host folder of a ``RUN --mount=type=cache`` id: hashed, so ``..`` cannot escape (SECURITY #23)."""
        d = self.mounts / sha256(cache_id.encode()).hexdigest()[:32]
        d.mkdir(parents=True, exist_ok=True, mode=0o755)
        return d
