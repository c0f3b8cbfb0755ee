"""Each panel of the screen as a pure function: Dashboard (+ palette) -> Rich renderable.

Why pure: a panel can be rendered to text in a unit test with ``Console(record=True)``, without an
app. Every string that came from the log goes through ``_t`` (``safe_text`` then a ``Text``
object, never markup), and every cell past a threshold carries a glyph as well as a colour so it
reads under ``NO_COLOR``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from functools import lru_cache
from pathlib import PurePath
from zoneinfo import ZoneInfo

from rich.console import Group, RenderableType
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from claude_top.core.text import safe_text
from claude_top.engine.headroom import Share
from claude_top.views.live.dashboard import (
    BreakdownRow,
    BurstRow,
    Dashboard,
    FeatureDetail,
    FeatureRow,
    Gauge,
    Level,
)
from claude_top.views.summary import fmt_count, fmt_ms, fmt_usd

GLYPH: dict[str, str] = {"ok": "", "warning": "▲", "critical": "✖"}
SPARK = "▁▂▃▄▅▆▇█"


@dataclass(frozen=True, slots=True)
class Palette:
    """Colours taken from the active theme (the app builds it from its CSS variables)."""

    warning: str = "yellow"
    error: str = "red"
    success: str = "green"
    muted: str = "grey50"
    accent: str = "cyan"
    primary: str = "blue"

    def style(self, level: Level) -> str:
        if level == "critical":
            return f"bold {self.error}"
        if level == "warning":
            return f"bold {self.warning}"
        return ""


DEFAULT = Palette()


def _t(s: str, n: int | None = None, style: str = "") -> Text:
    """A log string made safe to show: control characters visible, cut, never markup."""
    return Text(safe_text(s, n), style=style, no_wrap=True, overflow="ellipsis")


def leveled(text: str, level: Level, pal: Palette, justify: str = "right") -> Text:
    """A value with its level: glyph + colour past a threshold, plain otherwise."""
    glyph = GLYPH.get(level, "")
    out = Text(f"{glyph} {text}" if glyph else text, style=pal.style(level), no_wrap=True)
    out.justify = justify  # type: ignore[assignment]
    return out


@lru_cache(maxsize=8)
def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except Exception:
        return ZoneInfo("UTC")


def hms(ts: float | None, tz: str) -> str:
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts, _zone(tz)).strftime("%H:%M:%S")


def stamp(ts: float | None, tz: str) -> str:
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts, _zone(tz)).strftime("%Y-%m-%d %H:%M:%S")


def age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    s = max(0.0, seconds)
    if s < 90:
        return f"{s:.0f}s"
    if s < 5400:
        return f"{s / 60:.0f}m"
    if s < 172_800:
        return f"{s / 3600:.0f}h"
    return f"{s / 86400:.0f}d"


def pct_s(x: float | None) -> str:
    return "-" if x is None else f"{x:.1f}%"


def _fit(values: Sequence[float], width: int | None) -> list[float]:
    vals = list(values)
    if width is not None and len(vals) > width:
        # Sum neighbouring slots so the line fits without dropping calls.
        k = -(-len(vals) // width)
        vals = [sum(vals[i : i + k]) for i in range(0, len(vals), k)]
    return vals


def sparkline(values: Sequence[float], width: int | None = None, top: float | None = None) -> str:
    """Block characters scaled to ``top`` (default: the series' own maximum)."""
    vals = _fit(values, width)
    if top is None:
        top = max(vals, default=0.0)
    if top <= 0:
        return SPARK[0] * len(vals)
    return "".join(SPARK[min(7, int(v / top * 7.999))] if v > 0 else " " for v in vals)


# -- header and KPI strip ----------------------------------------------------------------------


def header(d: Dashboard, pal: Palette = DEFAULT) -> Text:
    out = Text(no_wrap=True, overflow="ellipsis")
    out.append(" claude-top ", style=f"bold reverse {pal.primary}")
    if d.paused:
        out.append(" ")
        out.append(" ⏸ PAUSED ", style=f"bold reverse {pal.warning}")
    if d.replay:
        out.append(" ")
        out.append(f" ⏪ REPLAY @ {stamp(d.newest_ts, d.tz)} ", style=f"bold reverse {pal.accent}")
    out.append(f"  window {d.window_name}", style="bold")
    if d.filter_text:
        out.append("  filter ", style=pal.muted)
        out.append_text(_t(d.filter_text, 24, "bold"))
    out.append("  │ ", style=pal.muted)
    if d.sources:
        for i, s in enumerate(d.sources[:3]):
            if i:
                out.append(", ", style=pal.muted)
            bad = s.state in ("error", "waiting")
            out.append_text(_t(PurePath(s.path).name or s.path, 28))
            out.append(f" {s.state}", style=pal.style("warning") if bad else pal.muted)
        if len(d.sources) > 3:
            out.append(f" +{len(d.sources) - 3}", style=pal.muted)
    else:
        out.append("no live source", style=pal.muted)
    out.append(f"  │ {d.ingest_rate:,.0f} lines/s", style=pal.muted)
    out.append(f"  │ newest {age(d.newest_age_s)} ago", style=pal.muted)
    return out


def kpi_strip(d: Dashboard, pal: Palette = DEFAULT, compact: bool = False) -> Table:
    k = d.kpis
    grid = Table.grid(expand=True, padding=(0, 1))
    lv = k.levels
    cells: list[tuple[str, Text]] = [
        ("cost today", leveled(fmt_usd(k.cost_today), lv.get("cost_today", "ok"), pal, "left")),
        ("yday same time", Text(fmt_usd(k.cost_yesterday_same_time))),
        ("yesterday", Text(fmt_usd(k.cost_yesterday))),
        (
            f"{k.baseline_days}-day avg" if k.baseline_days else "7-day avg",
            Text(fmt_usd(k.cost_7d_avg) if k.cost_7d_avg is not None else "-"),
        ),
        ("calls/min", Text(f"{k.calls_per_min:,.1f}")),
        ("errors", leveled(pct_s(k.error_pct), lv.get("error_pct", "ok"), pal, "left")),
        ("p95", leveled(fmt_ms(k.p95_ms), lv.get("p95_ms", "ok"), pal, "left")),
        (
            "429s 5m/24h",
            leveled(
                f"{k.rate_limited_5m}/{k.rate_limited_24h}",
                lv.get("rate_limited_5m", "ok"),
                pal,
                "left",
            ),
        ),
        (
            "alerts",
            Text("…", style=pal.muted)
            if d.alerts_pending
            else leveled(str(k.alerts_firing), lv.get("alerts", "ok"), pal, "left"),
        ),
    ]
    if d.worst_p95 is not None:
        w = d.worst_p95
        v = _t(w.feature, 16, "bold")
        v.append(f" {fmt_ms(w.p95_ms)}")
        cells.append(("slowest p95", v))
    if compact:
        # Two lines of "label value" pairs, five to a line, so nothing is cut at 80 columns.
        short = ("today", "yday@now", "yday", "avg", "/min", "err", "p95", "429", "alerts")
        pairs = [
            Text.assemble((label + " ", pal.muted), v)
            for label, (_, v) in zip(short, cells, strict=False)
        ]
        slowest = (
            Text.assemble(("slowest ", pal.muted), cells[9][1]) if len(cells) > 9 else Text("")
        )
        for _ in range(5):
            grid.add_column(no_wrap=True, overflow="ellipsis")
        grid.add_row(*pairs[:4], pairs[8])
        grid.add_row(*pairs[4:8], slowest)
        return grid
    for _ in cells:
        grid.add_column(no_wrap=True, overflow="ellipsis")
    grid.add_row(*[Text(label, style=pal.muted, no_wrap=True) for label, _ in cells])
    grid.add_row(*[v for _, v in cells])
    return grid


# -- features table (cells for a DataTable) ----------------------------------------------------

COLUMNS: dict[str, str] = {
    "feature": "feature",
    "calls": "calls",
    "calls_per_min": "/min",
    "error_pct": "err%",
    "p50_ms": "p50",
    "p95_ms": "p95",
    "cost": "cost",
    "cost_per_call": "$/call",
    "cache_hit_pct": "cache%",
    "max_tokens_pct": "maxtok%",
    "rate_limited": "429",
    "spark": "calls trend",
}
WIDE = tuple(COLUMNS)
COMPACT = ("feature", "calls", "error_pct", "p95_ms", "cost", "cache_hit_pct", "rate_limited")
SPARK_WIDTH = 20


def column_label(key: str, sort: tuple[str, bool]) -> Text:
    label = COLUMNS[key]
    if key == sort[0]:
        label += " ↓" if sort[1] else " ↑"
        return Text(label, style="bold underline", justify="left" if key == "feature" else "right")
    return Text(label, justify="left" if key == "feature" else "right")


def feature_grid(
    d: Dashboard, columns: Sequence[str], pal: Palette = DEFAULT, name_width: int = 24
) -> tuple[list[Text], list[list[Text]]]:
    """Column labels and cell rows, padded to common widths (numbers right-aligned)."""
    top = max((v for r in d.features for v in _fit(r.spark, SPARK_WIDTH)), default=0.0)
    labels = [column_label(c, d.sort) for c in columns]
    rows = [feature_cells(r, columns, pal, name_width, top) for r in d.features]
    for i, c in enumerate(columns):
        width = max([labels[i].cell_len] + [r[i].cell_len for r in rows])
        how = "left" if c in ("feature", "spark") else "right"
        for cell in [labels[i], *(r[i] for r in rows)]:
            cell.align(how, width)  # type: ignore[arg-type]
    return labels, rows


def feature_cells(
    row: FeatureRow,
    columns: Sequence[str],
    pal: Palette = DEFAULT,
    name_width: int = 24,
    spark_top: float | None = None,
) -> list[Text]:
    lv = row.levels
    out: list[Text] = []
    for c in columns:
        if c == "feature":
            out.append(_t(row.feature, name_width))
        elif c == "calls":
            out.append(Text(fmt_count(row.calls), justify="right"))
        elif c == "calls_per_min":
            out.append(Text(f"{row.calls_per_min:,.1f}", justify="right"))
        elif c == "error_pct":
            out.append(leveled(pct_s(row.error_pct), lv.get(c, "ok"), pal))
        elif c == "p50_ms":
            out.append(Text(fmt_ms(row.p50_ms), justify="right"))
        elif c == "p95_ms":
            out.append(leveled(fmt_ms(row.p95_ms), lv.get(c, "ok"), pal))
        elif c == "cost":
            star = "*" if row.unpriced_calls else ""
            out.append(Text(fmt_usd(row.cost) + star, justify="right"))
        elif c == "cost_per_call":
            out.append(Text(fmt_usd(row.cost_per_call), justify="right"))
        elif c == "cache_hit_pct":
            out.append(leveled(pct_s(row.cache_hit_pct), lv.get(c, "ok"), pal))
        elif c == "max_tokens_pct":
            out.append(leveled(pct_s(row.max_tokens_pct), lv.get(c, "ok"), pal))
        elif c == "rate_limited":
            out.append(leveled(str(row.rate_limited), lv.get(c, "ok"), pal))
        elif c == "spark":
            out.append(Text(sparkline(row.spark, SPARK_WIDTH, spark_top), style=pal.accent))
    return out


def features_table(d: Dashboard, pal: Palette = DEFAULT, compact: bool = False) -> Table:
    """The same cells as the DataTable, as a Rich table (for text tests and export)."""
    cols = COMPACT if compact else WIDE
    labels, rows = feature_grid(d, cols, pal)
    t = Table(box=None, pad_edge=False, expand=False)
    for label in labels:
        t.add_column(label, no_wrap=True)
    for r in rows:
        t.add_row(*r)
    return t


# -- side panels -------------------------------------------------------------------------------


def _empty(msg: str, pal: Palette) -> Text:
    return Text(msg, style=pal.muted)


def _shares(shares: Sequence[Share], n: int, width: int) -> Text:
    out = Text(no_wrap=True, overflow="ellipsis")
    for i, sh in enumerate(shares[:n]):
        if i:
            out.append(" · ")
        out.append_text(_t(sh.name, width, "bold"))
        out.append(f" {sh.share * 100:.0f}%")
    return out


def burst_lines(b: BurstRow, tz: str, pal: Palette = DEFAULT) -> list[Text]:
    """One 429 burst: when, how many, and who drove the minute before it (users, features)."""
    head = Text(no_wrap=True, overflow="ellipsis")
    when = hms(b.start, tz) if b.start == b.end else f"{hms(b.start, tz)}–{hms(b.end, tz)}"
    head.append("burst ", style="bold")
    head.append(f"{when} ")
    head.append_text(_t(b.model_class, 16, f"bold {pal.accent}"))
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
    for label, shares in (("users", b.users), ("features", b.drivers)):
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append(f" ↳ min before, {label}: ", style=pal.muted)
        line.append_text(_shares(shares, 3, 18))
        out.append(line)
    return out


def rate_limits(
    d: Dashboard, pal: Palette = DEFAULT, limit: int = 8, bursts: int = 2
) -> RenderableType:
    if not d.rate_limits:
        return _empty("no 429s in the last 24 h", pal)
    head = [line for b in d.bursts[:bursts] for line in burst_lines(b, d.tz, pal)]
    t = Table(box=None, pad_edge=False, expand=True, header_style="bold")
    t.add_column("time", no_wrap=True, min_width=8)
    for name, least in (("feature", 10), ("user", 8), ("model", 10)):
        t.add_column(name, no_wrap=True, overflow="ellipsis", min_width=least, ratio=1)
    for name in ("req", "tok", "retry"):
        t.add_column(name, justify="right", no_wrap=True, min_width=len(name))
    for r in d.rate_limits[:limit]:
        t.add_row(
            Text(hms(r.ts, d.tz)),
            _t(r.feature, 18),
            _t(r.user, 16),
            _t(r.model, 20),
            Text("-" if r.requests_remaining is None else fmt_count(r.requests_remaining)),
            Text("-" if r.tokens_remaining is None else fmt_count(r.tokens_remaining)),
            Text("-" if r.retry_after_s is None else f"{r.retry_after_s:g}s"),
        )
    return Group(*head, t) if head else t


BAR_WIDTH = 12
_EIGHTHS = " ▏▎▍▌▋▊▉"


def bar(fraction: float, width: int = BAR_WIDTH) -> str:
    """A horizontal gauge: full blocks, one eighth-block, then a light track to ``width``."""
    f = min(max(fraction, 0.0), 1.0) * width
    full = int(f)
    part = int((f - full) * 8)
    s = "█" * full + (_EIGHTHS[part] if part and full < width else "")
    return s + "░" * (width - len(s))


def gauge(g: Gauge, pal: Palette = DEFAULT, width: int = BAR_WIDTH) -> Text:
    """``ITPM ████▌░░░ ▲ 87%  26.1k/30.0k``: colour AND glyph past the threshold."""
    out = Text(no_wrap=True, overflow="ellipsis")
    out.append(f" {g.label:<4} ")
    style = pal.style(g.level) or pal.success
    out.append(bar((g.pct or 0.0) / 100.0, width), style=style)
    glyph = GLYPH.get(g.level, "")
    pct = f"{g.pct:.0f}%" if g.pct is not None else "-"
    out.append(f" {glyph or ' '}{pct:>5}", style=pal.style(g.level))
    out.append(f" {fmt_count(g.used):>6}/{fmt_count(g.limit or 0)}")
    return out


def _source(sources: set[str | None]) -> str:
    known = sorted(s for s in sources if s)
    if not known:
        return "no limits"
    return "limits: " + "+".join(known)


_LEVEL_ORDER = {"critical": 0, "warning": 1, "ok": 2}


def _headroom_compact(d: Dashboard, pal: Palette) -> RenderableType:
    """Five lines at 80x24: one line per model class (worst first), then who uses ITPM."""
    h = d.headroom
    parts: list[RenderableType] = []
    for c in sorted(h.classes, key=lambda c: (_LEVEL_ORDER[c.level], c.model_class)):
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append_text(_t(c.model_class, 14, f"bold {pal.accent}"))
        for g in c.gauges:
            line.append(f"  {g.label} ", style=pal.muted)
            if g.pct is None:
                line.append(f"{fmt_count(g.used)}/?")
            else:
                glyph = GLYPH.get(g.level, "")
                text = f"{glyph} {g.pct:.0f}%" if glyph else f"{g.pct:.0f}%"
                line.append(text, style=pal.style(g.level))
        parts.append(line)
    if not h.limits_known:
        parts.append(_empty("limits unknown: [limits.<class>] in the config, or headers", pal))
    if h.top_users:
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append("ITPM share: ", style=pal.muted)
        line.append_text(_shares(h.top_users, 2, 16))
        line.append(" │ ", style=pal.muted)
        line.append_text(_shares(h.top_features, 2, 16))
        parts.append(line)
    return Group(*parts)


def headroom(d: Dashboard, pal: Palette = DEFAULT, compact: bool = False) -> RenderableType:
    """Per model class, RPM/ITPM/OTPM over the last 60 s against the limits; who uses ITPM.

    Without any limit known the gauges would be empty, so the panel shows the rates and says
    where limits come from instead.
    """
    h = d.headroom
    parts: list[RenderableType] = []
    if not h.live:
        parts.append(_empty("replay: headroom follows live traffic only", pal))
        return Group(*parts)
    if not h.classes:
        return _empty("no calls in the last 60 s", pal)
    if compact:
        return _headroom_compact(d, pal)
    if h.limits_known:
        for c in h.classes:
            title = Text(no_wrap=True, overflow="ellipsis")
            title.append_text(_t(c.model_class, 20, f"bold {pal.accent}"))
            title.append(f"  {_source({g.source for g in c.gauges})}", style=pal.muted)
            parts.append(title)
            for g in c.gauges:
                if g.limit is None:
                    line = Text(f" {g.label:<4} {fmt_count(g.used)}/min, limit unknown",
                                style=pal.muted, no_wrap=True)  # fmt: skip
                    parts.append(line)
                else:
                    parts.append(gauge(g, pal))
    else:
        t = Table(box=None, pad_edge=False, expand=False, header_style="bold")
        t.add_column("last 60 s", no_wrap=True, overflow="ellipsis", max_width=16)
        for name in ("req", "ITPM", "OTPM"):
            t.add_column(name, justify="right", no_wrap=True)
        for c in h.classes:
            t.add_row(_t(c.model_class, 16), *[Text(fmt_count(g.used)) for g in c.gauges])
        parts.append(t)
        parts.append(
            Text(
                "limits unknown: set [limits.<class>] rpm/itpm/otpm in the config, or log "
                "the anthropic-ratelimit-* headers (claude_top.instrument does)",
                style=pal.muted,
            )
        )
    if h.top_users or h.top_features:
        parts.append(Text("ITPM share, last 60 s", style="bold"))
        t = Table.grid(padding=(0, 1), expand=True)
        t.add_column(no_wrap=True, overflow="ellipsis", ratio=1)
        t.add_column(justify="right", no_wrap=True)
        t.add_column(no_wrap=True, overflow="ellipsis", ratio=1)
        t.add_column(justify="right", no_wrap=True)
        for i in range(3):
            cells: list[Text] = []
            for shares in (h.top_users, h.top_features):
                if i < len(shares):
                    sh = shares[i]
                    cells += [_t(sh.name, 24), Text(f"{sh.share * 100:.0f}%")]
                else:
                    cells += [Text(""), Text("")]
            if any(c.plain for c in cells):
                t.add_row(*cells)
        parts.append(t)
    return Group(*parts)


def users(d: Dashboard, pal: Palette = DEFAULT, limit: int = 10) -> RenderableType:
    if not d.users:
        return _empty("no calls today", pal)
    t = Table(box=None, pad_edge=False, expand=True, header_style="bold")
    by_tokens = d.users_by != "cost"
    t.add_column("user", no_wrap=True, overflow="ellipsis", ratio=3)
    t.add_column("tokens ↓" if by_tokens else "tokens", justify="right", no_wrap=True)
    t.add_column("cost" if by_tokens else "cost ↓", justify="right", no_wrap=True)
    t.add_column("calls", justify="right", no_wrap=True)
    t.add_column("err%", justify="right", no_wrap=True)
    for u in d.users[:limit]:
        t.add_row(
            _t(u.user, 24),
            Text(fmt_count(u.tokens)),
            Text(fmt_usd(u.cost)),
            Text(fmt_count(u.calls)),
            leveled(pct_s(u.error_pct), u.level, pal),
        )
    return t


def alerts(d: Dashboard, pal: Palette = DEFAULT, limit: int = 8) -> RenderableType:
    parts: list[RenderableType] = []
    if d.alerts_pending:
        parts.append(Text("… alerts start once the history has loaded", style=pal.muted))
    elif d.alerts:
        t = Table(box=None, pad_edge=False, expand=True, show_header=False)
        t.add_column(no_wrap=True)
        t.add_column(no_wrap=True, overflow="ellipsis", ratio=1)
        t.add_column(no_wrap=True, justify="right")
        for a in d.alerts[:limit]:
            msg = _t(a.message or f"{a.rule} {a.scope}", 200)
            t.add_row(
                leveled("CRIT" if a.severity == "critical" else "WARN", a.severity, pal, "left"),
                msg,
                Text(hms(a.since, d.tz), style=pal.muted),
            )
        if len(d.alerts) > limit:
            t.add_row(Text(""), Text(f"… {len(d.alerts) - limit} more", style=pal.muted), Text(""))
        parts.append(t)
    else:
        parts.append(Text("✔ no alert firing", style=pal.success))
    for tr in d.transitions[:3]:
        line = Text(no_wrap=True, overflow="ellipsis", style=pal.muted)
        line.append(f"{hms(tr.at, d.tz)} {tr.kind:<8} ")
        line.append_text(_t(tr.message or f"{tr.rule} {tr.scope}", 200))
        parts.append(line)
    return Group(*parts)


def line_health(d: Dashboard, pal: Palette = DEFAULT) -> RenderableType:
    h = d.lines
    t = Table.grid(padding=(0, 1))
    t.add_column(no_wrap=True)
    t.add_column(justify="right", no_wrap=True)
    t.add_row(Text("records"), Text(f"{h.records:,}"))
    t.add_row(Text("foreign lines"), Text(f"{h.foreign:,}"))
    t.add_row(
        Text("rejected"),
        leveled(f"{h.rejected:,} ({h.rejected_pct:.2f}%)", h.level, pal),
    )
    for reason, n in h.by_reason[:4]:
        t.add_row(_t("  " + reason, 30, pal.muted), Text(f"{n:,}", style=pal.muted))
    if h.no_user_calls:
        t.add_row(
            leveled("calls without user_id", "warning", pal, "left"),
            leveled(f"{h.no_user_calls:,}", "warning", pal),
        )
    if h.rejected:
        t.add_row(Text("press r for examples", style=pal.muted), Text(""))
    return t


def progress(d: Dashboard, pal: Palette = DEFAULT, width: int = 40) -> RenderableType | None:
    p = d.progress
    if p is None or p.done:
        return None
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column(no_wrap=True)
    grid.add_column(no_wrap=True)
    bar = ProgressBar(total=1.0, completed=p.fraction or 0.0, width=width, pulse=p.fraction is None)
    info = f"{p.lines:,} lines  {p.lines_per_s:,.0f}/s"
    if p.fraction is not None:
        info += f"  {p.fraction * 100:.0f}%"
    if p.eta_s is not None:
        info += f"  ~{age(p.eta_s)} left"
    grid.add_row(Text("loading history", style="bold"), bar, Text(info, style=pal.muted))
    return grid


# -- other screens -----------------------------------------------------------------------------


def detail(fd: FeatureDetail, tz: str, pal: Palette = DEFAULT) -> RenderableType:
    title = Text("Feature ", style="bold")
    title.append_text(_t(fd.feature, 60, f"bold {pal.primary}"))
    title.append(
        f"   {stamp(fd.start, tz)} .. {stamp(fd.end, tz)}   {fd.calls:,} calls"
        f"   {pct_s(fd.error_pct)} errors   {fmt_usd(fd.cost)}",
        style=pal.muted,
    )
    lat = Table(title="Latency (HDR histogram)", title_justify="left", box=None, expand=False)
    for label, _ in fd.percentiles:
        lat.add_column(label, justify="right")
    lat.add_row(*[Text(fmt_ms(v)) for _, v in fd.percentiles])
    top = max((n for _, n in fd.latency_bins), default=0)
    bars = Table(box=None, show_header=False, pad_edge=False)
    bars.add_column(justify="right", no_wrap=True)
    bars.add_column(no_wrap=True)
    bars.add_column(justify="right", no_wrap=True)
    for edge, n in fd.latency_bins:
        w = int(n / top * 40) if top else 0
        bars.add_row(
            Text(f"≥ {fmt_ms(edge)}" if edge else "< 250ms"),
            Text("█" * w or ("▏" if n else ""), style=pal.accent),
            Text(f"{n:,}"),
        )

    def breakdown(title_s: str, rows: Sequence[BreakdownRow], latency: bool) -> Table:
        t = Table(title=title_s, title_justify="left", box=None, expand=False, header_style="bold")
        t.add_column("name", no_wrap=True, overflow="ellipsis", max_width=32)
        for c in ("calls", "err%", *(("p50", "p95") if latency else ()), "tokens", "cost"):
            t.add_column(c, justify="right", no_wrap=True)
        for r in rows:
            cells = [
                _t(r.name, 32),
                Text(fmt_count(r.calls)),
                Text(pct_s(r.error_pct)),
            ]
            if latency:
                cells += [Text(fmt_ms(r.p50_ms)), Text(fmt_ms(r.p95_ms))]
            cells += [Text(fmt_count(r.tokens)), Text(fmt_usd(r.cost))]
            t.add_row(*cells)
        return t

    errs = Table(title="Errors by type", title_justify="left", box=None, header_style="bold")
    errs.add_column("type", no_wrap=True)
    errs.add_column("calls", justify="right")
    for name, n in fd.errors_by_type:
        errs.add_row(_t(name, 40), Text(f"{n:,}"))
    if not fd.errors_by_type:
        errs.add_row(Text("none", style=pal.muted), Text(""))
    ex = Table(title="Recent errors", title_justify="left", box=None, header_style="bold")
    for c in ("time", "user", "model", "error", "status", "latency"):
        ex.add_column(c, no_wrap=True, overflow="ellipsis")
    for e in fd.examples:
        ex.add_row(
            Text(hms(e.ts, tz)),
            _t(e.user, 20),
            _t(e.model, 24),
            _t(e.error, 30, pal.style("critical")),
            Text("-" if e.status is None else str(e.status)),
            Text(fmt_ms(e.latency_ms)),
        )
    return Group(
        title,
        Text(""),
        lat,
        bars,
        Text(""),
        breakdown("Per model", fd.models, True),
        Text(""),
        breakdown(
            "Top users by tokens"
            + ("" if fd.users_start is None else f" (since {stamp(fd.users_start, tz)})"),
            fd.users,
            False,
        ),
        Text(""),
        errs,
        Text(""),
        ex,
    )


def rejected_examples(d: Dashboard, pal: Palette = DEFAULT) -> RenderableType:
    h = d.lines
    head = Text(
        f"{h.rejected:,} rejected of {h.records + h.foreign + h.rejected:,} lines"
        f" ({h.rejected_pct:.2f}%), {h.foreign:,} foreign",
        style="bold",
    )
    reasons = Table(title="By reason", title_justify="left", box=None, header_style="bold")
    reasons.add_column("reason", no_wrap=True)
    reasons.add_column("lines", justify="right")
    for reason, n in h.by_reason:
        reasons.add_row(_t(reason, 40), Text(f"{n:,}"))
    ex = Table(title="Most recent examples", title_justify="left", box=None, header_style="bold")
    ex.add_column("source:line", no_wrap=True, overflow="ellipsis", max_width=30)
    ex.add_column("reason", no_wrap=True)
    ex.add_column("line", no_wrap=True, overflow="ellipsis", ratio=1)
    for source, lineno, reason, raw in reversed(h.examples):
        ex.add_row(
            _t(f"{PurePath(source).name}:{lineno}", 30),
            _t(reason, 24, pal.style("warning")),
            _t(raw, 160),
        )
    if not h.examples:
        ex.add_row(Text("no rejected lines", style=pal.muted), Text(""), Text(""))
    return Group(head, Text(""), reasons, Text(""), ex)


def help_table(bindings: Sequence[tuple[str, str]], pal: Palette = DEFAULT) -> Table:
    t = Table(box=None, show_header=False, pad_edge=False)
    t.add_column(style=f"bold {pal.accent}", no_wrap=True)
    t.add_column()
    for key, what in bindings:
        t.add_row(Text(key), Text(what))
    return t
