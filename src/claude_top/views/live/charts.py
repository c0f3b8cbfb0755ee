"""The charts' numbers: calls/min, error rate, p95 and cost per slot over the window.

Built from the engine's slot series (``engine.series.TrafficSeries``) in the same frame as the
table, over the same window and buckets, so the slots of a chart add up to the window's numbers.
Each chart carries the threshold of the rule that watches its measure (the error-rate and p95
rules' own thresholds), drawn as a line, and the level of the window's value, so a chart says
"past the threshold" with the same glyph as the KPI it sits under.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from claude_top.core.stats import GroupStats
from claude_top.engine.engine import Engine
from claude_top.views.live.levels import Level
from claude_top.views.live.thresholds import Threshold, Thresholds

CHART_SLOTS = 60
"""At most this many slots per chart (minute buckets are the finest grain)."""

Kind = Literal["rate", "pct", "ms", "usd"]


@dataclass(frozen=True, slots=True)
class Chart:
    key: str
    """calls_per_min, error_pct, p95_ms or cost."""
    title: str
    kind: Kind
    """How its numbers are written (``core.format``): rate, pct, ms or usd."""
    values: tuple[float | None, ...]
    """One value per slot, oldest first; None where the slot had no calls."""
    start: float
    end: float
    step: int
    threshold: float | None
    """The watching rule's threshold, in the chart's unit; None: no rule (or disabled)."""
    current: float | None
    """The window's own value (the KPI or table cell), shown in the title."""
    level: Level


@dataclass(frozen=True, slots=True)
class ChartSet:
    scope: str
    """"*" for all traffic, else the feature's raw name."""
    charts: tuple[Chart, ...]


def slot_step(start: float, end: float) -> int:
    """Slot width: whole minutes, so that at most ``CHART_SLOTS`` slots cover the span."""
    return max(60, math.ceil((end - start) / CHART_SLOTS / 60) * 60)


def chart_set(
    engine: Engine,
    start: float,
    end: float,
    *,
    feature: str | None = None,
    error_threshold: float | None = None,
    p95_threshold: float | None = None,
    current: dict[str, float | None] | None = None,
    levels: dict[str, Level] | None = None,
    match: str | None = None,
) -> ChartSet:
    """The four charts over [start, end) for all traffic (``feature`` None) or one feature."""
    step = slot_step(start, end)
    slots = engine.traffic(start, end, step, feature, match)
    calls: list[float | None] = []
    err: list[float | None] = []
    p95: list[float | None] = []
    cost: list[float | None] = []
    for i, (lo, (n, e, c, p)) in enumerate(slots):
        hi = slots[i + 1][0] if i + 1 < len(slots) else end
        minutes = max(1.0, (hi - lo) / 60.0)
        calls.append(n / minutes)
        err.append(100.0 * e / n if n else None)
        p95.append(float(p) if p is not None else None)
        cost.append(c)
    cur = current or {}
    lv = levels or {}
    s0 = slots[0][0] if slots else start

    def chart(
        key: str, title: str, kind: Kind, vals: list[float | None], thr: float | None
    ) -> Chart:
        return Chart(
            key, title, kind, tuple(vals), s0, end, step, thr, cur.get(key), lv.get(key, "ok")
        )

    return ChartSet(
        "*" if feature is None else feature,
        (
            chart("calls_per_min", "calls/min", "rate", calls, None),
            chart("error_pct", "errors", "pct", err, error_threshold),
            chart("p95_ms", "p95", "ms", p95, p95_threshold),
            chart("cost", "cost", "usd", cost, None),
        ),
    )


def _thr(t: Threshold) -> float | None:
    return None if t.rule is None else t.rule.threshold


def window_charts(
    engine: Engine,
    start: float,
    end: float,
    th: Thresholds,
    g: GroupStats,
    minutes: float,
    levels: dict[str, Level],
    feature: str | None = None,
    match: str | None = None,
) -> ChartSet:
    """The four charts of a window, their titles' values taken from the same frame's numbers."""
    current: dict[str, float | None] = {
        "calls_per_min": g.calls / minutes if minutes else 0.0,
        "error_pct": g.error_rate_pct,
        "p95_ms": None if g.p95_ms is None else float(g.p95_ms),
        "cost": g.cost_usd,
    }
    return chart_set(
        engine,
        start,
        end,
        feature=feature,
        error_threshold=_thr(th.error_rate),
        p95_threshold=_thr(th.p95_latency),
        current=current,
        levels=levels,
        match=match,
    )
