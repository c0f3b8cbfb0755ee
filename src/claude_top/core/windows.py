"""Named time windows ("10m", "today", "yesterday", a date) and time arguments.

Every window is computed from one "now" and one time zone, so the TUI, ``summary`` and ``check``
mean the same span by the same word. Rolling windows end at now; calendar windows (today,
yesterday, a date) follow the configured zone's midnights (UTC by default, as the article does).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, tzinfo

from msgspec import Struct

from claude_top.core.errors import TimeArgError
from claude_top.core.timeutil import (
    day_bounds,
    is_duration,
    local_midnight,
    parse_date,
    parse_duration,
)

WINDOW_CYCLE = ("5m", "10m", "1h", "24h", "today", "all")
"""The order the TUI's ``w`` key steps through."""
CALENDAR = ("today", "yesterday", "all")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class WindowName(Struct, frozen=True):
    """A window name checked once: what the user typed (stripped) and its length if rolling."""

    name: str
    seconds: float | None
    """The length of a duration ("10m" -> 600); None for today, yesterday, all and dates."""


def check_window(value: object) -> WindowName:
    """The one validator of window names typed by users (``--window``, ``ui.window``, rules).

    Raises ``TimeArgError`` saying what a window looks like; callers add where it was typed and
    any narrower rule of their own (a rule's window must be bounded, for instance).
    """
    examples = "examples: 5m, 1h, today, yesterday, all, 2026-11-27"
    if not isinstance(value, str):
        raise TimeArgError(f"{value!r} is not a window ({examples})")
    name = value.strip()
    if name in CALENDAR:
        return WindowName(name, None)
    if _DATE.match(name):
        parse_date(name)
        return WindowName(name, None)
    if not is_duration(name):
        raise TimeArgError(f"{value!r} is not a window ({examples})")
    seconds = parse_duration(name)  # a duration too long says so
    if seconds <= 0:
        raise TimeArgError(f"{value!r} is not a window: a duration must be longer than zero")
    return WindowName(name, seconds)


class Window(Struct, frozen=True):
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
    if _DATE.match(name):
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
