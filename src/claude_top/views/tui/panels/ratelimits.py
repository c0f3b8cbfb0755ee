"""The recent-429s panel: the latest bursts with who drove them, then the latest 429s."""

from __future__ import annotations

from datetime import tzinfo

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from claude_top.core import format as fmt
from claude_top.views.live.dashboard import Burst, Dashboard
from claude_top.views.live.rows import RateLimitRow
from claude_top.views.tui.panels.cells import (
    DEFAULT,
    GLYPH,
    Palette,
    empty,
    log_text,
    marked,
    shares,
    zone,
)


def burst_lines(b: Burst, tz: str, pal: Palette = DEFAULT) -> list[Text]:
    """One 429 burst: when, how many, and who drove the minute before it (users, features)."""
    head = Text(no_wrap=True, overflow="ellipsis")
    at = zone(tz)
    start = fmt.clock(b.start, at)
    when = start if b.start == b.end else f"{start}–{fmt.clock(b.end, at)}"
    head.append("burst ", style="bold")
    head.append(f"{when} ")
    head.append_text(log_text(b.model_class, 16, f"bold {pal.accent}"))
    head.append(f" {GLYPH['warning']} {b.count}×429", style=pal.style("warning"))
    if b.users is None or b.drivers is None:
        head.append("  drivers: not tracked (history)", style=pal.muted)
        return [head]
    if not b.users:
        head.append("  no input tokens in the minute before", style=pal.muted)
        return [head]
    if b.partial:
        head.append("  (minute before partly seen)", style=pal.muted)
    out = [head]
    for label, who in (("users", b.users), ("features", b.drivers)):
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append(f" ↳ min before, {label}: ", style=pal.muted)
        line.append_text(shares(who, 3, 18))
        out.append(line)
    return out


COLUMNS = ("time", "feature", "user", "model", "req", "tok", "retry")
DROP_ORDER = ("req", "tok", "retry", "model")
"""Columns left out, in this order, when the box is too narrow for every value in full."""


def _cells(r: RateLimitRow, at: tzinfo, needle: str | None = None) -> dict[str, Text]:
    return {
        "time": Text(fmt.clock(r.ts, at)),
        "feature": marked(log_text(r.feature, 40), needle),
        "user": marked(log_text(r.user, 40), needle),
        "model": marked(log_text(r.model, 40), needle),
        "req": Text(fmt.count(r.requests_remaining), justify="right"),
        "tok": Text(fmt.count(r.tokens_remaining), justify="right"),
        "retry": Text(
            fmt.DASH if r.retry_after_s is None else f"{fmt.number(r.retry_after_s)}s",
            justify="right",
        ),
    }


def rate_limits(
    d: Dashboard,
    pal: Palette = DEFAULT,
    limit: int = 8,
    bursts: int = 2,
    *,
    rows: int | None = None,
    width: int | None = None,
) -> RenderableType:
    """Bursts first, then the latest 429s; columns as wide as their values, fewer if narrow."""
    if not d.rate_limits:
        what = "no matching 429s" if d.filter_text.strip() else "no 429s"
        return empty(f"{what} in the last 24 h", pal)
    head = [line for b in d.bursts[:bursts] for line in burst_lines(b, d.tz, pal)]
    if rows is not None:
        while head and rows - len(head) - 1 < min(3, len(d.rate_limits)):
            head = head[: max(0, len(head) - 3)]
        limit = max(1, rows - len(head) - 1)
    at = zone(d.tz)
    needle = d.filter_text.strip() or None
    body = [_cells(r, at, needle) for r in d.rate_limits[:limit]]
    widths = {c: max([len(c)] + [b[c].cell_len for b in body]) for c in COLUMNS}
    shown = list(COLUMNS)
    if width is not None:
        for c in DROP_ORDER:
            if sum(widths[x] for x in shown) + len(shown) - 1 <= width:
                break
            shown.remove(c)
    t = Table(box=None, pad_edge=False, expand=False, header_style="bold", padding=(0, 1, 0, 0))
    for c in shown:
        right = c in ("req", "tok", "retry")
        t.add_column(c, no_wrap=True, overflow="ellipsis", justify="right" if right else "left")
    for b in body:
        t.add_row(*[b[c] for c in shown])
    return Group(*head, t) if head else t
