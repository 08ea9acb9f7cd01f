"""The cgroup mount (3b: ``/sys/fs/cgroup`` cgroup **ro**) and the cgroup v1 ``release_agent`` escape class
(CVE-2022-0492; row 16's leaked /sys/fs/cgroup fd is the same target): a default container sees only its own
cgroups, read-only, with no hierarchy root (where ``release_agent`` lives) and no way to mount another view."""

from __future__ import annotations

from pathlib import Path
from typing import Any

ATTEMPTS = r"""
echo "agents: $(find /sys/fs/cgroup -name release_agent 2>/dev/null | wc -l)"
echo "notify: $(find /sys/fs/cgroup -name notify_on_release 2>/dev/null | wc -l)"
for f in $(find /sys/fs/cgroup -name notify_on_release 2>/dev/null); do
  echo 1 > $f 2>/dev/null && echo "WRITABLE $f"
done
for d in /sys/fs/cgroup/*/; do mkdir "$d/escape" 2>/dev/null && echo "MKDIR $d"; done
echo x > /sys/fs/cgroup/release_agent 2>/dev/null && echo "WRITABLE top"
mkdir -p /tmp/cg
mount -t cgroup -o memory cgroup /tmp/cg 2>/dev/null && echo "MOUNTED v1"
mount -t cgroup2 cgroup2 /tmp/cg 2>/dev/null && echo "MOUNTED v2"
unshare -U -m -C true 2>/dev/null && echo "UNSHARED"
echo "parents: $(ls /sys/fs/cgroup/memory 2>/dev/null | grep -c -e skiff -e slice)"
echo end
"""


def _host_agents() -> dict[str, str]:
    out = {}
    for p in Path("/sys/fs/cgroup").glob("*/release_agent"):
        try:
            out[str(p)] = p.read_text()
        except OSError:
            pass
    return out


def test_release_agent_class_cgroup_mount_read_only_and_own(bb: Any) -> None:
    before = _host_agents()
    out = bb("run", "--rm", "--network", "none", "--memory", "32m", "busybox", "sh", "-c",
             ATTEMPTS).stdout.decode()
    assert out.splitlines()[-1] == "end", out
    assert "agents: 0" in out, out
    for bad in ("WRITABLE", "MKDIR", "MOUNTED", "UNSHARED"):
        assert bad not in out, out
    assert "parents: 0" in out, out
    if Path("/sys/fs/cgroup/memory/notify_on_release").exists():  # v1: the attempts above had files to try
        assert "notify: 0" not in out, out
    assert _host_agents() == before
