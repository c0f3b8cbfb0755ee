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

from claude_top.core.errors import TimeArgError

__all__ = [
    "TimeArgError",
    "day_bounds",
    "local_midnight",
    "parse_date",
    "parse_duration",
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


def parse_duration(text: str) -> float:
    """``90s``, ``10m``, ``1h``, ``8d``, ``1w`` -> seconds."""
    m = _DURATION.match(text)
    if not m:
        raise TimeArgError(f"{text!r} is not a duration (examples: 30s, 10m, 1h, 8d)")
    return float(m.group(1)) * _UNIT[m.group(2)]


def parse_time(text: str, now: float, tz: tzinfo = UTC) -> float:
    """An absolute time (ISO 8601, a date, epoch seconds) or a duration ago (``2h`` = now - 2h).

    A time without an offset is read in ``tz``.
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
            raise TimeArgError(f"{text!r} is not a time")
        return t
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise TimeArgError(
            f"{text!r} is not a time (examples: 2026-11-27T14:00, 2026-11-27, 1764252000, 2h)"
        ) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=tz)
    return dt.timestamp()


def parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise TimeArgError(f"{text!r} is not a date (expected YYYY-MM-DD)") from None


def local_midnight(ts: float, tz: tzinfo) -> float:
    d = datetime.fromtimestamp(ts, tz)
    return d.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


def day_bounds(d: date, tz: tzinfo) -> tuple[float, float]:
    start = datetime(d.year, d.month, d.day, tzinfo=tz)
    nxt = start + timedelta(days=1)
    # Through zoneinfo a day can be 23 or 25 hours; recompute the wall-clock midnight.
    end = datetime(nxt.year, nxt.month, nxt.day, tzinfo=tz)
    return start.timestamp(), end.timestamp()


def utc_date(ts: float) -> date:
    """The UTC calendar date of an epoch time: the day whose prices a call is billed at."""
    return (_dt.datetime(1970, 1, 1) + timedelta(seconds=ts)).date()
