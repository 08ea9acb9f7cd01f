"""The per-container monitor loop (conmon's role): pumps the container's output into the json-file log and to
attached clients, feeds its stdin, reaps it, and reports the exit status with the finish time and OOM flag.

It runs either inside the foreground ``skiff run`` (the CLI is then the container's parent and forwards its
signals) or as a small detached process exec'ed by :mod:`skiff.monitor.main`. Only C modules are imported
(``select``, ``_signal``, ``_socket``, ``_json``) so that the detached process stays small.

Attach protocol on ``RUNROOT/containers/<id>/attach`` (a unix stream socket): frames of an 8-byte header
``[kind, 0, 0, 0, length (big endian u32)]`` and a payload. Server to client: kind 1 stdout, 2 stderr, 3 exit
(payload: the exit code in ASCII). Client to server: kind 0 stdin data, 1 resize (payload ``rows cols``),
2 close stdin.
"""

from __future__ import annotations

import _signal
import os
import select
import time

from skiff.monitor.logs import JsonFileWriter, rfc3339_nano

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from collections.abc import Callable

STDOUT, STDERR, EXIT = 1, 2, 3
C_STDIN, C_RESIZE, C_CLOSE = 0, 1, 2
FORWARDED = (1, 2, 3, 10, 12, 15, 18, 20, 21, 22)  # HUP INT QUIT USR1 USR2 TERM CONT TSTP TTIN TTOU
_POLLIN = select.POLLIN | select.POLLPRI
_POLLEND = select.POLLHUP | select.POLLERR | select.POLLNVAL


def frame(kind: int, data: bytes) -> bytes:
    return bytes((kind, 0, 0, 0)) + len(data).to_bytes(4, "big") + data


def oom_killed(cgroup_files: list[str]) -> bool:
    """True when the kernel's OOM killer fired in the container's memory cgroup (v1 or v2 counter)."""
    for path in cgroup_files:
        try:
            with open(path) as f:
                for line in f:
                    key, _, value = line.partition(" ")
                    if key == "oom_kill" and int(value) > 0:
                        return True
        except (OSError, ValueError):
            continue
    return False


def oom_files(pid: int, cgroup: str | None = None) -> list[str]:
    """The cgroup files that count OOM kills for ``pid``'s memory cgroup (read while it is alive), or for
    the cgroup path ``cgroup`` when given."""
    out: list[str] = []
    if cgroup:
        return [f"/sys/fs/cgroup/memory{cgroup}/memory.oom_control", f"/sys/fs/cgroup/unified{cgroup}/memory.events",
                f"/sys/fs/cgroup{cgroup}/memory.events"]
    try:
        with open(f"/proc/{pid}/cgroup") as f:
            lines = f.read().splitlines()
    except OSError:
        return out
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if "memory" in controllers.split(","):
            out.append(f"/sys/fs/cgroup/memory{path}/memory.oom_control")
        elif controllers == "":
            for base in ("/sys/fs/cgroup/unified", "/sys/fs/cgroup"):
                if os.path.exists(f"{base}{path}/memory.events"):
                    out.append(f"{base}{path}/memory.events")
                    break
    return out


def write_exit(path: str, code: int, oom: bool, pid: int) -> None:
    """Atomically record the exit status (read by the engine, merged into state.json by the cleanup). The file
    is under the runroot, which does not outlive a reboot: no fsync (the cleanup's state.json under ROOT has it)."""
    tmp = f"{path}.{os.getpid()}.tmp"
    text = (f'{{"ExitCode":{code},"OOMKilled":{"true" if oom else "false"},'
            f'"FinishedAt":"{rfc3339_nano(time.time_ns())}","Pid":{pid}}}\n')
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)
    os.rename(tmp, path)


class Health:
    """The health check's schedule (moby's health monitor; the native monitor has the same): ``argv``, the
    probe command, runs ``interval_ms`` after the last one ended, or ``start_interval_ms`` while the container
    is still starting (the probe exits 3) within ``start_period_ms`` of its start; one probe at a time."""

    def __init__(self, argv: list[str], interval_ms: int, start_period_ms: int, start_interval_ms: int) -> None:
        self.argv = argv
        self.interval = interval_ms / 1000
        self.start_period = start_period_ms / 1000
        self.start_interval = start_interval_ms / 1000
        self.started = time.monotonic()
        self.starting = True
        self.pid = 0
        self._schedule()

    def _schedule(self) -> None:
        now = time.monotonic()
        early = self.starting and self.start_period > 0 and now - self.started < self.start_period
        self.next = now + (self.start_interval if early else self.interval)

    def tick(self, timeout_ms: int) -> int:
        """Start the probe when it is due; the poll timeout that wakes the loop for the next one."""
        if self.pid:
            return timeout_ms
        left = self.next - time.monotonic()
        if left <= 0:
            null = os.open(os.devnull, os.O_RDWR | os.O_CLOEXEC)
            try:
                self.pid = os.posix_spawn(self.argv[0], self.argv, os.environ,
                                          file_actions=[(os.POSIX_SPAWN_DUP2, null, 0),
                                                        (os.POSIX_SPAWN_DUP2, null, 1),
                                                        (os.POSIX_SPAWN_DUP2, null, 2)], setsigmask=())
            except OSError:
                self._schedule()
            finally:
                os.close(null)
            return timeout_ms
        return min(timeout_ms, int(left * 1000) + 1)

    def done(self, code: int) -> None:
        self.pid = 0
        self.starting = code == 3
        self._schedule()


class Monitor:
    """One container's stdio, log and exit status. ``run()`` returns Docker's exit code (128+N for signals)."""

    def __init__(self, *, pid: int, outputs: dict[int, int], stdin_fd: int | None, log_path: str | None,
                 attach_path: str | None = None, local_out: dict[int, int] | None = None,
                 local_in: int | None = None, forward_signals: bool = False, terminal_fd: int | None = None,
                 cgroup: str | None = None, wait_attach: float = 0.0,
                 local_filter: Callable[[bytes], bytes] | None = None,
                 log_limits: tuple[int, int] = (0, 1), health: Health | None = None) -> None:
        self.pid = pid
        self.outputs = dict(outputs)  # fd -> STDOUT|STDERR
        self.stdin_fd = stdin_fd
        self.log = JsonFileWriter(log_path, *log_limits) if log_path else None  # (max-size, max-file)
        self.health = health
        self.attach_path = attach_path
        self.local_out = local_out or {}  # STDOUT|STDERR -> local fd
        self.local_in = local_in
        self.local_filter = local_filter  # what ``local_in`` gives passes through it (it may raise to stop)
        self.forward_signals = forward_signals
        self.terminal_fd = terminal_fd
        self.clients: dict[int, object] = {}
        self.cbuf: dict[int, bytes] = {}
        self.status: int | None = None
        self.oom_paths = oom_files(pid, cgroup)
        self.oom = False
        self.wait_attach = wait_attach

    # -- plumbing ------------------------------------------------------------------------------------------
    def _emit(self, kind: int, data: bytes) -> None:
        if self.log is not None:
            self.log.write("stdout" if kind == STDOUT else "stderr", data)
        fd = self.local_out.get(kind)
        if fd is not None:
            try:
                _write_all(fd, data)
            except OSError:
                self.local_out.pop(kind, None)
        if self.clients:
            fr = frame(kind, data)
            for cfd in list(self.clients):
                try:
                    _write_all(cfd, fr)
                except OSError:
                    self._drop_client(cfd)

    def _drop_client(self, cfd: int) -> None:
        sock = self.clients.pop(cfd, None)
        self.cbuf.pop(cfd, None)
        try:
            self.poll.unregister(cfd)
        except (KeyError, ValueError):
            pass
        if sock is not None:
            sock.close()  # type: ignore[attr-defined]

    def _to_stdin(self, data: bytes) -> None:
        if self.stdin_fd is not None:
            try:
                _write_all(self.stdin_fd, data)
            except OSError:
                self._close_stdin()

    def _close_stdin(self) -> None:
        if self.stdin_fd is not None and self.stdin_fd != self.terminal_fd:
            os.close(self.stdin_fd)
        self.stdin_fd = None

    def _client_input(self, cfd: int) -> None:
        sock = self.clients[cfd]
        try:
            data = sock.recv(65536)  # type: ignore[attr-defined]
        except OSError:
            data = b""
        if not data:
            self._drop_client(cfd)
            return
        buf = self.cbuf.get(cfd, b"") + data
        while len(buf) >= 8:
            n = int.from_bytes(buf[4:8], "big")
            if len(buf) < 8 + n:
                break
            kind, payload, buf = buf[0], buf[8:8 + n], buf[8 + n:]
            if kind == C_STDIN:
                self._to_stdin(payload)
            elif kind == C_CLOSE:
                self._close_stdin()
            elif kind == C_RESIZE and self.terminal_fd is not None:
                rows, _, cols = payload.decode().partition(" ")
                set_winsize(self.terminal_fd, int(rows), int(cols))
        self.cbuf[cfd] = buf

    def _reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                if self.status is None and not _alive(self.pid):
                    self.status = 255  # not our child and gone: status unknown (Docker reports 255)
                return
            if pid == 0:
                return
            if pid == self.pid:
                self.status = os.waitstatus_to_exitcode(status)
                if self.status < 0:
                    self.status = 128 - self.status
            elif self.health is not None and pid == self.health.pid:
                self.health.done(os.waitstatus_to_exitcode(status))

    # -- the loop ------------------------------------------------------------------------------------------
    def run(self) -> int:
        import _socket

        rsig, wsig = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        old_wakeup = _signal.set_wakeup_fd(wsig)
        handled = [17] + (list(FORWARDED) if self.forward_signals else [])
        old = {s: _signal.signal(s, _noop) for s in handled}
        self.poll = select.poll()
        for fd in self.outputs:
            os.set_blocking(fd, False)
            self.poll.register(fd, _POLLIN)
        self.poll.register(rsig, select.POLLIN)
        listener = None
        if self.attach_path:
            try:
                os.unlink(self.attach_path)
            except FileNotFoundError:
                pass
            listener = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
            dfd = os.open(os.path.dirname(self.attach_path) or ".", os.O_PATH | os.O_CLOEXEC)
            try:  # through the folder's fd: sun_path is short whatever the store path's length
                listener.bind(f"/proc/self/fd/{dfd}/{os.path.basename(self.attach_path)}")
            finally:
                os.close(dfd)
            listener.listen(8)
            self.poll.register(listener.fileno(), select.POLLIN)
        if self.local_in is not None:
            self.poll.register(self.local_in, select.POLLIN)
        if listener is not None and self.wait_attach > 0:
            # `start -a`: hold the output (it waits in the pipe) until the first client is there
            ready = select.poll()
            ready.register(listener.fileno(), select.POLLIN)
            if ready.poll(int(self.wait_attach * 1000)):
                cfd, _ = listener._accept()  # type: ignore[attr-defined]
                self.clients[cfd] = _socket.socket(fileno=cfd)
                self.poll.register(cfd, select.POLLIN)
        deadline: float | None = None
        try:
            self._reap()
            while True:
                if self.status is not None:
                    if not self.outputs:
                        break
                    if deadline is None:
                        deadline = time.monotonic() + 2.0
                    elif time.monotonic() > deadline:
                        break
                timeout = 100 if self.status is not None else 1000
                if self.health is not None and self.status is None:
                    timeout = self.health.tick(timeout)
                for fd, ev in self.poll.poll(timeout):
                    if fd == rsig:
                        for signum in os.read(rsig, 512):
                            if signum != 17 and self.forward_signals:
                                try:
                                    os.kill(self.pid, signum)
                                except ProcessLookupError:
                                    pass
                        self._reap()
                    elif fd in self.outputs:
                        self._read_output(fd, ev)
                    elif listener is not None and fd == listener.fileno():
                        cfd, _ = listener._accept()  # type: ignore[attr-defined]
                        sock = _socket.socket(fileno=cfd)
                        self.clients[cfd] = sock
                        self.poll.register(cfd, select.POLLIN)
                    elif fd in self.clients:
                        self._client_input(fd)
                    elif fd == self.local_in:
                        data = b""
                        try:
                            data = os.read(fd, 65536)
                        except OSError:
                            pass
                        if data and self.local_filter is not None:
                            data = self.local_filter(data)
                            if not data:
                                continue
                        if data:
                            self._to_stdin(data)
                        else:
                            self.poll.unregister(fd)
                            self.local_in = None
                            self._close_stdin()
                if self.status is None:
                    self._reap()
        finally:
            _signal.set_wakeup_fd(old_wakeup)
            for s, h in old.items():
                _signal.signal(s, h)
            os.close(rsig)
            os.close(wsig)
            if self.log is not None:
                self.log.close()
        code = self.status if self.status is not None else 255
        self.oom = oom_killed(self.oom_paths)
        for cfd in list(self.clients):
            try:
                _write_all(cfd, frame(EXIT, str(code).encode()))
            except OSError:
                pass
            self._drop_client(cfd)
        if listener is not None:
            listener.close()
            try:
                os.unlink(self.attach_path)  # type: ignore[arg-type]
            except OSError:
                pass
        return code

    def _read_output(self, fd: int, ev: int) -> None:
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return
        except OSError:  # EIO on a pty master once the slave side is gone
            data = b""
        if data:
            self._emit(self.outputs[fd], data)
            return
        if ev & _POLLEND or not data:
            self.poll.unregister(fd)
            del self.outputs[fd]
            if fd != self.terminal_fd:
                os.close(fd)


def _noop(signum: int, frame: object) -> None:
    return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            n = os.write(fd, view)
        except BlockingIOError:
            select.select([], [fd], [], 1.0)
            continue
        view = view[n:]


def set_winsize(fd: int, rows: int, cols: int) -> None:
    import fcntl
    import termios

    fcntl.ioctl(fd, termios.TIOCSWINSZ, (rows).to_bytes(2, "little") + (cols).to_bytes(2, "little") + bytes(4))
