"""stats' NET I/O and BLOCK I/O sources: /proc/PID/net/dev (lo left out) and the blkio / io.stat files."""

from __future__ import annotations

import pytest

from skiff.engine.containers_query import parse_blkio, parse_io_stat, parse_net_dev

NET_DEV = """Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     840      10    0    0    0     0          0         0      840      10    0    0    0     0       0          0
  eth0:    1742      21    0    0    0     0          0         0      516       6    0    0    0     0       0          0
  eth1:100 1 0 0 0 0 0 0 4 1 0 0 0 0 0 0
"""

BLKIO_V1 = """8:0 Read 4096
8:0 Write 12288
8:0 Sync 16384
8:0 Async 0
8:0 Discard 0
8:0 Total 16384
8:16 Read 1000
8:16 Write 0
Total 17384
"""

IO_STAT_V2 = """8:0 rbytes=4096 wbytes=12288 rios=1 wios=3 dbytes=0 dios=0
8:16 rbytes=1000 wbytes=0 rios=1 wios=0 dbytes=0 dios=0
"""


@pytest.mark.parametrize(("parse", "text", "want"), [
    (parse_net_dev, NET_DEV, (1842, 520)),
    (parse_net_dev, NET_DEV.split("  eth0")[0], (0, 0)),
    (parse_net_dev, "", (0, 0)),
    (parse_blkio, BLKIO_V1, (5096, 12288)),
    (parse_blkio, "Total 0\n", (0, 0)),
    (parse_io_stat, IO_STAT_V2, (5096, 12288)),
    (parse_io_stat, "", (0, 0)),
])
def test_io_counters(parse, text: str, want: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    assert parse(text) == want
