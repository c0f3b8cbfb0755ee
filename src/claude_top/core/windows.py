"""Named time windows ("10m", "today", "yesterday", a date) and time arguments.

Every window is computed from one "now" and one time zone, so the TUI, ``summary`` and ``check``
mean the same span by the same word. Rolling windows end at now; calendar windows (today,
yesterday, a date) follow the configured zone's midnights (UTC by default, as the article does).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo

from claude_top.ingest.reader import parse_timestamp

WINDOW_CYCLE = ("5m", "10m", "1h", "24h", "today", "all")
"""The order the TUI's ``w`` key steps through."""

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class TimeArgError(ValueError):
    """A time or window argument the user typed that we cannot read."""


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


@dataclass(frozen=True, slots=True)
class Window:
    """A named span [start, end); None on either side means unbounded."""

    name: str
    start: float | None
    end: float | None

    @property
    def seconds(self) -> float | None:
        if self.start is None or self.end is None:
            return None
        return self.end - self.start


def window(name: str, now: float, tz: tzinfo = UTC) -> Window:
    """Resolve a window name at ``now``: a duration, today, yesterday, all, or a date."""
    if name == "all":
        return Window("all", None, None)
    if name == "today":
        return Window("today", local_midnight(now, tz), now)
    if name == "yesterday":
        today = local_midnight(now, tz)
        y = datetime.fromtimestamp(today, tz).date() - timedelta(days=1)
        return Window("yesterday", day_bounds(y, tz)[0], today)
    if re.match(r"^\d{4}-\d{2}-\d{2}$", name):
        s, e = day_bounds(parse_date(name), tz)
        return Window(name, s, e)
    return Window(name, now - parse_duration(name), now)


def previous_days(now: float, tz: tzinfo, n: int = 7) -> list[tuple[date, float, float]]:
    """The ``n`` full days before today, newest first: (date, start, end)."""
    today = datetime.fromtimestamp(now, tz).date()
    out = []
    for i in range(1, n + 1):
        d = today - timedelta(days=i)
        s, e = day_bounds(d, tz)
        out.append((d, s, e))
    return out
