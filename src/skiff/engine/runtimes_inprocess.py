"""The fast path: skiff's own runtime library called in this process (``skiff.runtime.Runtime``).

``create`` forks the container's init from the calling process, which therefore becomes its parent: the
engine calls it in the process that then execs the monitor (or runs the monitor loop itself).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from skiff.oci.runtime import LinuxResources, Process

from .runtimes import TerminalHandler


class InProcess:
    name = "skiff"

    def __init__(self, state_root: Path) -> None:
        from skiff.runtime import Runtime

        self.rt = Runtime(state_root)

    def create(self, cid: str, bundle: Path, *, stdio: tuple[int, int, int], pid_file: Path,
               on_terminal: TerminalHandler | None = None, on_clone: Callable[[int], None] | None = None) -> int:
        return self.rt.create(cid, bundle, stdio=stdio, pid_file=pid_file, on_terminal=on_terminal,
                              on_clone=on_clone).pid

    def start(self, cid: str) -> None:
        self.rt.start(cid)

    def kill(self, cid: str, signal: int, *, all_processes: bool = False) -> None:
        self.rt.kill(cid, signal, all_processes=all_processes)

    def delete(self, cid: str, *, force: bool = False) -> None:
        from skiff.runtime.errors import ContainerNotFound

        try:
            self.rt.delete(cid, force=force)
        except ContainerNotFound:
            pass

    def pause(self, cid: str) -> None:
        self.rt.pause(cid)

    def resume(self, cid: str) -> None:
        self.rt.resume(cid)

    def update(self, cid: str, resources: LinuxResources) -> None:
        self.rt.update(cid, resources)

    def exec(self, cid: str, process: Process, *, detach: bool, stdio: tuple[int, int, int],
             on_terminal: TerminalHandler | None = None) -> int:
        return self.rt.exec(cid, process, stdio=stdio, detach=detach, on_terminal=on_terminal)

    def state(self, cid: str) -> dict[str, object] | None:
        from skiff.runtime.container import state_json
        from skiff.runtime.errors import ContainerNotFound

        try:
            return state_json(self.rt.state(cid))
        except ContainerNotFound:
            return None
