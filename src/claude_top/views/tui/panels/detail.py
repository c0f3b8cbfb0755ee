"""The page behind ``enter``: one feature's latency distribution, models, users and errors."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from claude_top.core import format as fmt
from claude_top.views.live.dashboard import BreakdownRow, FeatureDetail
from claude_top.views.tui.panels.cells import DEFAULT, Palette, leveled, log_text, zone
from claude_top.views.tui.panels.charts import chart_row

BAR_CELLS = 40
"""Width of the longest latency bar."""


def _title(fd: FeatureDetail, at: tzinfo, pal: Palette) -> Text:
    title = Text("Feature ", style="bold")
    title.append_text(log_text(fd.feature, 60, f"bold {pal.primary}"))
    title.append(
        f"   {fmt.stamp(fd.start, at)} .. {fmt.stamp(fd.end, at)}   {fmt.grouped(fd.calls)} calls   ",
        style=pal.muted,
    )
    title.append_text(leveled(fmt.percent(fd.error_pct), fd.levels.get("error_pct", "ok"), pal))
    title.append(f" errors   {fmt.usd(fd.cost)}", style=pal.muted)
    return title


def _latency(fd: FeatureDetail, pal: Palette) -> list[Table | Text]:
    """The percentiles in one row, then one bar per latency bin."""
    lat = Table(title="Latency (HDR histogram)", title_justify="left", box=None, expand=False)
    for label, _ in fd.percentiles:
        lat.add_column(label, justify="right")
    lat.add_row(
        *[
            leveled(fmt.ms(v), fd.levels.get("p95_ms", "ok") if k == "p95" else "ok", pal)
            for k, v in fd.percentiles
        ]
    )
    top = max((n for _, n in fd.latency_bins), default=0)
    bars = Table(box=None, show_header=False, pad_edge=False)
    bars.add_column(justify="right", no_wrap=True)
    bars.add_column(no_wrap=True)
    bars.add_column(justify="right", no_wrap=True)
    for edge, n in fd.latency_bins:
        w = int(n / top * BAR_CELLS) if top else 0
        bars.add_row(
            Text(f"≥ {fmt.ms(edge)}" if edge else "< 250ms"),
            Text("█" * w or ("▏" if n else ""), style=pal.accent),
            Text(fmt.grouped(n)),
        )
    if fd.streaming is None:
        return [lat, bars]
    n, p50, p95, rate = fd.streaming
    streams = Text(
        f"Streams: {fmt.grouped(n)} calls   time to first token p50 {fmt.ms(p50)}"
        f"  p95 {fmt.ms(p95)}   output {fmt.grouped(rate) if rate else '-'} tokens/s (median)",
        style=pal.muted,
    )
    return [lat, bars, streams]


def _breakdown(
    title: str, rows: Sequence[BreakdownRow], latency: bool, pal: Palette = DEFAULT
) -> Table:
    t = Table(title=title, title_justify="left", box=None, expand=False, header_style="bold")
    t.add_column("name", no_wrap=True, overflow="ellipsis", max_width=32)
    for c in ("calls", "err%", *(("p50", "p95") if latency else ()), "tokens", "cost"):
        t.add_column(c, justify="right", no_wrap=True)
    for r in rows:
        lv = r.levels
        cells = [
            log_text(r.name, 32),
            Text(fmt.count(r.calls)),
            leveled(fmt.percent(r.error_pct), lv.get("error_pct", "ok"), pal),
        ]
        if latency:
            cells += [
                Text(fmt.ms(r.p50_ms)),
                leveled(fmt.ms(r.p95_ms), lv.get("p95_ms", "ok"), pal),
            ]
        cells += [Text(fmt.count(r.tokens)), Text(fmt.usd(r.cost))]
        t.add_row(*cells)
    return t


def _errors(fd: FeatureDetail, at: tzinfo, pal: Palette) -> list[Table]:
    """Errors by type, then the most recent failed calls."""
    errs = Table(title="Errors by type", title_justify="left", box=None, header_style="bold")
    errs.add_column("type", no_wrap=True)
    errs.add_column("calls", justify="right")
    for name, n in fd.errors_by_type:
        errs.add_row(log_text(name, 40), Text(fmt.grouped(n)))
    if not fd.errors_by_type:
        errs.add_row(Text("none", style=pal.muted), Text(""))
    ex = Table(title="Recent errors", title_justify="left", box=None, header_style="bold")
    for c in ("time", "user", "model", "error", "status", "latency"):
        ex.add_column(c, no_wrap=True, overflow="ellipsis")
    for e in fd.examples:
        ex.add_row(
            Text(fmt.clock(e.ts, at)),
            log_text(e.user, 20),
            log_text(e.model, 24),
            log_text(e.error, 30, pal.style("critical")),
            Text(fmt.DASH if e.status is None else str(e.status)),
            Text(fmt.ms(e.latency_ms)),
        )
    return [errs, ex]


def detail(
    fd: FeatureDetail, tz: str, pal: Palette = DEFAULT, chart_width: int = 76
) -> RenderableType:
    """The page; the feature's four charts on top, ``chart_width`` cells wide."""
    at = zone(tz)
    since = "" if fd.users_start is None else f" (since {fmt.stamp(fd.users_start, at)})"
    errs, examples = _errors(fd, at, pal)
    charts: list[RenderableType] = []
    if fd.charts is not None:
        charts = [chart_row(fd.charts, chart_width, 8, tz, pal), Text("")]
    return Group(
        _title(fd, at, pal),
        Text(""),
        *charts,
        *_latency(fd, pal),
        Text(""),
        _breakdown("Per model", fd.models, True, pal),
        Text(""),
        _breakdown("Top users by tokens" + since, fd.users, False, pal),
        Text(""),
        errs,
        Text(""),
        examples,
    )
