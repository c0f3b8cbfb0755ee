"""The feature detail screen's numbers: one feature's models, users, latency and errors.

Computed on demand when the user opens a feature (``Enter``), not at every frame, so it is kept
apart from the dashboard; like it, it never imports Textual or Rich.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from claude_top.core.stats import GroupStats
from claude_top.engine.engine import Engine
from claude_top.views.live.levels import Level

if TYPE_CHECKING:
    from claude_top.views.live.charts import ChartSet
    from claude_top.views.live.thresholds import Thresholds


LATENCY_EDGES = (0, 250, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000)


@dataclass(frozen=True, slots=True)
class BreakdownRow:
    name: str
    calls: int
    error_pct: float
    p50_ms: int | None
    p95_ms: int | None
    tokens: int
    cost: float
    levels: dict[str, Level] = field(default_factory=dict)
    """Keys: error_pct, p95_ms -- the same rules and glyphs as the main table."""


@dataclass(frozen=True, slots=True)
class ErrorExample:
    ts: float
    user: str
    model: str
    error: str
    status: int | None
    latency_ms: int


@dataclass(frozen=True, slots=True)
class FeatureDetail:
    feature: str
    start: float | None
    end: float | None
    calls: int
    error_pct: float
    cost: float
    percentiles: tuple[tuple[str, int | None], ...]
    """(label, ms): p50, p90, p95, p99, max."""
    latency_bins: tuple[tuple[int, int], ...]
    """(lower edge in ms, calls) from the HDR histogram."""
    models: tuple[BreakdownRow, ...]
    users: tuple[BreakdownRow, ...]
    users_start: float | None
    """Per-user rows are daily in the engine, so they cover [users_start, end)."""
    errors_by_type: tuple[tuple[str, int], ...]
    examples: tuple[ErrorExample, ...]
    streaming: tuple[int, int | None, int | None, int | None] | None = None
    """Streamed calls, TTFT p50 and p95 (ms), median output tokens/s; None without streams."""
    levels: dict[str, Level] = field(default_factory=dict)
    """The feature's own cells past a rule: error_pct, p95 (as in the main table's row)."""
    charts: ChartSet | None = None
    """The feature's calls/min, error rate, p95 and cost per slot (filled by the dashboard)."""


def _levels(g: GroupStats, th: Thresholds | None, latency: bool) -> dict[str, Level]:
    if th is None:
        return {}
    levels: dict[str, Level] = {"error_pct": th.error_rate.of_group(g)}
    if latency:
        levels["p95_ms"] = th.p95_latency.of_group(g)
    return {k: v for k, v in levels.items() if v != "ok"}


def _breakdown(g: GroupStats, th: Thresholds | None = None, latency: bool = True) -> BreakdownRow:
    return BreakdownRow(
        g.name,
        g.calls,
        g.error_rate_pct,
        g.p50_ms,
        g.p95_ms,
        g.total_tokens,
        g.cost_usd,
        _levels(g, th, latency),
    )


def feature_detail(
    engine: Engine,
    feature: str,
    start: float | None,
    end: float | None,
    top_users: int = 15,
    *,
    thresholds: Thresholds | None = None,
) -> FeatureDetail:
    """Per-model and per-user numbers, latency distribution and errors of one feature."""
    ms = engine.models_of_feature(feature, start, end)
    # The engine keeps per-user rows by calendar day: widen the start to that day's midnight.
    users_start = None if start is None else engine.day_start(start)
    us = engine.users_of_feature(feature, users_start, end)
    tot = ms.total
    h = tot.latency
    pcts: list[tuple[str, int | None]] = [
        (f"p{p}", h.percentile(p) if h is not None else None) for p in (50, 90, 95, 99)
    ]
    pcts.append(("max", h.max() if h is not None else None))
    edges = list(LATENCY_EDGES)
    bins = h.distribution(edges) if h is not None else [0] * len(edges)
    th = thresholds
    models = sorted(
        (_breakdown(g, th) for g in ms.groups.values()), key=lambda r: (-r.calls, r.name)
    )
    users = sorted(
        (_breakdown(g, th, False) for g in us.groups.values()), key=lambda r: (-r.tokens, r.name)
    )
    examples = [
        ErrorExample(r.ts, r.user_id, r.model, r.error or "", r.error_status, r.latency_ms)
        for r in reversed(engine.errors_of(feature))
        if (start is None or r.ts >= start) and (end is None or r.ts < end)
    ]
    return FeatureDetail(
        feature=feature,
        start=start,
        end=end,
        calls=tot.calls,
        error_pct=tot.error_rate_pct,
        cost=tot.cost_usd,
        percentiles=tuple(pcts),
        latency_bins=tuple(zip(edges, bins, strict=True)),
        models=tuple(models),
        users=tuple(users[:top_users]),
        users_start=None if users_start is None else float(users_start),
        errors_by_type=tuple(sorted(tot.errors_by_type.items(), key=lambda kv: (-kv[1], kv[0]))),
        examples=tuple(examples[:10]),
        streaming=_streaming(engine, feature, start, end),
        levels=_levels(tot, th, True),
    )


def _streaming(
    engine: Engine, feature: str, start: float | None, end: float | None
) -> tuple[int, int | None, int | None, int | None] | None:
    st = engine.streaming(start, end)[1].get(feature)
    if st is None or not st.streams:
        return None
    return (st.streams, st.p50_ttft_ms, st.p95_ttft_ms, st.output_tokens_per_s)
