"""The rate-limit headroom panel: per model class, RPM/ITPM/OTPM of the last 60 s against the
limits, and who uses the input tokens.

Without any limit known the gauges would be empty, so the panel shows the rates and says where
limits come from instead.
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from claude_top.core import format as fmt
from claude_top.views.live.dashboard import Dashboard, Gauge, HeadroomView
from claude_top.views.live.rows import HeadroomClassRow
from claude_top.views.tui.panels.bars import BAR_WIDTH, bar
from claude_top.views.tui.panels.cells import DEFAULT, GLYPH, Palette, empty, log_text, shares

_LEVEL_ORDER = {"critical": 0, "warning": 1, "ok": 2}


def gauge(g: Gauge, pal: Palette = DEFAULT, width: int = BAR_WIDTH) -> Text:
    """``ITPM ████▌░░░ ▲ 87%  26.1k/30.0k``: colour AND glyph past the threshold."""
    out = Text(no_wrap=True, overflow="ellipsis")
    out.append(f" {g.label:<4} ")
    style = pal.style(g.level) or pal.success
    out.append(bar((g.pct or 0.0) / 100.0, width), style=style)
    glyph = GLYPH.get(g.level, "")
    out.append(f" {glyph or ' '}{fmt.percent(g.pct, 0):>5}", style=pal.style(g.level))
    out.append(f" {fmt.count(g.used):>6}/{fmt.count(g.limit or 0)}")
    return out


def _worst_first(h: HeadroomView) -> list[HeadroomClassRow]:
    """The class whose alert fires comes first, so a short box never cuts it off."""
    return sorted(h.classes, key=lambda c: (_LEVEL_ORDER[c.level], c.model_class))


def _source(sources: set[str | None]) -> str:
    known = sorted(s for s in sources if s)
    if not known:
        return "no limits"
    return "limits: " + "+".join(known)


def _compact(h: HeadroomView, pal: Palette) -> RenderableType:
    """Five lines at 80x24: one line per model class (worst first), then who uses ITPM."""
    parts: list[RenderableType] = []
    for c in _worst_first(h):
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append_text(log_text(c.model_class, 14, f"bold {pal.accent}"))
        for g in c.gauges:
            line.append(f"  {g.label} ", style=pal.muted)
            if g.pct is None:
                line.append(f"{fmt.count(g.used)}/?")
            else:
                glyph = GLYPH.get(g.level, "")
                pct = fmt.percent(g.pct, 0)
                line.append(f"{glyph} {pct}" if glyph else pct, style=pal.style(g.level))
        parts.append(line)
    if not h.limits_known:
        parts.append(empty("limits unknown: [limits.<class>] in the config, or headers", pal))
    if h.top_users:
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append("ITPM share: ", style=pal.muted)
        line.append_text(shares(h.top_users, 2, 16))
        line.append(" │ ", style=pal.muted)
        line.append_text(shares(h.top_features, 2, 16))
        parts.append(line)
    return Group(*parts)


def _gauges(h: HeadroomView, pal: Palette) -> list[RenderableType]:
    """With limits known: a title per model class, then a gauge per limit."""
    parts: list[RenderableType] = []
    for c in _worst_first(h):
        title = Text(no_wrap=True, overflow="ellipsis")
        title.append_text(log_text(c.model_class, 20, f"bold {pal.accent}"))
        title.append(f"  {_source({g.source for g in c.gauges})}", style=pal.muted)
        parts.append(title)
        for g in c.gauges:
            if g.limit is None:
                line = Text(f" {g.label:<4} {fmt.count(g.used)}/min, limit unknown",
                            style=pal.muted, no_wrap=True)  # fmt: skip
                parts.append(line)
            else:
                parts.append(gauge(g, pal))
    return parts


def _rates(h: HeadroomView, pal: Palette) -> list[RenderableType]:
    """With no limit known: the rates per class, and where limits would come from."""
    t = Table(box=None, pad_edge=False, expand=False, header_style="bold")
    t.add_column("last 60 s", no_wrap=True, overflow="ellipsis", max_width=16)
    for name in ("req", "ITPM", "OTPM"):
        t.add_column(name, justify="right", no_wrap=True)
    for c in _worst_first(h):
        t.add_row(log_text(c.model_class, 16), *[Text(fmt.count(g.used)) for g in c.gauges])
    hint = Text(
        "limits unknown: set [limits.<class>] rpm/itpm/otpm in the config, or log "
        "the anthropic-ratelimit-* headers (claude_top.instrument does)",
        style=pal.muted,
    )
    return [t, hint]


def _share_table(h: HeadroomView) -> Table:
    """Top three users and features by their share of ITPM, side by side."""
    t = Table.grid(padding=(0, 1), expand=True)
    t.add_column(no_wrap=True, overflow="ellipsis", ratio=1)
    t.add_column(justify="right", no_wrap=True)
    t.add_column(no_wrap=True, overflow="ellipsis", ratio=1)
    t.add_column(justify="right", no_wrap=True)
    for i in range(3):
        cells: list[Text] = []
        for who in (h.top_users, h.top_features):
            if i < len(who):
                cells += [log_text(who[i].name, 24), Text(fmt.share(who[i].share))]
            else:
                cells += [Text(""), Text("")]
        if any(c.plain for c in cells):
            t.add_row(*cells)
    return t


def _full_rows(h: HeadroomView, width: int) -> int:
    """Lines the full panel takes in a box ``width`` wide."""
    hint = -(-HINT_LEN // max(1, width))
    n = 4 * len(h.classes) if h.limits_known else 1 + len(h.classes) + hint
    if h.top_users or h.top_features:
        n += 1 + min(3, max(len(h.top_users), len(h.top_features)))
    return n


HINT_LEN = 140
"""About the length of the "limits unknown" hint."""


def headroom(
    d: Dashboard,
    pal: Palette = DEFAULT,
    compact: bool = False,
    rows: int | None = None,
    width: int = 48,
) -> RenderableType:
    """The full panel, or one line per class (worst first) when ``rows`` cannot hold it."""
    h = d.headroom
    if not h.live:
        return Group(empty("replay: headroom follows live traffic only", pal))
    if not h.classes:
        return empty("no calls in the last 60 s", pal)
    if compact or (rows is not None and _full_rows(h, width) > rows):
        return _compact(h, pal)
    parts = _gauges(h, pal) if h.limits_known else _rates(h, pal)
    if h.top_users or h.top_features:
        parts.append(Text("ITPM share, last 60 s", style="bold"))
        parts.append(_share_table(h))
    return Group(*parts)
