"""Time, read and computed once: timestamps in logs, durations and times typed by users, days.

A log's timestamp, a ``--since 2h``, the midnight that starts "today" and the bounds of a date in
the configured zone are each computed by exactly one function here; windows, the engine's day
buckets, the rules' baselines and every view call these instead of doing calendar arithmetic of
their own.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache

from claude_top.core.errors import TimeArgError

__all__ = [
    "TIME_MAX",
    "TIME_MIN",
    "TimeArgError",
    "check_time",
    "day_bounds",
    "is_duration",
    "local_midnight",
    "parse_date",
    "parse_duration",
    "parse_seconds",
    "parse_time",
    "parse_timestamp",
    "utc_date",
]

_EPOCH_MS_THRESHOLD = 1e11  # 1e11 s is year 5138; 1e11 ms is 1973: numbers above are ms


def parse_timestamp(v: object) -> float | None:
    """ISO 8601 (offset or Z; naive means UTC) or epoch seconds / milliseconds -> epoch seconds."""
    if type(v) is str:
        try:
            dt = datetime.fromisoformat(v)
        except ValueError:
            return None
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=UTC)
        return dt.timestamp()
    if type(v) is int or type(v) is float:
        f = float(v)
        if not math.isfinite(f) or f < 0:
            return None
        return f / 1000.0 if f > _EPOCH_MS_THRESHOLD else f
    return None


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}

TIME_MIN = datetime(1970, 1, 1, tzinfo=UTC).timestamp()
TIME_MAX = datetime(9999, 1, 1, tzinfo=UTC).timestamp()
"""The times a user may type (``--now``, ``--since``, ``--until``, ``--day``): [1970, 9999).

A year short of the end of ``datetime``'s range, so that every day bound, zone offset and
window computed from such a time (the 7-day baseline, "yesterday") stays inside it."""
DURATION_MAX = 36_525 * 86400.0
"""The longest duration a user may type: 100 years (``all`` is the window without a start)."""


def _shown(text: str) -> str:
    """``text`` quoted for an error message, control characters escaped (``repr`` does that)."""
    return repr(text if len(text) <= 60 else text[:59] + "…")


def is_duration(text: str) -> bool:
    """Whether ``text`` has the shape of a duration (``parse_duration`` may still refuse it)."""
    return _DURATION.match(text) is not None


def parse_duration(text: str) -> float:
    """``90s``, ``10m``, ``1h``, ``8d``, ``1w`` -> seconds; at most ``DURATION_MAX``."""
    m = _DURATION.match(text)
    if not m:
        raise TimeArgError(f"{_shown(text)} is not a duration (examples: 30s, 10m, 1h, 8d)")
    seconds = float(m.group(1)) * _UNIT[m.group(2)]
    if seconds > DURATION_MAX:
        raise TimeArgError(f"{_shown(text)} is too long a duration (at most 100 years: 36525d)")
    return seconds


def parse_seconds(text: str, low: float, high: float) -> float:
    """A number of seconds (``2``, ``0.5``) or a duration (``10s``, ``1m``) in [low, high].

    For intervals such as ``--interval`` and ``--poll``: nan, inf, zero and negative values
    are refused, so a loop that sleeps this long can neither spin nor sleep forever.
    """
    try:
        seconds = float(text)
    except ValueError:
        seconds = parse_duration(text)
    if not low <= seconds <= high:  # also false for nan
        raise TimeArgError(f"{_shown(text)} is not between {low:g} and {high:g} seconds")
    return seconds


def check_time(ts: float, text: str) -> float:
    """``ts`` (read from ``text``) if it lies in [TIME_MIN, TIME_MAX), else a TimeArgError."""
    if not TIME_MIN <= ts < TIME_MAX:  # also false for nan
        raise TimeArgError(f"{_shown(text)} is out of range (1970-01-01 .. 9998-12-31)")
    return ts


def parse_time(text: str, now: float, tz: tzinfo = UTC) -> float:
    """An absolute time (ISO 8601, a date, epoch seconds) or a duration ago (``2h`` = now - 2h).

    A time without an offset is read in ``tz``. An absolute time must lie in [TIME_MIN,
    TIME_MAX) and a duration be at most ``DURATION_MAX``, so nothing computed from the answer
    leaves the range of ``datetime``.
    """
    text = text.strip()
    if _DURATION.match(text):
        return now - parse_duration(text)
    if text == "now":
        return now
    try:
        number = float(text)
    except ValueError:
        number = None
    if number is not None:
        t = parse_timestamp(number)
        if t is None:
            raise TimeArgError(f"{_shown(text)} is not a time")
        return check_time(t, text)
    try:
        dt = datetime.fromisoformat(text)
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=tz)
        ts = dt.timestamp()
    except (ValueError, OverflowError):
        raise TimeArgError(
            f"{_shown(text)} is not a time (examples: 2026-11-27T14:00, 2026-11-27, 1764252000, 2h)"
        ) from None
    return check_time(ts, text)


def parse_date(text: str) -> date:
    """A ``YYYY-MM-DD`` date typed by a user, in [1970-01-01, 9999-01-01)."""
    try:
        d = date.fromisoformat(text.strip())
    except ValueError:
        raise TimeArgError(f"{_shown(text)} is not a date (expected YYYY-MM-DD)") from None
    check_time(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp(), text)
    return d


def local_midnight(ts: float, tz: tzinfo) -> float:
    d = datetime.fromtimestamp(ts, tz)
    return d.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


def day_bounds(d: date, tz: tzinfo) -> tuple[float, float]:
    start = datetime(d.year, d.month, d.day, tzinfo=tz)
    nxt = start + timedelta(days=1)
    # Through zoneinfo a day can be 23 or 25 hours; recompute the wall-clock midnight.
    end = datetime(nxt.year, nxt.month, nxt.day, tzinfo=tz)
    return start.timestamp(), end.timestamp()


@lru_cache(maxsize=4096)
def utc_date(ts: float) -> date:
    """The UTC calendar date of an epoch time: the day whose prices a call is billed at.

    Cached: a window's merge asks it for every row of a bucket, with that bucket's start."""
    return (_dt.datetime(1970, 1, 1) + timedelta(seconds=ts)).date()
