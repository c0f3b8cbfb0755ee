"""Line health: how many lines were records, foreign or rejected, and the rejected-lines page."""

from __future__ import annotations

from pathlib import PurePath

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from claude_top.core import format as fmt
from claude_top.views.live.dashboard import Dashboard, LineHealth
from claude_top.views.tui.panels.cells import DEFAULT, Palette, leveled, log_text
from claude_top.views.tui.panels.grid import CellTable, Col


def _rejected(h: LineHealth) -> str:
    return f"{fmt.grouped(h.rejected)} ({fmt.percent(h.rejected_pct, 2)})"


def line_health(d: Dashboard, pal: Palette = DEFAULT) -> RenderableType:
    h = d.lines
    rows: list[list[Text]] = []
    rows.append([Text("records"), Text(fmt.grouped(h.records))])
    rows.append([Text("foreign lines"), Text(fmt.grouped(h.foreign))])
    if h.unmapped:
        rows.append(
            [
                leveled("unmapped", "warning", pal, "left"),
                leveled(fmt.grouped(h.unmapped), "warning", pal),
            ]
        )
        if h.unmapped_hint:
            hint = f"  look like {h.unmapped_hint}: --preset {h.unmapped_hint}"
            rows.append([log_text(hint, 40, pal.muted), Text("")])
    rows.append([Text("rejected"), leveled(_rejected(h), h.level, pal)])
    for reason, n in h.by_reason[:4]:
        rows.append([log_text("  " + reason, 30, pal.muted), Text(fmt.grouped(n), style=pal.muted)])
    if h.no_user_calls:
        rows.append(
            [
                leveled("calls without user_id", "warning", pal, "left"),
                leveled(fmt.grouped(h.no_user_calls), "warning", pal),
            ]
        )
    if h.rejected:
        rows.append([Text("press r for examples", style=pal.muted), Text("")])
    # Drawn at every refresh under traffic: ``CellTable`` draws what ``Table.grid`` would, faster.
    return CellTable([Col(), Col(justify="right")], rows, expand=False)


def rejected_examples(d: Dashboard, pal: Palette = DEFAULT) -> RenderableType:
    """The page behind ``r``: rejected lines by reason, then the most recent examples."""
    h = d.lines
    total = h.records + h.foreign + h.rejected
    head = Text(
        f"{fmt.grouped(h.rejected)} rejected of {fmt.grouped(total)} lines"
        f" ({fmt.percent(h.rejected_pct, 2)}), {fmt.grouped(h.foreign)} foreign",
        style="bold",
    )
    reasons = Table(title="By reason", title_justify="left", box=None, header_style="bold")
    reasons.add_column("reason", no_wrap=True)
    reasons.add_column("lines", justify="right")
    for reason, n in h.by_reason:
        reasons.add_row(log_text(reason, 40), Text(fmt.grouped(n)))
    ex = Table(title="Most recent examples", title_justify="left", box=None, header_style="bold")
    ex.add_column("source:line", no_wrap=True, overflow="ellipsis", max_width=30)
    ex.add_column("reason", no_wrap=True)
    ex.add_column("line", no_wrap=True, overflow="ellipsis", ratio=1)
    for source, lineno, reason, raw in reversed(h.examples):
        ex.add_row(
            log_text(f"{PurePath(source).name}:{lineno}", 30),
            log_text(reason, 24, pal.style("warning")),
            log_text(raw, 160),
        )
    if not h.examples:
        ex.add_row(Text("no rejected lines", style=pal.muted), Text(""), Text(""))
    return Group(head, Text(""), reasons, Text(""), ex)
