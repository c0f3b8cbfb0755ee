"""Time-series charts as text: braille line charts with the rule's threshold drawn as a line.

Why our own and not ``textual-plotext``: that widget works with our Textual, but building four
small plots with plotext cost about 17 ms of CPU per refresh here (a third of the refresh
budget), its colours are its own rather than the theme's, and its output is an ANSI string, not
a renderable tested as text. A braille chart is 2x4 dots per cell, so a 30x6 chart has 60x24
points, enough for 60 slots; it is drawn from the view-model's ``Chart`` alone.

Reading without colour: the threshold is a row of ``┄`` where no data dot falls, and the title
carries the level glyph of the window's value (``✖ 32.5%``) as the KPI does.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from claude_top.core import format as fmt
from claude_top.views.live.charts import Chart, ChartSet, Kind
from claude_top.views.tui.panels.cells import DEFAULT, GLYPH, Palette, zone

_DOTS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))
"""Braille dot bits by (row within the cell, column within the cell)."""
AXIS = 7
"""Width of the y-axis labels."""


def value_text(kind: Kind, v: float | None) -> str:
    if v is None:
        return fmt.DASH
    if kind == "pct":
        return fmt.percent(v)
    if kind == "ms":
        return fmt.ms(v)
    if kind == "usd":
        return fmt.usd(v)
    return fmt.rate(v)


def _resample(values: Sequence[float | None], n: int) -> list[float | None]:
    """``values`` stretched or squeezed to ``n`` points (the max of the slots a point covers)."""
    m = len(values)
    if m == 0 or n <= 0:
        return [None] * max(n, 0)
    out: list[float | None] = []
    for i in range(n):
        lo = i * m // n
        hi = max(lo + 1, (i + 1) * m // n)
        part = [v for v in values[lo:hi] if v is not None]
        out.append(max(part) if part else None)
    return out


def plot_rows(
    values: Sequence[float | None], width: int, height: int, top: float
) -> list[list[int]]:
    """The braille bit pattern of each cell, row 0 at the top, a line through the points."""
    cells = [[0] * width for _ in range(height)]
    ydots = height * 4
    pts = _resample(values, width * 2)
    prev: int | None = None
    for x, v in enumerate(pts):
        if v is None:
            prev = None
            continue
        y = min(ydots - 1, max(0, round(v / top * (ydots - 1)))) if top > 0 else 0
        lo, hi = (y, y) if prev is None else (min(y, prev), max(y, prev))
        for yy in range(lo, hi + 1):
            row = height - 1 - yy // 4
            cells[row][x // 2] |= _DOTS[3 - yy % 4][x % 2]
        prev = y
    return cells


def line_chart(c: Chart, width: int, height: int, tz: str = "UTC", pal: Palette = DEFAULT) -> Text:
    """``height`` lines of ``width`` cells: title, plot with y labels, time axis."""
    plot_h = max(1, height - 2)
    plot_w = max(4, width - AXIS)
    vals = [v for v in c.values if v is not None]
    vmax = max(vals, default=0.0)
    top = max(vmax, c.threshold or 0.0) * 1.05 or 1.0
    out = Text(no_wrap=True, overflow="crop")
    glyph = GLYPH.get(c.level, "")
    out.append(f"{c.title} ", style="bold")
    now = value_text(c.kind, c.current)
    out.append(f"{glyph} {now}" if glyph else now, style=pal.style(c.level) or pal.accent)
    if c.threshold is not None:
        out.append(f"  ┄ {value_text(c.kind, c.threshold)}", style=pal.warning)
    out.append(" ")
    per = f"/{fmt.span(c.step)}" if c.kind == "usd" else ""
    out.append(f"  max {value_text(c.kind, vmax if vals else None)}{per}", style=pal.muted)
    out.append("\n")
    cells = plot_rows(c.values, plot_w, plot_h, top)
    thr_row = None
    if c.threshold is not None and top > 0:
        y = round(c.threshold / top * (plot_h * 4 - 1))
        thr_row = plot_h - 1 - y // 4
    pts = _resample(c.values, plot_w)
    over = [c.threshold is not None and v is not None and v > c.threshold for v in pts]
    for r, row in enumerate(cells):
        label = value_text(c.kind, top) if r == 0 else ("0" if r == plot_h - 1 else "")
        out.append(f"{label:>{AXIS - 1}.{AXIS - 1}}│", style=pal.muted)
        # Runs of one style appended at once: a few spans per row, not one per cell.
        run: list[str] = []
        run_style = ""
        for x, bits in enumerate(row):
            if bits:
                ch, style = chr(0x2800 + bits), pal.error if over[x] else pal.accent
            elif r == thr_row:
                ch, style = "┄", pal.warning
            else:
                ch, style = " ", ""
            if style != run_style and run:
                out.append("".join(run), style=run_style)
                run = []
            run.append(ch)
            run_style = style
        if run:
            out.append("".join(run), style=run_style)
        out.append("\n")
    at = zone(tz)
    left, right = f"-{fmt.age(c.end - c.start)}", fmt.clock(c.end, at)[:5]
    gap = max(1, plot_w - len(left) - len(right))
    out.append(" " * AXIS + left + " " * gap + right, style=pal.muted)
    return out


def chart_row(
    cs: ChartSet, width: int, height: int, tz: str = "UTC", pal: Palette = DEFAULT
) -> RenderableType:
    """The set's charts side by side in ``width`` cells, ``height`` lines each (two to a row
    under 100 columns)."""
    per_row = 4 if width >= 100 else 2
    rows = [cs.charts[i : i + per_row] for i in range(0, len(cs.charts), per_row)]
    each_h = max(3, height)
    each_w = max(12, (width - (per_row - 1) * 2) // per_row)
    grid = Table.grid(padding=(0, 2))
    for _ in range(per_row):
        grid.add_column(width=each_w, no_wrap=True)
    for charts in rows:
        grid.add_row(*[line_chart(c, each_w, each_h, tz, pal) for c in charts])
    return grid
