"""Each region of the screen as a pure function: Dashboard (+ palette) -> Rich renderable.

Why pure: a panel can be rendered to text in a unit test with ``Console(record=True)``, without
an app, and the app only hands each widget what its panel returns. One module per region:
``header`` (header line, KPI strip, loading bar), ``features``, ``alerts``, ``ratelimits``,
``headroom``, ``users``, ``hosts``, ``lines`` (line health, rejected lines), ``detail``, ``help``; the
shared palette, glyphs and safe text in ``cells``, block drawings in ``bars``. The names the app
and tests use are gathered here.
"""

from claude_top.views.tui.panels.alerts import alerts
from claude_top.views.tui.panels.bars import bar, sparkline
from claude_top.views.tui.panels.cells import DEFAULT, GLYPH, Palette, leveled
from claude_top.views.tui.panels.charts import chart_row, line_chart
from claude_top.views.tui.panels.detail import detail
from claude_top.views.tui.panels.features import (
    COMPACT,
    WIDE,
    feature_cells,
    feature_grid,
    features_table,
    filter_title,
)
from claude_top.views.tui.panels.header import header, kpi_strip, progress
from claude_top.views.tui.panels.headroom import gauge, headroom
from claude_top.views.tui.panels.help import help_table
from claude_top.views.tui.panels.hosts import hosts
from claude_top.views.tui.panels.lines import line_health, rejected_examples
from claude_top.views.tui.panels.ratelimits import burst_lines, rate_limits
from claude_top.views.tui.panels.users import users

__all__ = [
    "COMPACT",
    "DEFAULT",
    "GLYPH",
    "WIDE",
    "Palette",
    "alerts",
    "bar",
    "burst_lines",
    "chart_row",
    "detail",
    "feature_cells",
    "feature_grid",
    "features_table",
    "filter_title",
    "gauge",
    "header",
    "headroom",
    "help_table",
    "hosts",
    "kpi_strip",
    "leveled",
    "line_chart",
    "line_health",
    "progress",
    "rate_limits",
    "rejected_examples",
    "sparkline",
    "users",
]
