"""The top-users panel: today's heaviest users by tokens or by cost."""

from __future__ import annotations

from rich.console import RenderableType
from rich.text import Text

from claude_top.core import format as fmt
from claude_top.views.live.dashboard import Dashboard
from claude_top.views.tui.panels.cells import DEFAULT, Palette, empty, leveled, log_text, marked
from claude_top.views.tui.panels.grid import CellTable, Col


def users(d: Dashboard, pal: Palette = DEFAULT, limit: int = 10) -> RenderableType:
    if not d.users:
        return empty("no match today" if d.filter_text.strip() else "no calls today", pal)
    by_tokens = d.users_by != "cost"
    cols = [
        Col("user"),
        Col("tokens ↓" if by_tokens else "tokens", "right"),
        Col("cost" if by_tokens else "cost ↓", "right"),
        Col("calls", "right"),
        Col("err%", "right"),
    ]
    needle = d.filter_text.strip() or None
    rows = [
        [
            marked(log_text(u.user, 40), needle),
            Text(fmt.count(u.tokens)),
            Text(fmt.usd(u.cost)),
            Text(fmt.count(u.calls)),
            leveled(fmt.percent(u.error_pct), u.level, pal),
        ]
        for u in d.users[:limit]
    ]
    # Drawn at every refresh under traffic: ``CellTable`` draws what a Rich ``Table`` would, faster.
    return CellTable(cols, rows, header_style="bold")
