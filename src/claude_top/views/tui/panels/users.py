"""The top-users panel: today's heaviest users by tokens or by cost."""

from __future__ import annotations

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from claude_top.core import format as fmt
from claude_top.views.live.dashboard import Dashboard
from claude_top.views.tui.panels.cells import DEFAULT, Palette, empty, leveled, log_text, marked


def users(d: Dashboard, pal: Palette = DEFAULT, limit: int = 10) -> RenderableType:
    if not d.users:
        return empty("no match today" if d.filter_text.strip() else "no calls today", pal)
    t = Table(box=None, pad_edge=False, expand=True, header_style="bold")
    by_tokens = d.users_by != "cost"
    t.add_column("user", no_wrap=True, overflow="ellipsis")
    t.add_column("tokens ↓" if by_tokens else "tokens", justify="right", no_wrap=True)
    t.add_column("cost" if by_tokens else "cost ↓", justify="right", no_wrap=True)
    t.add_column("calls", justify="right", no_wrap=True)
    t.add_column("err%", justify="right", no_wrap=True)
    for u in d.users[:limit]:
        t.add_row(
            marked(log_text(u.user, 40), d.filter_text.strip() or None),
            Text(fmt.count(u.tokens)),
            Text(fmt.usd(u.cost)),
            Text(fmt.count(u.calls)),
            leveled(fmt.percent(u.error_pct), u.level, pal),
        )
    return t
