"""The alerts panel: the firing alerts, worst first, then the latest transitions."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from claude_top.core import format as fmt
from claude_top.views.live.dashboard import Dashboard
from claude_top.views.tui.panels.cells import DEFAULT, Palette, leveled, log_text, zone


def _firing(d: Dashboard, pal: Palette, limit: int) -> Table:
    t = Table(box=None, pad_edge=False, expand=True, show_header=False)
    t.add_column(no_wrap=True)
    t.add_column(no_wrap=True, overflow="ellipsis", ratio=1)
    t.add_column(no_wrap=True, justify="right")
    at = zone(d.tz)
    for a in d.alerts[:limit]:
        t.add_row(
            leveled("CRIT" if a.severity == "critical" else "WARN", a.severity, pal, "left"),
            log_text(a.message or f"{a.rule} {a.scope}", 200),
            Text(fmt.clock(a.since, at), style=pal.muted),
        )
    if len(d.alerts) > limit:
        t.add_row(Text(""), Text(f"… {len(d.alerts) - limit} more", style=pal.muted), Text(""))
    return t


def alerts(d: Dashboard, pal: Palette = DEFAULT, limit: int = 8) -> RenderableType:
    parts: list[RenderableType] = []
    if d.alerts_pending:
        parts.append(Text("… alerts start once the history has loaded", style=pal.muted))
    elif d.alerts:
        parts.append(_firing(d, pal, limit))
    else:
        parts.append(Text("✔ no alert firing", style=pal.success))
    at = zone(d.tz)
    for tr in d.transitions[:3]:
        line = Text(no_wrap=True, overflow="ellipsis", style=pal.muted)
        line.append(f"{fmt.clock(tr.at, at)} {tr.kind:<8} ")
        line.append_text(log_text(tr.message or f"{tr.rule} {tr.scope}", 200))
        parts.append(line)
    return Group(*parts)
