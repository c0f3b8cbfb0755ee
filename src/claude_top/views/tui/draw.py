"""Drawing one frame on the main screen's widgets, region by region, skipping what did not change.

Why a module of its own: a frame is rebuilt whenever anything moves (a new line, the 30 s idle
step of the windows, a new alert answer), but most regions show the same thing from one frame to
the next -- on an idle log, all of them. Handing Textual a new renderable repaints the widget
(and re-measuring a table of 50 rows is the bulk of a refresh), so each region is drawn only when
the parts of the frame it reads (``INPUTS``) differ from those it was last drawn from. The regions
are still drawn from one frame: a skipped region shows equal values from an earlier one.

``INPUTS`` lists, for each region, every ``Dashboard`` field its panel function reads, plus the
app's own choices that shape it (palette, compact layout, column widths); a test swaps each field
of a frame for another frame's and checks that whenever a panel's text changes, its inputs do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.widgets import Input, Static

from claude_top.views.live.dashboard import Dashboard
from claude_top.views.tui import panels
from claude_top.views.tui.panels import Palette
from claude_top.views.tui.widgets import FeaturesTable, Panel, set_title


def _loading(d: Dashboard) -> bool:
    return d.progress is not None and not d.progress.done


INPUTS: dict[str, Callable[[Dashboard], tuple[Any, ...]]] = {
    "kpis": lambda d: (d.kpis, d.worst_p95, d.alerts_pending, _loading(d)),
    "progress": lambda d: (d.progress,),
    "features": lambda d: (d.features, d.sort, d.filter_text),
    "hosts": lambda d: (d.hosts,),
    "charts": lambda d: (d.charts, d.tz),
    "alerts": lambda d: (d.alerts, d.alerts_matching, d.alerts_pending, d.transitions, d.tz),
    "ratelimits": lambda d: (d.rate_limits, d.bursts, d.filter_text, d.tz),
    "headroom": lambda d: (d.headroom,),
    "users": lambda d: (d.users, d.users_by, d.filter_text),
    "lines": lambda d: (d.lines,),
}
"""Region -> the frame's fields its panel reads (the app adds palette and layout choices)."""

_NEVER = object()


class Drawn:
    """What each region was last drawn from."""

    def __init__(self) -> None:
        self._last: dict[str, Any] = {}

    def changed(self, region: str, d: Dashboard, *extra: Any) -> bool:
        """True (and remembered) when ``region``'s inputs differ from its last drawing."""
        key = (INPUTS[region](d), *extra)
        if self._last.get(region, _NEVER) == key:
            return False
        self._last[region] = key
        return True

    def forget(self) -> None:
        """Draw every region again at the next frame."""
        self._last.clear()


def hosts_limit(compact: bool) -> int:
    return 3 if compact else 8


def hosts_rows(d: Dashboard, compact: bool) -> int:
    """Rows of the hosts box (border, header, its lines); 0 when one host or none."""
    if not d.hosts:
        return 0
    lim = hosts_limit(compact)
    return 3 + min(len(d.hosts), lim) + (1 if len(d.hosts) > lim else 0)


def draw_main(app: Any, d: Dashboard, pal: Palette) -> None:
    """Every region of the main screen from frame ``d``; the header is drawn by the app.

    ``app`` is the ``app.ClaudeTopApp`` (not imported: the app imports this module).

    Each widget here has a height fixed by the CSS or ``layout.plan``, never by its content, so a
    new content is a repaint of that widget (``layout=False``), not a layout of the screen.
    """
    drawn = app.drawn
    compact = app.compact
    q = app.query_one
    if drawn.changed("kpis", d, pal, compact):
        q("#kpis", Static).update(panels.kpi_strip(d, pal, compact), layout=False)
    pw = q("#progress", Static)
    pw.display = _loading(d)
    if pw.display and drawn.changed("progress", d, pal, compact):
        prog = panels.progress(d, pal, width=30 if compact else 40)
        if prog is not None:
            pw.update(prog, layout=False)
    table = q(FeaturesTable)
    cols = panels.COMPACT if compact else panels.WIDE
    names = max((len(r.feature) for r in d.features), default=8)
    name_width = min(max(8, names), max(16, app.size.width // 4))
    if drawn.changed("features", d, pal, cols, name_width):
        table.show(d, pal, cols, name_width)
    title = panels.filter_title(d)
    set_title(table, title)
    set_title(q("#filter", Input), title if d.filter is not None else "")
    hosts = q("#hosts", Panel)
    hosts.display = bool(d.hosts)
    if d.hosts:
        hosts.styles.height = hosts_rows(d, compact)
        if drawn.changed("hosts", d, pal, compact):
            hosts.show(panels.hosts(d, pal, limit=hosts_limit(compact)))
    charts = q("#charts", Panel)
    set_title(charts, f"All traffic · window {d.window_name}")
    cs = d.charts
    if cs is not None and charts.display and drawn.changed("charts", d, pal):
        charts.show(lambda w, h: panels.chart_row(cs, w, h, d.tz, pal))
    _side_panels(app, d, pal)


def _side_panels(app: Any, d: Dashboard, pal: Palette) -> None:
    drawn = app.drawn
    compact = app.compact
    q = app.query_one
    alerts = q("#alerts", Panel)
    firing = d.alerts if d.alerts_matching is None else d.alerts_matching
    set_title(alerts, f"Alerts ({len(firing)} firing · a)" if firing else "Alerts")
    every = " (all traffic)" if d.filter is not None else ""
    headroom = q("#headroom", Panel)
    lines = q("#lines", Panel)
    set_title(headroom, f"Rate-limit headroom · last 60 s{every}")
    set_title(lines, f"Line health{every}")
    if drawn.changed("alerts", d, pal):
        alerts.show(lambda w, h: panels.alerts(d, pal, rows=h))
    if drawn.changed("ratelimits", d, pal, compact):
        bursts = 1 if compact else 2
        q("#ratelimits", Panel).show(
            lambda w, h: panels.rate_limits(d, pal, rows=h, width=w, bursts=bursts)
        )
    if drawn.changed("headroom", d, pal, compact):
        headroom.show(lambda w, h: panels.headroom(d, pal, compact, rows=h, width=w))
    users = q("#users", Panel)
    set_title(users, f"Top users today by {d.users_by} (u)")
    if drawn.changed("users", d, pal):
        users.show(lambda w, h: panels.users(d, pal, limit=max(1, h - 1)))
    if drawn.changed("lines", d, pal):
        lines.show(panels.line_health(d, pal))
