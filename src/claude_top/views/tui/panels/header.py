"""The top of the screen: the header line, the KPI strip and the history-loading bar."""

from __future__ import annotations

from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from claude_top.core import format as fmt
from claude_top.sources.remote import shown_source
from claude_top.views.live.dashboard import Dashboard
from claude_top.views.tui.panels.cells import DEFAULT, Palette, leveled, log_text, zone
from claude_top.views.tui.panels.grid import CellTable, Col

COMPACT_LABELS = ("today", "yday@now", "yday", "avg", "/min", "err", "p95", "429", "alerts")
"""The KPI labels on a small terminal, in the order of the wide strip's cells."""


def header(d: Dashboard, pal: Palette = DEFAULT, now: float | None = None) -> Text:
    """Name, clock, pause/replay badges, window, filter, newest age, ingest rate, sources.

    The clock, the rate and the age move while the view is paused (the app redraws this line
    alone each second); only the data below is frozen.
    """
    out = Text(no_wrap=True, overflow="ellipsis")
    out.append(" claude-top ", style=f"bold reverse {pal.primary}")
    clock = d.clock_now if now is None else max(now, d.clock_now)
    out.append(f" {fmt.clock(clock, zone(d.tz))}", style="bold")
    _source_alert(out, d, pal)
    if d.paused:
        out.append(" ")
        out.append(" ⏸ PAUSED ", style=f"bold reverse {pal.warning}")
    if d.replay:
        out.append(" ")
        at = fmt.stamp(d.newest_ts, zone(d.tz))
        out.append(f" ⏪ REPLAY @ {at} ", style=f"bold reverse {pal.accent}")
    out.append(f"  window {d.window_name}", style="bold")
    if d.filter_text:
        out.append("  filter ", style=pal.muted)
        out.append_text(log_text(d.filter_text, 24, "bold"))
    # Sources last: the longest part, cut first on a small terminal (a failed one has its badge).
    out.append(f"  │ newest {fmt.age(d.newest_age_s)} ago", style=pal.muted)
    out.append(f" │ {fmt.grouped(d.ingest_rate)} lines/s │ ", style=pal.muted)
    _sources(out, d, pal)
    if d.lines.format_label:
        out.append(" │ ", style=pal.muted)
        out.append_text(log_text(d.lines.format_label, 40, pal.muted))
    return out


def _source_alert(out: Text, d: Dashboard, pal: Palette) -> None:
    """What failed and since when, ahead of everything else: a blind monitor must say so."""
    failed = [a for a in d.alerts if a.rule == "source"]
    if not failed:
        return
    first = failed[0]
    out.append(" ")
    text = log_text(f" ⚠ {first.message}", 80, f"bold reverse {pal.error}")
    if first.since is not None:
        text.append(f" since {fmt.clock(first.since, zone(d.tz))} ")
    if len(failed) > 1:
        text.append(f"+{len(failed) - 1} ")
    out.append_text(text)


def _sources(out: Text, d: Dashboard, pal: Palette) -> None:
    if not d.sources:
        out.append("no live source", style=pal.muted)
        return
    for i, s in enumerate(d.sources[:3]):
        if i:
            out.append(", ", style=pal.muted)
        bad = s.state in ("error", "waiting")
        out.append_text(log_text(shown_source(s.path, 28), 28))
        out.append(f" {s.state}", style=pal.style("warning") if bad else pal.muted)
    if len(d.sources) > 3:
        out.append(f" +{len(d.sources) - 3}", style=pal.muted)


def _kpi_cells(d: Dashboard, pal: Palette) -> list[tuple[str, Text]]:
    """(label, value) for every KPI, the slowest feature last when there is one."""
    k = d.kpis
    lv = k.levels
    cells: list[tuple[str, Text]] = [
        ("cost today", leveled(fmt.usd(k.cost_today), lv.get("cost_today", "ok"), pal, "left")),
        ("yday same time", Text(fmt.usd(k.cost_yesterday_same_time))),
        ("yesterday", Text(fmt.usd(k.cost_yesterday))),
        (_avg_label(d), Text(fmt.usd(k.cost_7d_avg))),
        ("calls/min", Text(fmt.rate(k.calls_per_min))),
        ("errors", leveled(fmt.percent(k.error_pct), lv.get("error_pct", "ok"), pal, "left")),
        ("p95", leveled(fmt.ms(k.p95_ms), lv.get("p95_ms", "ok"), pal, "left")),
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
        v = log_text(w.feature, 16, "bold")
        v.append(" ")
        v.append_text(leveled(fmt.ms(w.p95_ms), w.levels.get("p95_ms", "ok"), pal, "left"))
        cells.append(("slowest p95", v))
    return cells


def _avg_label(d: Dashboard) -> str:
    """ "7-day avg", or "(partial)" while history loads or fewer days stand behind it."""
    days = d.kpis.baseline_days or 7
    loading = d.progress is not None and not d.progress.done
    label = f"{days}-day avg"
    return f"{label} (partial)" if loading or days < 7 else label


def kpi_strip(d: Dashboard, pal: Palette = DEFAULT, compact: bool = False) -> RenderableType:
    """Labels over values on a wide terminal; two lines of "label value" pairs on a small one."""
    cells = _kpi_cells(d, pal)
    if compact:
        labels = list(COMPACT_LABELS)
        if cells[3][0].endswith("(partial)"):
            labels[3] = "avg part."
        pairs = [
            Text.assemble((label + " ", pal.muted), v)
            for label, (_, v) in zip(labels, cells, strict=False)
        ]
        second = pairs[4:8]
        if len(cells) > 9:
            second.append(Text.assemble(("slowest ", pal.muted), cells[9][1]))
        return _PairLines([[*pairs[:4], pairs[8]], second])
    # Drawn at every refresh under traffic: ``CellTable`` draws what ``Table.grid`` would, faster.
    return CellTable(
        [Col() for _ in cells],
        [[Text(label, style=pal.muted, no_wrap=True) for label, _ in cells], [v for _, v in cells]],
    )


class _PairLines:
    """Lines of "label value" pairs that flow rather than sit in shared columns.

    Shared columns take the widest cell of either line, so at 80 columns the slowest feature's
    name squeezed the cost cells above it into "$130.…". Flowing each line on its own, with two
    spaces between pairs (one when the line would not fit otherwise), keeps every value whole
    at 80 columns; only a line that cannot fit even then is cut, at its end.
    """

    def __init__(self, lines: list[list[Text]]) -> None:
        self.lines = lines

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        for pairs in self.lines:
            line = Text(" ").join(pairs)
            gap = 2 if line.cell_len + len(pairs) - 1 <= width else 1
            out = Text(" " * gap).join(pairs)
            out.no_wrap = True
            out.overflow = "ellipsis"
            out.truncate(width, overflow="ellipsis")
            yield out


def progress(d: Dashboard, pal: Palette = DEFAULT, width: int = 40) -> RenderableType | None:
    """While history loads: a bar, lines read, the rate, the share done and the time left."""
    p = d.progress
    if p is None or p.done:
        return None
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column(no_wrap=True)
    grid.add_column(no_wrap=True)
    bar = ProgressBar(total=1.0, completed=p.fraction or 0.0, width=width, pulse=p.fraction is None)
    info = f"{fmt.grouped(p.lines)} lines  {fmt.grouped(p.lines_per_s)}/s"
    if p.fraction is not None:
        info += f"  {fmt.share(p.fraction)}"
    if p.eta_s is not None:
        info += f"  ~{fmt.age(p.eta_s)} left"
    grid.add_row(Text("loading history", style="bold"), bar, Text(info, style=pal.muted))
    return grid
