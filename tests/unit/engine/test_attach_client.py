"""The attach client against a real monitor socket: a container that exits before the client has sent
anything (the monitor has written its output and exit code and closed its end) still gets its output and
exit code shown, though sending the terminal's size then fails with EPIPE (seen as `run -it busybox stty
size` printing nothing on a loaded machine)."""

from __future__ import annotations

import os
import socket
import threading

from skiff.engine import containers_attach
from skiff.monitor.monitor import EXIT, STDOUT, frame


def test_output_and_exit_code_survive_a_monitor_that_closed_first(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    path = tmp_path / "attach"
    lst = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    lst.bind(str(path))
    lst.listen(1)

    def monitor() -> None:  # what the monitor does for a container that is already done
        c, _ = lst.accept()
        c.sendall(frame(STDOUT, b"33 77\r\n") + frame(EXIT, b"3"))
        c.close()

    t = threading.Thread(target=monitor)
    t.start()

    def size_once_the_monitor_is_gone(fd: int) -> tuple[int, int]:
        t.join(5)  # the client sends the size only after the monitor closed: EPIPE
        return (33, 77)

    monkeypatch.setattr(containers_attach, "terminal_size", size_once_the_monitor_is_gone)
    r, w = os.pipe()
    try:
        code = containers_attach.attach(str(path), stdin=False, tty=True, out=w, err=w)
        os.close(w)
        w = -1
        assert code == 3
        assert os.read(r, 100) == b"33 77\r\n"
    finally:
        os.close(r)
        if w >= 0:
            os.close(w)
        lst.close()
