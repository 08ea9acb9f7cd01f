"""`--network none`: the engine brings ``lo`` up in the container's namespace from the CLI's own process
(a socket made there), and the process is back in its own namespace afterwards."""

from __future__ import annotations

import os
import subprocess

from skiff.engine.networks import loopback_up


def test_loopback_up_in_another_namespace_leaves_this_process_where_it_was() -> None:
    child = subprocess.Popen(["unshare", "--net", "sleep", "30"])
    try:
        ns = f"/proc/{child.pid}/ns/net"
        for _ in range(200):  # until unshare has made the namespace
            if os.readlink(ns) != os.readlink("/proc/self/ns/net"):
                break
            subprocess.run(["sleep", "0.01"])
        before = os.readlink("/proc/thread-self/ns/net")
        show = ["nsenter", "-t", str(child.pid), "-n", "ip", "-o", "link", "show", "lo"]
        assert ",UP" not in subprocess.run(show, capture_output=True, text=True, check=True).stdout
        loopback_up(ns)
        assert os.readlink("/proc/thread-self/ns/net") == before
        assert ",UP" in subprocess.run(show, capture_output=True, text=True, check=True).stdout
    finally:
        child.kill()
        child.wait()
