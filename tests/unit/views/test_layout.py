"""The main screen's rows come from the content: no blank rows, charts when there is room."""

from __future__ import annotations

import pytest

from claude_top.views.tui.layout import CHARTS_MIN, PANEL_MIN, plan


def _avail(width: int, height: int, compact: bool) -> int:
    return height - (4 if compact else 5)


@pytest.mark.parametrize(
    ("size", "charts"),
    [
        ((80, 24), False),
        ((120, 40), False),
        ((160, 48), True),
        ((200, 60), True),
        ((220, 60), True),
    ],
)
def test_the_table_takes_what_its_rows_need_and_the_rest_is_used(
    size: tuple[int, int], charts: bool
) -> None:
    w, h = size
    p = plan(w, h, features=6)
    assert p.table == 6 + 3  # rows, header, border: no blank row in the box
    assert p.table + p.charts + p.panels == _avail(w, h, p.compact)
    assert (p.charts >= CHARTS_MIN) is charts


def test_many_features_leave_the_panels_their_minimum() -> None:
    p = plan(160, 48, features=50)
    assert p.panels >= 2 * PANEL_MIN and p.charts == 0
    assert p.table + p.panels == 43


def test_small_terminal_keeps_a_panel_and_folds_the_rest() -> None:
    p = plan(80, 24, features=5)
    assert p.compact and p.charts == 0
    assert p.table == 8 and p.panels == 12


def test_a_larger_terminal_shows_more_never_less() -> None:
    a, b = plan(160, 48, 6), plan(220, 60, 6)
    assert b.charts >= a.charts and b.panels > a.panels
