"""How the main screen's rows are shared out, from the terminal's size and the frame's content.

Why a function of its own: a fixed split left a six-row table in a 30-row box while the panels
below truncated. Here the table takes the rows its features need (up to what leaves the panels
their minimum), the panels take the rest, and a terminal with rows to spare gets the charts
strip as well -- never blank rows. Pure arithmetic, tested without an app.
"""

from __future__ import annotations

from dataclasses import dataclass

COMPACT_WIDTH = 120
COMPACT_HEIGHT = 34
WIDE_WIDTH = 150
"""From this width the headroom panel gets a column of its own next to the four side panels."""
PANEL_MIN = 9
"""Rows of one panel box at the least (7 lines inside its border)."""
COMPACT_PANEL_MIN = 6
CHARTS_MIN = 9
CHARTS_MAX = 15
"""Rows of the charts strip, border included: a title, a plot of 3-11 rows, a time axis."""
TABLE_MIN = 5


@dataclass(frozen=True, slots=True)
class Plan:
    compact: bool
    wide: bool
    table: int
    """Rows of the features box (border and header included)."""
    charts: int
    """Rows of the charts strip; 0: not shown."""
    panels: int
    """Rows of the side panels' grid."""


def is_compact(width: int, height: int) -> bool:
    return width < COMPACT_WIDTH or height < COMPACT_HEIGHT


def plan(width: int, height: int, features: int, progress: bool = False, extra: int = 0) -> Plan:
    """``extra``: rows other regions take (the hosts box, when several hosts are read)."""
    compact = is_compact(width, height)
    wide = not compact and width >= WIDE_WIDTH
    chrome = 4 + (0 if compact else 1) + (1 if progress else 0) + extra  # header, KPIs, footer
    avail = max(0, height - chrome)
    need = max(TABLE_MIN, features + 3)
    if compact:
        table = max(TABLE_MIN, min(need, avail - COMPACT_PANEL_MIN))
        return Plan(True, False, table, 0, max(COMPACT_PANEL_MIN, avail - table))
    panels_min = 2 * PANEL_MIN
    table = max(TABLE_MIN, min(need, avail - panels_min))
    free = avail - table
    rows = 0
    if free - CHARTS_MIN >= panels_min + 2:
        rows = min(CHARTS_MAX, free - panels_min - 2, max(CHARTS_MIN, free // 3))
    return Plan(False, wide, table, rows, max(panels_min, free - rows))
