"""Times, dates, durations and intervals typed by users: refused outside what the code can hold."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from claude_top.core.errors import TimeArgError
from claude_top.core.timeutil import (
    TIME_MAX,
    TIME_MIN,
    parse_date,
    parse_seconds,
    parse_time,
)
from claude_top.core.windows import check_window, previous_days, window

NOW = 1_763_640_000.0


@pytest.mark.parametrize(
    "text",
    ["0001-01-01", "9999-12-31T23:59:59", "1e300", "99999999999d", "36526d", "1969-12-31T23:59"],
)
def test_times_out_of_range_are_refused(text: str) -> None:
    with pytest.raises(TimeArgError):
        parse_time(text, NOW)


@pytest.mark.parametrize("text", ["0001-01-01", "9999-12-31", "1969-12-31"])
def test_dates_out_of_range_are_refused(text: str) -> None:
    with pytest.raises(TimeArgError):
        parse_date(text)


@pytest.mark.parametrize("text", ["nan", "inf", "-inf", "-1", "0", "1e308", "1e-9", "99999999999d"])
def test_intervals_out_of_range_are_refused(text: str) -> None:
    with pytest.raises(TimeArgError):
        parse_seconds(text, 0.01, 86400)


def test_intervals_read_seconds_and_durations() -> None:
    assert parse_seconds("0.5", 0.01, 86400) == 0.5
    assert parse_seconds("1m", 0.01, 86400) == 60


def test_a_window_too_long_says_so() -> None:
    with pytest.raises(TimeArgError, match="too long"):
        check_window("99999999999d")


@given(st.floats(min_value=TIME_MIN, max_value=TIME_MAX, exclude_max=True))
def test_every_window_of_an_accepted_time_can_be_computed(now: float) -> None:
    # The edge zones: the last to reach a date and the first.
    from zoneinfo import ZoneInfo

    for zone in ("Pacific/Kiritimati", "Pacific/Pago_Pago", "UTC"):
        tz = ZoneInfo(zone)
        for name in ("today", "yesterday", "36525d"):
            window(name, now, tz)
        previous_days(now, tz, 8)
