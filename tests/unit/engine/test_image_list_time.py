"""image_list.parse_time: the datetime-free RFC 3339 path agrees with datetime on every instant it accepts."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from skiff.engine.image_list import _parse_rfc3339, parse_time


@given(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
       st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59),
       st.sampled_from(["", ".", "Z"]), st.integers(min_value=0, max_value=9))
def test_fast_path_matches_datetime(dt: datetime, offset_min: int, style: str, extra_digits: int) -> None:
    tz = timezone(timedelta(minutes=offset_min))
    aware = dt.replace(tzinfo=tz)
    text = f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}T{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d}"
    if style == ".":
        text += "." + f"{dt.microsecond:06d}" + "7" * extra_digits  # Go writes up to 9 digits
    if style == "Z" and offset_min == 0:
        text += "Z"
    else:
        sign = "+" if offset_min >= 0 else "-"
        text += f"{sign}{abs(offset_min) // 60:02d}:{abs(offset_min) % 60:02d}"
    want = aware.replace(microsecond=dt.microsecond if style == "." else 0).timestamp()
    assert _parse_rfc3339(text) == want
    assert parse_time(text) == want


def test_other_forms_fall_back_or_give_zero() -> None:
    assert _parse_rfc3339("2024-02-30T00:00:00Z") is None  # no such day
    assert _parse_rfc3339("2024-01-01T00:00:00") is None  # no zone: datetime reads it as local time
    assert parse_time("2024-01-01T00:00:00") == datetime(2024, 1, 1).timestamp()
    assert parse_time("yesterday") == 0.0
    assert parse_time("") == 0.0 and parse_time(None) == 0.0
    # a fraction and an offset together (the old fallback took the offset's digits for the fraction)
    assert parse_time("1999-02-28T23:59:59.5+02:30") == 920237399.5
