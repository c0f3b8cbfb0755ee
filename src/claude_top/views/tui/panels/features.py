"""The features table: column labels and cells for the table widget, and the same as a Rich table.

One row per feature of the window; numbers right-aligned, a sort arrow on the sorted column, a
glyph and colour on every cell past its rule's threshold.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.table import Table
from rich.text import Text

from claude_top.core import format as fmt
from claude_top.core.text import safe_text
from claude_top.views.live.dashboard import Dashboard, FeatureRow
from claude_top.views.tui.panels.bars import fit, sparkline
from claude_top.views.tui.panels.cells import DEFAULT, Palette, leveled, log_text, marked

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

PLAIN: dict[str, Callable[[FeatureRow], str]] = {
    "calls": lambda r: fmt.count(r.calls),
    "calls_per_min": lambda r: fmt.rate(r.calls_per_min),
    "p50_ms": lambda r: fmt.ms(r.p50_ms),
    "cost": lambda r: fmt.usd(r.cost) + ("*" if r.unpriced_calls else ""),
    "cost_per_call": lambda r: fmt.usd(r.cost_per_call),
}
"""Columns shown as plain numbers."""
LEVELED: dict[str, Callable[[FeatureRow], str]] = {
    "error_pct": lambda r: fmt.percent(r.error_pct),
    "p95_ms": lambda r: fmt.ms(r.p95_ms),
    "cache_hit_pct": lambda r: fmt.percent(r.cache_hit_pct),
    "max_tokens_pct": lambda r: fmt.percent(r.max_tokens_pct),
    "rate_limited": lambda r: str(r.rate_limited),
}
"""Columns a rule watches: the row's level gives them a glyph and a colour."""


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
    top = max((v for r in d.features for v in fit(r.spark, SPARK_WIDTH)), default=0.0)
    labels = [column_label(c, d.sort) for c in columns]
    needle = d.filter_text.strip() or None
    rows = [feature_cells(r, columns, pal, name_width, top, needle) for r in d.features]
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
    needle: str | None = None,
) -> list[Text]:
    """One row's cells, in the order of ``columns``."""
    out: list[Text] = []
    for c in columns:
        if c in PLAIN:
            out.append(Text(PLAIN[c](row), justify="right"))
        elif c in LEVELED:
            out.append(leveled(LEVELED[c](row), row.levels.get(c, "ok"), pal))
        elif c == "feature":
            out.append(marked(log_text(row.feature, name_width), needle))
        elif c == "spark":
            out.append(Text(sparkline(row.spark, SPARK_WIDTH, spark_top), style=pal.accent))
    return out


def features_table(d: Dashboard, pal: Palette = DEFAULT, compact: bool = False) -> Table:
    """The same cells as the table widget, as a Rich table (for text tests and export)."""
    cols = COMPACT if compact else WIDE
    labels, rows = feature_grid(d, cols, pal)
    t = Table(box=None, pad_edge=False, expand=False)
    for label in labels:
        t.add_column(label, no_wrap=True)
    for r in rows:
        t.add_row(*r)
    return t


def filter_title(d: Dashboard) -> str:
    """The table's title under a filter: what matched, how many calls, where numbers come from."""
    f = d.filter
    if f is None:
        return ""
    text = safe_text(f.text, 24)
    if f.no_match:
        return f"no match for “{text}” (feature, model or user) · escape clears"
    parts = []
    for n, what in (
        (len(f.features), "feature"),
        (len(f.models), "model"),
        (f.users_total, "user"),
    ):
        if n:
            parts.append(f"{n} {what}{'s' if n > 1 else ''}")
    found = ", ".join(parts) or "no name"
    span = f.span_words if f.per_user else f"window {d.window_name}"
    return (
        f"filter “{text}”: {found} · {fmt.grouped(f.calls)} calls · {span} · "
        "KPIs, charts, 429s, users, alerts filtered"
    )
