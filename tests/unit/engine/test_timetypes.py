"""engine.timetypes: `logs --since/--until` values read as Docker reads them (table: data/timestamps.json),
plus properties of the Go duration and RFC 3339 parsers."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skiff.engine.timetypes import get_timestamp, parse_duration, parse_timestamps, unix_nanos
from skiff.errors import InvalidArgumentError

TABLE = json.loads((Path(__file__).parent / "data" / "timestamps.json").read_text())
NOW = dt.datetime.fromisoformat(TABLE["now"])


@pytest.mark.parametrize("case", TABLE["cases"], ids=[c["v"] or "<empty>" for c in TABLE["cases"]])
def test_get_timestamp(case: dict[str, Any]) -> None:
    if "err" in case:
        with pytest.raises(ValueError) as ei:
            get_timestamp(case["v"], NOW)
        assert case["err"] in str(ei.value)
    else:
        assert get_timestamp(case["v"], NOW) == case["want"]


def test_unix_nanos_names_the_flag_like_docker() -> None:
    assert unix_nanos("1700000000.25", "since", NOW) == 1_700_000_000_250_000_000
    with pytest.raises(InvalidArgumentError, match=r'^invalid value for "until": failed to parse value'):
        unix_nanos("soon", "until", NOW)


def test_local_time_follows_the_zone_of_now() -> None:
    utc = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    west = dt.datetime(2026, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    assert get_timestamp("2020-01-01T00:00:00", utc) == "1577836800.000000000"
    assert get_timestamp("2020-01-01T00:00:00", west) == str(1577836800 + 5 * 3600) + ".000000000"


_UNITS = {"h": 3_600_000_000_000, "m": 60_000_000_000, "s": 1_000_000_000, "ms": 1_000_000, "us": 1_000,
          "ns": 1}


@given(st.lists(st.tuples(st.integers(0, 10_000), st.sampled_from(sorted(_UNITS))), min_size=1, max_size=5),
       st.booleans())
def test_duration_sums_its_parts(parts: list[tuple[int, str]], neg: bool) -> None:
    text = ("-" if neg else "") + "".join(f"{n}{u}" for n, u in parts)
    want = sum(n * _UNITS[u] for n, u in parts)
    assert parse_duration(text) == (-want if neg else want)


@given(st.datetimes(min_value=dt.datetime(1970, 1, 2), max_value=dt.datetime(2200, 1, 1)),
       st.integers(-14 * 60, 14 * 60), st.integers(0, 999_999))
def test_rfc3339_with_offset_is_the_instant(when: dt.datetime, offset_min: int, micros: int) -> None:
    tz = dt.timezone(dt.timedelta(minutes=offset_min))
    t = when.replace(microsecond=micros, tzinfo=tz)
    text = t.isoformat(timespec="microseconds")
    if offset_min == 0:
        text = text.replace("+00:00", "Z")
    sec, nsec = parse_timestamps(get_timestamp(text, NOW))
    assert dt.datetime.fromtimestamp(sec, dt.UTC) + dt.timedelta(microseconds=nsec // 1000) == t


@given(st.integers(0, 2**40), st.integers(0, 999_999_999))
def test_unix_timestamps_pass_through(sec: int, nsec: int) -> None:
    text = f"{sec}.{nsec:09d}"
    assert get_timestamp(text, NOW) == text
    assert parse_timestamps(text) == (sec, nsec)
