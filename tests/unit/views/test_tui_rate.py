"""The header's ingest rate: over a window of live reading, never the history's lines."""

from __future__ import annotations

import pytest

from claude_top.views.tui.rate import MIN_SPAN_S, WINDOW_S, IngestRate


def test_the_rate_right_after_loading_ignores_the_history() -> None:
    r = IngestRate()
    r.sample(0.0, 0, loading=True)
    assert r.sample(5.0, 500_000, loading=True) == pytest.approx(100_000)  # loading: its speed
    assert r.sample(5.25, 500_973, loading=False) == 0.0  # the load ended: start afresh
    assert r.sample(5.25 + MIN_SPAN_S, 500_975, loading=False) == pytest.approx(2.0)


def test_the_rate_is_over_a_window_not_the_last_second() -> None:
    r = IngestRate()
    r.sample(0.0, 0, loading=False)
    r.sample(1.0, 100, loading=False)  # a burst of 100 lines in the first second
    for t in range(2, 10):
        r.sample(float(t), 100, loading=False)
    assert r.value == pytest.approx(100 / 9)  # still in the window: spread over it
    for t in range(10, 10 + int(WINDOW_S) + 2):
        r.sample(float(t), 100, loading=False)
    assert r.value == 0.0  # the burst left the window


def test_less_than_a_second_gives_no_figure() -> None:
    r = IngestRate()
    r.sample(0.0, 0, loading=False)
    assert r.sample(0.5, 1000, loading=False) == 0.0
