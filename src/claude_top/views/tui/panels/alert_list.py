"""The page behind ``a``: every firing alert in full, when it fired, and its history.

One block per firing alert, in the view-model's order: severity, since when (clock and age),
how far past its threshold, the whole message (wrapped, never cut), then the alert's kept
fired/resolved transitions. Resolved alerts follow as the rest of the history.
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from claude_top.core import format as fmt
from claude_top.views.live.alerts import history_of
from claude_top.views.live.dashboard import Dashboard
from claude_top.views.tui.panels.alerts import alert_text, severity_cell
from claude_top.views.tui.panels.cells import DEFAULT, Palette, log_text, zone

HISTORY_SHOWN = 6
"""Transitions listed under each firing alert (the rules keep up to 200 in all)."""


def _impact(x: float) -> str:
    return "∞" if x == float("inf") else f"{x:.1f}×"


def alert_list(d: Dashboard, pal: Palette = DEFAULT) -> RenderableType:
    at = zone(d.tz)
    crit = sum(1 for a in d.alerts if a.severity == "critical")
    head = Text(style="bold", no_wrap=True)
    head.append(f"{len(d.alerts)} firing ({crit} critical)")
    head.append(
        "   order: source, severity, most recent, impact (× past the threshold)", style=pal.muted
    )
    parts: list[RenderableType] = [head, Text("")]
    if d.alerts_pending:
        parts.append(Text("… alerts start once the history has loaded", style=pal.muted))
    elif not d.alerts:
        parts.append(Text("✔ no alert firing", style=pal.success))
    t = Table(box=None, pad_edge=False, expand=True, header_style="bold", padding=(0, 1, 0, 0))
    t.add_column("sev", no_wrap=True)
    t.add_column("since", no_wrap=True)
    t.add_column("for", no_wrap=True, justify="right")
    t.add_column("impact", no_wrap=True, justify="right")
    t.add_column("alert", ratio=1, overflow="fold")
    for a in d.alerts:
        since = fmt.clock(a.since, at)
        age = fmt.age(d.now - a.since) if a.since is not None else fmt.DASH
        msg = log_text(alert_text(a), 2000)
        msg.no_wrap = False
        msg.overflow = "fold"
        hist = history_of(d.transitions, a.rule, a.scope)
        body: list[Text] = [msg]
        for tr in hist[:HISTORY_SHOWN]:
            body.append(Text(f"  {fmt.stamp(tr.at, at)} {tr.kind}", style=pal.muted))
        if len(hist) > HISTORY_SHOWN:
            body.append(Text(f"  … {len(hist) - HISTORY_SHOWN} earlier", style=pal.muted))
        cell = Text("\n").join(body)
        t.add_row(
            severity_cell(a, pal),
            Text(since),
            Text(age, style=pal.muted),
            Text(_impact(a.impact)),
            cell,
        )
    if d.alerts:
        parts.append(t)
    firing = {(a.rule, a.scope) for a in d.alerts}
    gone = [tr for tr in d.transitions if (tr.rule, tr.scope) not in firing]
    if gone:
        parts += [Text(""), Text("History of alerts no longer firing", style="bold")]
        h = Table(box=None, pad_edge=False, expand=True, show_header=False, padding=(0, 1, 0, 0))
        h.add_column(no_wrap=True)
        h.add_column(no_wrap=True)
        h.add_column(ratio=1, overflow="fold")
        for tr in gone:
            h.add_row(
                Text(fmt.stamp(tr.at, at), style=pal.muted),
                Text(tr.kind, style=pal.style(tr.severity) if tr.kind == "fired" else pal.muted),
                log_text(tr.message or f"{tr.rule} {tr.scope}", 2000),
            )
        parts.append(h)
    return Group(*parts)
