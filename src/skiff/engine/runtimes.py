"""The seam between the engine and an OCI runtime: one bundle (``config.json`` + rootfs), many runtimes.

``RuntimeDriver`` is what the engine calls; ``External`` drives any runc-compatible binary (crun, runc,
``skiff-runtime``) through its CLI. ``driver_for(name)`` picks one from the global ``--runtime`` flag.
The create step runs inside the process that becomes the container's parent (the monitor), with the
container's stdio as its own stdio, as conmon does with runc.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from skiff.errors import SkiffError
from skiff.oci.runtime import LinuxResources, Process

TerminalHandler = Callable[[int], None]


TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import subprocess  # crun/runc only: imported where they are run (not on the in-process path)
    from typing import Protocol
else:  # the protocols are only read by type checkers
    Protocol = object


class RuntimeError_(SkiffError):
    """The OCI runtime refused an operation (its own message is kept)."""


class RuntimeDriver(Protocol):
    name: str

    def create(self, cid: str, bundle: Path, *, stdio: tuple[int, int, int], pid_file: Path,
               on_terminal: TerminalHandler | None = None, on_clone: Callable[[int], None] | None = None) -> int: ...
    def start(self, cid: str) -> None: ...
    def kill(self, cid: str, signal: int, *, all_processes: bool = False) -> None: ...
    def delete(self, cid: str, *, force: bool = False) -> None: ...
    def pause(self, cid: str) -> None: ...
    def resume(self, cid: str) -> None: ...
    def update(self, cid: str, resources: LinuxResources) -> None: ...
    def exec(self, cid: str, process: Process, *, detach: bool, stdio: tuple[int, int, int],
             on_terminal: TerminalHandler | None = None) -> int: ...
    def state(self, cid: str) -> dict[str, object] | None: ...


class External:
    """A runc-compatible runtime binary; its state lives under ``RUNROOT/runtime/<name>``."""

    def __init__(self, name: str, runroot: Path) -> None:
        import shutil

        exe = shutil.which(name) if not name.startswith("/") else name
        if exe is None:
            raise SkiffError(f'runtime "{name}" not found in $PATH (--runtime)')
        self.name = os.path.basename(name)
        self.exe = exe
        self.state_root = Path(runroot) / "runtime" / self.name
        self.log = Path(runroot) / "runtime" / f"{self.name}.log"

    def _argv(self, *args: str) -> list[str]:
        return [self.exe, "--root", str(self.state_root), *args]

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
        self.state_root.mkdir(parents=True, exist_ok=True)
        import subprocess

        cp = subprocess.run(self._argv(*args), capture_output=True, stdin=subprocess.DEVNULL)
        if check and cp.returncode != 0:
            msg = cp.stderr.decode(errors="replace").strip().splitlines()
            raise RuntimeError_(f"{self.name} {args[0]}: {msg[-1] if msg else 'exit status ' + str(cp.returncode)}")
        return cp

    def create(self, cid: str, bundle: Path, *, stdio: tuple[int, int, int], pid_file: Path,
               on_terminal: TerminalHandler | None = None, on_clone: Callable[[int], None] | None = None) -> int:
        """``on_clone`` is told the pid once the runtime has created the container (no earlier hook here)."""
        self.state_root.mkdir(parents=True, exist_ok=True)
        errlog = bundle / "runtime-error.log"
        argv = self._argv("create", "--bundle", str(bundle), "--pid-file", str(pid_file))
        if self.name in ("runc", "crun"):
            # The runtime's own stderr is the container's; its errors go to a file we read on failure.
            argv[1:1] = ["--log", str(errlog)]
        with _console(bundle, on_terminal) as sock:
            if sock is not None:
                argv += ["--console-socket", sock.path]
            argv.append(cid)
            import subprocess

            proc = subprocess.Popen(argv, stdin=stdio[0], stdout=stdio[1], stderr=stdio[2])
            if sock is not None:
                sock.receive(proc)
            rc = proc.wait()
        if rc != 0:
            msg = _last_error(errlog)
            raise RuntimeError_(f"{self.name} create: {msg or 'exit status ' + str(rc)}")
        pid = int(pid_file.read_text().strip())
        if on_clone is not None:
            on_clone(pid)
        return pid

    def start(self, cid: str) -> None:
        self._run("start", cid)

    def kill(self, cid: str, signal: int, *, all_processes: bool = False) -> None:
        self._run("kill", *(["--all"] if all_processes else []), cid, str(signal))

    def delete(self, cid: str, *, force: bool = False) -> None:
        cp = self._run("delete", *(["--force"] if force else []), cid, check=False)
        if cp.returncode != 0 and self.state(cid) is not None:
            msg = cp.stderr.decode(errors="replace").strip()
            raise RuntimeError_(f"{self.name} delete: {msg}")

    def pause(self, cid: str) -> None:
        self._run("pause", cid)

    def resume(self, cid: str) -> None:
        self._run("resume", cid)

    def update(self, cid: str, resources: LinuxResources) -> None:
        import json
        import tempfile

        from skiff.oci.codec import to_obj

        with tempfile.NamedTemporaryFile("w", suffix=".json", dir=self.state_root.parent) as f:
            json.dump(to_obj(resources), f)
            f.flush()
            self._run("update", "--resources", f.name, cid)

    def exec(self, cid: str, process: Process, *, detach: bool, stdio: tuple[int, int, int],
             on_terminal: TerminalHandler | None = None) -> int:
        import json
        import tempfile

        from skiff.oci.codec import to_obj

        with tempfile.NamedTemporaryFile("w", suffix=".json", dir=self.state_root.parent) as f:
            json.dump(to_obj(process), f)
            f.flush()
            argv = self._argv("exec", "--process", f.name)
            pid_file = f"{f.name}.pid"
            if detach:  # the process's pid, as the in-process runtime returns it (a subreaper then reaps it)
                argv += ["--detach", "--pid-file", pid_file]
            with _console(self.state_root.parent, on_terminal) as sock:
                if sock is not None:
                    argv += ["--console-socket", sock.path]
                argv.append(cid)
                import subprocess

                proc = subprocess.Popen(argv, stdin=stdio[0], stdout=stdio[1], stderr=stdio[2])
                if sock is not None:
                    sock.receive(proc)
                code = proc.wait()
            if not detach:
                return code
            try:
                with open(pid_file) as pf:
                    return int(pf.read().strip())
            except (OSError, ValueError):
                raise RuntimeError_(f"{self.name} exec: exit status {code}, no process started") from None
            finally:
                with contextlib.suppress(OSError):
                    os.unlink(pid_file)

    def state(self, cid: str) -> dict[str, object] | None:
        import json

        cp = self._run("state", cid, check=False)
        if cp.returncode != 0:
            return None
        try:
            data = json.loads(cp.stdout)
        except ValueError:
            return None
        return data if isinstance(data, dict) else None


class _ConsoleSocket:
    def __init__(self, folder: Path, handler: TerminalHandler) -> None:
        import socket

        self.path = str(folder / f"console-{os.getpid()}.sock")
        self.handler = handler
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        if os.path.exists(self.path):
            os.unlink(self.path)
        self.sock.bind(self.path)
        self.sock.listen(1)
        self.sock.settimeout(0.2)

    def receive(self, proc: subprocess.Popen[bytes]) -> None:
        """Accept the runtime's connection and hand the pty master it sends to the handler."""
        import socket

        while True:
            try:
                conn, _ = self.sock.accept()
                break
            except TimeoutError:
                if proc.poll() is not None:
                    return
        with conn:
            _, fds, _, _ = socket.recv_fds(conn, 1024, 1)
        if fds:
            self.handler(fds[0])

    def close(self) -> None:
        self.sock.close()
        with contextlib.suppress(OSError):
            os.unlink(self.path)


@contextlib.contextmanager
def _console(folder: Path, handler: TerminalHandler | None) -> Iterator[_ConsoleSocket | None]:
    if handler is None:
        yield None
        return
    folder.mkdir(parents=True, exist_ok=True)
    sock = _ConsoleSocket(folder, handler)
    try:
        yield sock
    finally:
        sock.close()


def _last_error(path: Path) -> str:
    import json

    try:
        lines = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    for line in reversed(lines):
        try:
            obj = json.loads(line)
        except ValueError:
            return line.strip()
        if isinstance(obj, dict) and obj.get("msg"):
            return str(obj["msg"])
    return ""


def driver_for(name: str, runroot: Path) -> RuntimeDriver:
    """``--runtime``: "skiff" (the default) is skiff's own runtime library, in-process (the fast path);
    crun, runc, skiff-runtime or a path name a runc-compatible binary fed the same bundle."""
    if name in ("skiff", ""):
        from .runtimes_inprocess import InProcess

        return InProcess(Path(runroot) / "runtime" / "skiff")
    return External(name, runroot)
