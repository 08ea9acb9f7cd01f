"""Loopback HTTP for tests: a free port on 127.0.0.1, and a GET that waits for a server to come up."""

from __future__ import annotations

import socket
import time
import urllib.error
import urllib.request


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get_when_up(url: str, deadline: float, pause: float = 0.3) -> str:
    """The body of ``url`` (loopback only), retrying until ``deadline`` (time.monotonic())."""
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                return str(r.read().decode())
        except (urllib.error.URLError, ConnectionError, TimeoutError) as e:
            last = e
            time.sleep(pause)
    raise AssertionError(f"{url} did not answer: {last}")
