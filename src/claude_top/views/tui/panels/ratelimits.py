"""The recent-429s panel: the latest bursts with who drove them, then the latest 429s."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from claude_top.core import format as fmt
from claude_top.views.live.dashboard import Burst, Dashboard
from claude_top.views.tui.panels.cells import (
    DEFAULT,
    GLYPH,
    Palette,
    empty,
    log_text,
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


def rate_limits(
    d: Dashboard, pal: Palette = DEFAULT, limit: int = 8, bursts: int = 2
) -> RenderableType:
    if not d.rate_limits:
        return empty("no 429s in the last 24 h", pal)
    head = [line for b in d.bursts[:bursts] for line in burst_lines(b, d.tz, pal)]
    t = Table(box=None, pad_edge=False, expand=True, header_style="bold")
    t.add_column("time", no_wrap=True, min_width=8)
    for name, least in (("feature", 10), ("user", 8), ("model", 10)):
        t.add_column(name, no_wrap=True, overflow="ellipsis", min_width=least, ratio=1)
    for name in ("req", "tok", "retry"):
        t.add_column(name, justify="right", no_wrap=True, min_width=len(name))
    at = zone(d.tz)
    for r in d.rate_limits[:limit]:
        t.add_row(
            Text(fmt.clock(r.ts, at)),
            log_text(r.feature, 18),
            log_text(r.user, 16),
            log_text(r.model, 20),
            Text(fmt.count(r.requests_remaining)),
            Text(fmt.count(r.tokens_remaining)),
            Text(fmt.DASH if r.retry_after_s is None else f"{fmt.number(r.retry_after_s)}s"),
        )
    return Group(*head, t) if head else t
