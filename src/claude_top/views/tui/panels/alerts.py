"""The alerts panel: as many firing alerts as the box holds, in the view-model's order, then how
many more there are and the key that lists them all (``a``); recent transitions if room is left.

The order (source, severity, recency, impact) is decided in ``views.live.alerts``; this module
only decides how many lines fit.
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from claude_top.core import format as fmt
from claude_top.views.live.dashboard import Dashboard
from claude_top.views.live.rows import AlertRow
from claude_top.views.tui.panels.cells import DEFAULT, Palette, leveled, log_text, zone


def severity_cell(a: AlertRow, pal: Palette) -> Text:
    return leveled("CRIT" if a.severity == "critical" else "WARN", a.severity, pal, "left")


def alert_text(a: AlertRow) -> str:
    return a.message or f"{a.rule} {a.scope}"


def _firing(d: Dashboard, pal: Palette, shown: int, rows: tuple[AlertRow, ...]) -> Table:
    t = Table(box=None, pad_edge=False, expand=True, show_header=False, padding=(0, 1, 0, 0))
    t.add_column(no_wrap=True)
    t.add_column(no_wrap=True, overflow="ellipsis", ratio=1)
    t.add_column(no_wrap=True, justify="right")
    at = zone(d.tz)
    for a in rows[:shown]:
        t.add_row(
            severity_cell(a, pal),
            log_text(alert_text(a), 300),
            Text(fmt.clock(a.since, at), style=pal.muted),
        )
    return t


def alerts(d: Dashboard, pal: Palette = DEFAULT, rows: int = 8) -> RenderableType:
    """The panel in ``rows`` lines: never a firing alert dropped without "+N more (a)"."""
    rows = max(1, rows)
    firing = d.alerts if d.alerts_matching is None else d.alerts_matching
    outside = len(d.alerts) - len(firing)
    parts: list[RenderableType] = []
    used = 0
    if d.alerts_pending:
        parts.append(Text("… alerts start once the history has loaded", style=pal.muted))
        used = 1
    elif firing:
        n = len(firing)
        room = rows - (1 if outside else 0)
        shown = n if n <= room else max(0, room - 1)
        parts.append(_firing(d, pal, shown, firing))
        used = shown
        if shown < n:
            more = Text(f"+{n - shown} more (a)", style=f"bold {pal.accent}", no_wrap=True)
            parts.append(more)
            used += 1
    else:
        none = (
            "✔ no matching alert firing" if d.alerts_matching is not None else "✔ no alert firing"
        )
        parts.append(Text(none, style=pal.success))
        used = 1
    if outside and not d.alerts_pending:
        line = Text(f"+{outside} firing outside the filter (a)", style=f"bold {pal.warning}")
        parts.append(line)
        used += 1
    at = zone(d.tz)
    room = rows - used
    if room >= 2 and d.transitions:
        parts.append(Text("recent changes (a: all)", style=f"bold {pal.muted}", no_wrap=True))
        for tr in d.transitions[: room - 1]:
            line = Text(no_wrap=True, overflow="ellipsis", style=pal.muted)
            line.append(f"{fmt.clock(tr.at, at)} {tr.kind:<8} ")
            line.append_text(log_text(tr.message or f"{tr.rule} {tr.scope}", 300))
            parts.append(line)
    return Group(*parts)
