"""The hosts panel: one row per host when claude-top reads more than one (``ssh://``, ``cmd://``).

Shown only with several hosts; a single-host screen is unchanged. A host whose source is in
error shows it in its state cell with the critical glyph, so a lost connection reads without
colour too.
"""

from __future__ import annotations

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from claude_top.core import format as fmt
from claude_top.views.live.dashboard import Dashboard
from claude_top.views.tui.panels.cells import DEFAULT, Palette, leveled, log_text


def hosts(d: Dashboard, pal: Palette = DEFAULT, limit: int = 8) -> RenderableType:
    t = Table(box=None, pad_edge=False, header_style="bold")
    t.add_column("host", no_wrap=True, overflow="ellipsis", max_width=30)
    t.add_column("state", no_wrap=True)
    t.add_column("calls", justify="right", no_wrap=True)
    t.add_column("err%", justify="right", no_wrap=True)
    t.add_column("p95", justify="right", no_wrap=True)
    t.add_column("cost", justify="right", no_wrap=True)
    t.add_column("rejected", justify="right", no_wrap=True)
    t.add_column("newest", justify="right", no_wrap=True)
    for h in d.hosts[:limit]:
        state = leveled(h.state, "critical" if h.state == "error" else "ok", pal, "left")
        t.add_row(
            log_text(h.host, 30),
            state,
            Text(fmt.count(h.calls)),
            leveled(fmt.percent(h.error_pct), h.level if h.state != "error" else "ok", pal),
            Text(fmt.ms(h.p95_ms)),
            Text(fmt.usd(h.cost)),
            Text(fmt.count(h.rejected)),
            Text(fmt.age(h.newest_age_s) if h.newest_age_s is not None else "—"),
        )
    if len(d.hosts) > limit:
        t.add_row(Text(f"… {len(d.hosts) - limit} more", style=pal.muted))
    return t
