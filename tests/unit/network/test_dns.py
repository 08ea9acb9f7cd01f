from __future__ import annotations

import json
import socket
import struct
from pathlib import Path

from skiff.network.dns import Table, answer, parse_question


def query(name: str, qtype: int = 1, qid: int = 0x1234) -> bytes:
    q = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
    return struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + q + struct.pack("!HH", qtype, 1)


def test_parse_and_answer_a_record() -> None:
    msg = query("Web.Local")
    q = parse_question(msg)
    assert q is not None and q[0] == 0x1234 and q[2] == "web.local" and q[3] == 1
    resp = answer(msg, q, ["10.89.0.2", "10.89.0.3"])
    qid, flags, qd, an, _ns, _ar = struct.unpack("!HHHHHH", resp[:12])
    assert qid == 0x1234 and flags & 0x8000 and flags & 0x0100 and flags & 0xF == 0
    assert (qd, an) == (1, 2)
    assert socket.inet_aton("10.89.0.2") in resp and socket.inet_aton("10.89.0.3") in resp


def test_aaaa_for_known_name_is_empty_and_servfail_sets_rcode() -> None:
    msg = query("web", qtype=28)
    q = parse_question(msg)
    assert q is not None
    assert struct.unpack("!H", answer(msg, q, ["10.0.0.1"])[6:8])[0] == 0
    assert struct.unpack("!H", answer(msg, q, None, rcode=2)[2:4])[0] & 0xF == 2


def test_malformed_queries_are_ignored() -> None:
    assert parse_question(b"\0" * 5) is None
    assert parse_question(query("a")[:-3]) is None
    resp = answer(query("a"), parse_question(query("a")), [])  # type: ignore[arg-type]
    assert parse_question(resp) is None  # a response is never taken as a query


def test_table_reads_names_aliases_and_short_ids(tmp_path: Path) -> None:
    p = tmp_path / "n.json"
    p.write_text(json.dumps({"Network": "n", "Endpoints": [
        {"ContainerId": "ab" * 32, "IPv4Address": "10.89.0.2", "Name": "Web", "Aliases": ["www"]}]}))
    t = Table(p)
    assert t.lookup("web") == ["10.89.0.2"] and t.lookup("www") == ["10.89.0.2"]
    assert t.lookup("ab" * 6) == ["10.89.0.2"] and t.lookup("other") is None
    p.unlink()
    t.refresh()
    assert t.gone
