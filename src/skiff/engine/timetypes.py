"""The ``--since``/``--until`` values of `logs` (and `events`), as Docker reads them (moby
``api/types/time.GetTimestamp`` and ``ParseTimestamps``).

:func:`get_timestamp` turns what the user typed into ``"SECONDS.NANOSECONDS"``: a Go duration (``10m``,
``1m30s``, ``-1h``) counts back from now; a date or RFC 3339 time without a zone (``2020-01-01``,
``2020-01-01T10:00``) is in the local zone's current offset (TZ respected, as Go's ``time.FixedZone(now.Zone())``);
with ``Z`` or ``+hh:mm``/``-hh:mm`` it is absolute; a Unix timestamp (``1700000000.5``) passes through.
Parsing follows Go's ``time.ParseDuration`` and ``time.Parse`` for the few layouts Docker tries, with their
error messages.
"""

from __future__ import annotations

import datetime as _dt

from skiff.errors import InvalidArgumentError
from skiff.units import go_quote, parse_duration

_MAX = (1 << 63) - 1

# Docker's layouts (Go reference time notation)
RFC3339 = "2006-01-02T15:04:05Z07:00"
RFC3339_NANO = "2006-01-02T15:04:05.999999999Z07:00"
RFC3339_LOCAL = "2006-01-02T15:04:05"
RFC3339_NANO_LOCAL = "2006-01-02T15:04:05.999999999"
DATE_WITH_ZONE = "2006-01-02Z07:00"
DATE_LOCAL = "2006-01-02"
# the layout elements of those, longest first
_ELEMENTS = (".999999999", "Z07:00", "2006", "01", "02", "15", "04", "05")


def _quote(s: str) -> str:
    return go_quote(s)  # Go's messages quote with strconv.Quote


def _days_in(month: int, year: int) -> int:
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _getnum(value: str, fixed: bool) -> tuple[int, str] | None:
    if not value[:1].isdigit() or not value[:1].isascii():
        return None
    if not (value[1:2].isdigit() and value[1:2].isascii()):
        return None if fixed else (int(value[0]), value[1:])
    return int(value[:2]), value[2:]


def _nanos(digits: str) -> int:
    return int(digits[:9].ljust(9, "0"))


def parse_time(layout: str, value: str, offset: int | None) -> int:
    """Go's ``time.Parse`` (``offset`` None) or ``time.ParseInLocation`` in a fixed zone ``offset`` seconds
    east of UTC, for Docker's layouts: Unix nanoseconds; ValueError with Go's message."""
    def bad(elem: str, rest: str) -> ValueError:
        return ValueError(f"parsing time {_quote(value)} as {_quote(layout)}: cannot parse {_quote(rest)} as "
                          f"{_quote(elem)}")

    def out_of_range(what: str) -> ValueError:
        return ValueError(f"parsing time {_quote(value)}: {what} out of range")

    year = month = day = 1
    hour = minute = second = nsec = 0
    zone = offset or 0
    rest = value
    lay = layout
    range_err = ""
    while lay:
        elem = next((e for e in _ELEMENTS if lay.startswith(e)), "")
        if not elem:  # a literal run up to the next element
            k = 1
            while k < len(lay) and not any(lay.startswith(e, k) for e in _ELEMENTS):
                k += 1
            lit, lay = lay[:k], lay[k:]
            if not rest.startswith(lit):
                raise bad(lit, rest)
            rest = rest[len(lit):]
            continue
        lay = lay[len(elem):]
        hold = rest
        if elem == "2006":
            if len(rest) < 4 or not rest[:4].isascii() or not rest[:4].isdigit():
                raise bad(elem, hold)
            year, rest = int(rest[:4]), rest[4:]
        elif elem == ".999999999":
            if len(rest) < 2 or rest[0] not in ".," or not ("0" <= rest[1] <= "9"):
                continue  # the fraction is optional
            k = 1
            while k < len(rest) and "0" <= rest[k] <= "9":
                k += 1
            nsec, rest = _nanos(rest[1:k]), rest[k:]
        elif elem == "Z07:00":
            if rest.startswith("Z"):
                zone, rest = 0, rest[1:]
                continue
            if len(rest) < 6 or rest[3] != ":" or rest[0] not in "+-":
                raise bad(elem, hold)
            hh, mm = _getnum(rest[1:3], True), _getnum(rest[4:6], True)
            if hh is None or mm is None:
                raise bad(elem, hold)
            if hh[0] > 24:
                range_err = range_err or "time zone offset hour"
            if mm[0] > 60:
                range_err = range_err or "time zone offset minute"
            zone = (hh[0] * 3600 + mm[0] * 60) * (-1 if rest[0] == "-" else 1)
            rest = rest[6:]
        else:
            got = _getnum(rest, elem != "15")
            if got is None:
                raise bad(elem, hold)
            n, rest = got
            if elem == "01":
                month = n
                if not 1 <= n <= 12:
                    range_err = range_err or "month"
            elif elem == "02":
                day = n
                if n > 31:
                    range_err = range_err or "day"
            elif elem == "15":
                hour = n
                if n >= 24:
                    range_err = range_err or "hour"
            elif elem == "04":
                minute = n
                if n >= 60:
                    range_err = range_err or "minute"
            else:  # "05": a fraction may follow even when the layout has none
                second = n
                if n >= 60:
                    range_err = range_err or "second"
                if len(rest) >= 2 and rest[0] in ".," and "0" <= rest[1] <= "9" and not lay.startswith("."):
                    k = 1
                    while k < len(rest) and "0" <= rest[k] <= "9":
                        k += 1
                    nsec, rest = _nanos(rest[1:k]), rest[k:]
        if range_err:
            raise out_of_range(range_err)
    if rest:
        raise ValueError(f"parsing time {_quote(value)}: extra text: {_quote(rest)}")
    if day < 1 or day > _days_in(month, year):
        raise ValueError(f"parsing time {_quote(value)}: day out of range")
    wall = _dt.datetime(year, month, day, hour, minute, second, tzinfo=_dt.UTC)
    secs = int((wall - _EPOCH).total_seconds()) - zone
    return secs * 1_000_000_000 + nsec


_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)


def _unix_ns(t: _dt.datetime) -> int:
    delta = t - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000


def parse_timestamps(value: str) -> tuple[int, int]:
    """moby's ``ParseTimestamps``: ``"SECONDS[.FRACTION]"`` -> (seconds, nanoseconds); ValueError if not."""
    s, dot, n = value.partition(".")
    sec = _go_int(s)
    if not dot:
        return sec, 0
    frac = _go_int(n)
    return sec, int(frac * 10 ** (9 - len(n))) if len(n) <= 9 else int(frac / 10 ** (len(n) - 9))


def _go_int(s: str) -> int:
    """strconv.ParseInt(s, 10, 64)."""
    body = s[1:] if s[:1] in "+-" else s
    if not body or not body.isascii() or not body.isdigit():
        raise ValueError(f"strconv.ParseInt: parsing {_quote(s)}: invalid syntax")
    v = int(s)
    if not -(1 << 63) <= v <= _MAX:
        raise ValueError(f"strconv.ParseInt: parsing {_quote(s)}: value out of range")
    return v


def get_timestamp(value: str, now: _dt.datetime) -> str:
    """moby's ``GetTimestamp``: ``value`` as ``"SECONDS.NANOSECONDS"`` (a duration: whole seconds before
    ``now``, an aware datetime whose offset is the local zone's); ValueError with Docker's message."""
    try:
        d = parse_duration(value)
    except ValueError:
        d = None
    if d is not None and value != "0":
        return str((_unix_ns(now) - d) // 1_000_000_000)
    in_location = not any(c in value for c in "zZ+") and value.count("-") != 3
    if "." in value:
        layout = RFC3339_NANO_LOCAL if in_location else RFC3339_NANO
    elif "T" in value:
        colons = value.count(":")
        if not in_location and not any(c in value for c in "zZ") and colons > 0:
            colons -= 1
        if in_location:
            layout = {0: "2006-01-02T15", 1: "2006-01-02T15:04"}.get(colons, RFC3339_LOCAL)
        else:
            layout = {0: "2006-01-02T15Z07:00", 1: "2006-01-02T15:04Z07:00"}.get(colons, RFC3339)
    else:
        layout = DATE_LOCAL if in_location else DATE_WITH_ZONE
    zone = now.utcoffset()
    offset = int(zone.total_seconds()) if in_location and zone is not None else None
    try:
        ns = parse_time(layout, value, offset if in_location else None)
    except ValueError:
        if "-" in value:
            raise
        try:
            parse_timestamps(value)
        except ValueError:
            raise ValueError(f"failed to parse value as time or duration: {_quote(value)}") from None
        return value
    sec, frac = divmod(ns, 1_000_000_000)
    return f"{sec}.{frac:09d}"


def unix_nanos(value: str, flag: str, now: _dt.datetime | None = None) -> int:
    """A ``--since``/``--until`` value as Unix nanoseconds; InvalidArgumentError naming ``flag`` (Docker's
    ``invalid value for "since": ...``)."""
    now = now or _dt.datetime.now().astimezone()
    try:
        sec, nsec = parse_timestamps(get_timestamp(value, now))
    except ValueError as e:
        raise InvalidArgumentError(f"invalid value for {_quote(flag)}: {e}") from None
    return sec * 1_000_000_000 + nsec
