"""fcntl lock files, so that several skiff commands can work on one store at the same time.

LOCK ORDER (take them in this order, release in reverse; never take an earlier one while holding a later one):

  1. ROOT/locks/images.lock      image index (names, tags, records)          -> store/images.py
  2. ROOT/locks/layers.lock      layer records, unpacked dirs, short links   -> store/layers.py
  3. ROOT/locks/containers.lock  container read-write layers and mounts      -> store/drivers/*

Blob writes take no lock: a blob is written to ROOT/tmp, fsynced and renamed into place, and two writers of
the same digest write the same bytes. Deleting blobs (garbage collection) holds 1 and 2 exclusively.
Each lock file records its last exclusive holder (pid and command) for debugging, as containers/storage does.
"""

from __future__ import annotations

import fcntl
import os
import sys
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

IMAGES = "images"
LAYERS = "layers"
CONTAINERS = "containers"
ORDER = (IMAGES, LAYERS, CONTAINERS)


class LockFile:
    """One lock file; re-entrant within a process (a nested request for the same or a weaker mode is free)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self._depth = 0
        self._exclusive = False

    def _open(self) -> int:
        if self._fd is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        return self._fd

    @contextmanager
    def hold(self, exclusive: bool = True) -> Iterator[None]:
        fd = self._open()
        if self._depth and (self._exclusive or not exclusive):
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        if self._depth:  # upgrade shared -> exclusive is refused: it deadlocks two upgraders
            raise RuntimeError(f"lock {self.path} held shared, cannot take it exclusively")
        fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        self._depth, self._exclusive = 1, exclusive
        try:
            if exclusive:
                # who holds it, for debugging; written over the last note in a fixed width (truncating
                # to zero would make ext4 flush the file when it is closed: ~3 ms per lock)
                note = f"{os.getpid()} {time.time():.0f} {' '.join(sys.argv[:3])}"[:120].ljust(120)
                os.pwrite(fd, (note + "\n").encode(), 0)
            yield
        finally:
            self._depth, self._exclusive = 0, False
            fcntl.flock(fd, fcntl.LOCK_UN)

    def exclusive(self) -> AbstractContextManager[None]:
        return self.hold(True)

    def shared(self) -> AbstractContextManager[None]:
        return self.hold(False)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class Locks:
    """The store's lock files, by name (see LOCK ORDER above)."""

    def __init__(self, root: Path) -> None:
        self._files = {name: LockFile(root / "locks" / f"{name}.lock") for name in ORDER}

    def __getitem__(self, name: str) -> LockFile:
        return self._files[name]

    def close(self) -> None:
        for f in self._files.values():
            f.close()
