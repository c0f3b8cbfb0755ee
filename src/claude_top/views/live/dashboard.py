"""Builds one frame of the live screen: every number the TUI shows, computed without a terminal.

Why a separate module: the Textual app should only map numbers to cells and a cell's *level*
("ok" / "warning" / "critical") to a style. The arithmetic -- which window, the REPLAY anchor for
an old log, today against yesterday and the cost baseline, which cells are past an alert rule --
lives here, so it is unit-tested with plain pytest, shared with the ``e`` export, and never
imports Textual or Rich (a test checks that).

One frame is one version of the data: every engine number is read under a single hold of
``engine.lock`` (an RLock, so the engine's own methods re-enter it), while ingest waits. The
alert rules are evaluated just after, at the same effective now, outside the lock: the TUI
evaluates them on a worker of their own, whose lock must never be taken inside the engine's.

It sits just over the ~400 lines we aim for because the one-lock frame is built in one place;
rows, alerts, charts, filtering and levels are already modules of their own.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, tzinfo
from itertools import islice
from typing import Any

from claude_top.core.stats import GroupStats
from claude_top.core.timeutil import local_midnight
from claude_top.core.windows import Window, window
from claude_top.engine.engine import Engine
from claude_top.engine.headroom import Burst
from claude_top.engine.hosts import ByHost
from claude_top.rules.baseline import Baseline
from claude_top.views.live.alerts import alert_rows
from claude_top.views.live.charts import ChartSet, window_charts
from claude_top.views.live.detail import BreakdownRow, FeatureDetail, feature_detail
from claude_top.views.live.export import export_json
from claude_top.views.live.filtering import SHOWN_NAMES, FilterView, Scope, match_names, matches
from claude_top.views.live.headroom import headroom_view
from claude_top.views.live.hosts import host_rows
from claude_top.views.live.rows import (
    Dashboard,
    FeatureRow,
    Gauge,
    HeadroomView,
    Kpis,
    Level,
    LineHealth,
    RateLimitRow,
    SourceRow,
    UserRow,
)
from claude_top.views.live.status import line_health, progress_row
from claude_top.views.live.thresholds import AlertsLike, Thresholds

__all__ = [
    "SORT_COLUMNS",
    "AlertsLike",
    "BreakdownRow",
    "Burst",
    "Dashboard",
    "FeatureDetail",
    "FeatureRow",
    "Gauge",
    "HeadroomView",
    "Level",
    "LineHealth",
    "Thresholds",
    "build_dashboard",
    "effective_now",
    "export_json",
    "feature_detail",
]
"""The live view-model's public face: the TUI imports these from here, wherever they live."""

SORT_COLUMNS = (
    "feature",
    "calls",
    "calls_per_min",
    "error_pct",
    "p50_ms",
    "p95_ms",
    "cost",
    "cost_per_call",
    "cache_hit_pct",
    "max_tokens_pct",
    "rate_limited",
)
"""The features table's sortable columns, in the order the ``s`` key steps through them."""

SPARK_SLOTS = 20
TOP_USERS = 40
"""Enough for the tallest users panel (a large terminal shows more rows, never blank)."""
RECENT_429 = 20
REPLAY_MIN_S = 600.0
"""For calendar windows (today, all) an old log is "replay" when its newest event is this old."""


def effective_now(clock_now: float, newest: float | None, window_name: str) -> tuple[float, bool]:
    """Anchor at the newest event (and flag replay) when it is older than the window."""
    if newest is None:
        return clock_now, False
    span = window(window_name, clock_now).seconds
    if span is None or window_name == "today":
        span = REPLAY_MIN_S
    if clock_now - newest > span:
        return newest + 1.0, True
    return clock_now, False


def _span_seconds(start: float | None, end: float | None, engine: Engine) -> float:
    if start is not None and end is not None:
        return max(60.0, end - start)
    lo = engine.oldest_ts if start is None else start
    hi = engine.newest_ts if end is None else end
    if lo is None or hi is None:
        return 60.0
    return max(60.0, hi - lo + 60.0)


def _spark_params(start: float, end: float) -> tuple[float, int]:
    a = math.floor(start / 60) * 60
    step = max(60, math.ceil((end - a) / SPARK_SLOTS / 60) * 60)
    return float(a), int(step)


def _feature_row(
    name: str, g: GroupStats, minutes: float, spark: Sequence[float], th: Thresholds
) -> FeatureRow:
    cache = g.cache_hit_rate_pct if g.uses_cache else None
    levels: dict[str, Level] = {
        "error_pct": th.error_rate.of_group(g),
        "p95_ms": th.p95_latency.of_group(g),
        "cache_hit_pct": th.cache_hit.of_group(g) if g.uses_cache else "ok",
        "max_tokens_pct": th.max_tokens.of_group(g),
        "rate_limited": th.rate_limit.of_group(g),
    }
    return FeatureRow(
        feature=name,
        calls=g.calls,
        calls_per_min=g.calls / minutes if minutes else 0.0,
        error_pct=g.error_rate_pct,
        p50_ms=g.p50_ms,
        p95_ms=g.p95_ms,
        cost=g.cost_usd,
        cost_per_call=g.cost_per_call,
        cache_hit_pct=cache,
        max_tokens_pct=g.max_tokens_rate_pct,
        rate_limited=g.rate_limited,
        unpriced_calls=g.unpriced_calls,
        spark=tuple(spark),
        levels={k: v for k, v in levels.items() if v != "ok"},
    )


@dataclass(frozen=True, slots=True)
class _Frame:
    """Everything read from the engine for one frame, under one hold of its lock."""

    t: float
    replay: bool
    win: Window
    version: int
    newest: float | None
    span: float
    rows: list[FeatureRow]
    kpis: Kpis
    rate_limits: tuple[RateLimitRow, ...]
    bursts: tuple[Burst, ...]
    headroom: HeadroomView
    users: tuple[UserRow, ...]
    lines: LineHealth
    charts: ChartSet | None
    filter: FilterView | None


def _read_frame(
    engine: Engine,
    now: float,
    window_name: str,
    tz: tzinfo,
    needle: str | None,
    users_by: str,
    th: Thresholds,
    with_charts: bool = True,
) -> _Frame:
    """Every engine number of the frame; the caller holds ``engine.lock``."""
    newest, version = engine.newest_ts, engine.version
    t, replay = effective_now(now, newest, window_name)
    win = window(window_name, t, tz)
    flt: FilterView | None = None
    per_user = False
    if needle is not None:
        feats, models, matched = match_names(engine, win, t, needle)
        per_user = bool(matched)
    scope = Scope(engine, needle, per_user)
    span = _span_seconds(win.start, win.end, engine)
    if per_user:  # a user matched: today's numbers from the per-user day rows (``filtering``)
        t_start: float | None = local_midnight(t, tz)
        summary = engine.query(t_start, t, by="feature", match=needle, per_user=True)
        span = max(60.0, t - (t_start or t))
    else:
        summary = engine.query(win.start, win.end, by="feature", match=needle)
    minutes = span / 60.0
    if needle is not None:
        flt = FilterView(
            needle,
            feats,
            models,
            tuple(matched[:SHOWN_NAMES]),
            len(matched),
            per_user,
            summary.total.calls,
        )
    s_start = win.start if win.start is not None else (engine.oldest_ts or t - 600)
    a, step = _spark_params(s_start, win.end if win.end is not None else t)
    series = {} if per_user else engine.series(a, win.end if win.end is not None else t + 1, step)
    rows = [
        _feature_row(name, g, minutes, series.get(name, ()), th)
        for name, g in summary.groups.items()
    ]
    kpis = _kpis(scope, t, tz, summary.total, minutes, th)
    c_end = win.end if win.end is not None else t + 1
    charts = None
    if with_charts and not per_user:
        charts = window_charts(
            engine, s_start, c_end, th, summary.total, minutes, kpis.levels, match=needle
        )
    # The newest RECENT_429 that match: a day of 429s holds thousands, the panel shows 20.
    recent = (
        r
        for r in reversed(engine.events_429(t - 86400, t))
        if matches(needle, r.feature, r.user_id, r.model)
    )
    rl_rows = [
        RateLimitRow(
            r.ts,
            r.feature,
            r.user_id,
            r.model,
            r.ratelimit_requests_remaining,
            r.ratelimit_tokens_remaining,
            r.retry_after_s,
        )
        for r in islice(recent, RECENT_429)
    ]
    snap = engine.headroom.snapshot(t, max_age=1.0)
    bursts = tuple(engine.headroom.bursts_between(t - 86400, t))
    users = tuple(
        UserRow(
            g.name,
            g.calls,
            g.total_tokens,
            g.cost_usd,
            g.error_rate_pct,
            th.error_rate.of_group(g),
        )
        for g in engine.top_users(t, TOP_USERS, by=users_by, match=needle)
    )
    return _Frame(
        t,
        replay,
        win,
        version,
        newest,
        span,
        rows,
        kpis,
        tuple(rl_rows),
        bursts[:RECENT_429],
        headroom_view(snap, th.headroom, live=not replay),
        users,
        line_health(engine, th),
        charts,
        flt,
    )


def _kpis(
    scope: Scope, t: float, tz: tzinfo, total: GroupStats, minutes: float, th: Thresholds
) -> Kpis:
    """The KPI strip, for all traffic or the filtered set (``filtering.Scope``); ``alerts_*``
    are filled once the rules have been evaluated."""
    today, same_time, yday, avg, days = scope.costs(t, tz)
    last_5m = scope.total(t - 300, t)
    levels: dict[str, Level] = {
        "error_pct": th.error_rate.of_group(total),
        "p95_ms": th.p95_latency.of_group(total),
    }
    if scope.needle is None:
        base = Baseline(avg, days)
        levels["cost_today"] = th.daily_cost.of_cost(today, base)
    r5 = scope.rate_limited(t - 300, t)
    # Day rows know no 5 minutes: the kept 429 events stand in for the window's calls.
    five = GroupStats("*", calls=r5, rate_limited=r5) if scope.per_user else last_5m
    levels["rate_limited_5m"] = th.rate_limit.of_group(five)
    return Kpis(
        cost_today=today.cost_usd,
        cost_yesterday_same_time=same_time,
        cost_yesterday=yday,
        cost_7d_avg=avg,
        baseline_days=days,
        calls=total.calls,
        calls_per_min=total.calls / minutes if minutes else 0.0,
        error_pct=total.error_rate_pct,
        p95_ms=total.p95_ms,
        rate_limited_5m=r5,
        rate_limited_24h=scope.rate_limited(t - 86400, t),
        alerts_firing=0,
        alerts_critical=0,
        levels={k: v for k, v in levels.items() if v != "ok"},
    )


def build_dashboard(
    engine: Engine,
    alerts: AlertsLike | None,
    *,
    now: float,
    window_name: str = "10m",
    tz: tzinfo = UTC,
    sort: tuple[str, bool] = ("calls", True),
    filter_text: str = "",
    users_by: str = "tokens",
    statuses: Iterable[Any] = (),
    progress: Any = None,
    paused: bool = False,
    ingest_rate: float = 0.0,
    thresholds: Thresholds | None = None,
    by_host: ByHost | None = None,
    detail_feature: str | None = None,
    charts: bool = True,
) -> Dashboard:
    """Everything the main screen shows, at ``now`` (the clock's time)."""
    th = thresholds or Thresholds.from_alerts(alerts)
    needle = filter_text.strip() or None
    statuses = list(statuses)
    with engine.lock:
        f = _read_frame(engine, now, window_name, tz, needle, users_by, th, charts)
        hosts = host_rows(by_host, statuses, f.win.start, f.win.end, f.t, th)
        detail = None if detail_feature is None else _detail(engine, f, detail_feature, th)
    column, desc = sort
    if column not in SORT_COLUMNS:
        column = "calls"
    rows = f.rows
    rows.sort(key=lambda r: r.feature)
    rows.sort(key=lambda r: r.sort_value(column), reverse=desc)
    ranked = [r for r in rows if r.p95_ms is not None]
    worst = max(ranked, key=lambda r: (r.p95_ms or 0, r.calls)) if ranked else None

    pending = progress is not None and not bool(getattr(progress, "history_done", True))
    firing, transitions = alert_rows(alerts, f.t, pending)
    matching = None
    if needle is not None:  # the source rule's alerts always: a blind monitor must say so
        matching = tuple(
            a for a in firing if a.rule == "source" or matches(needle, a.scope, a.message)
        )
    counted = firing if matching is None else matching
    crit = sum(1 for x in counted if x.severity == "critical")
    alerts_level: Level = "critical" if crit else "warning"
    kpi_levels = {**f.kpis.levels, **({"alerts": alerts_level} if counted else {})}
    kpis = Kpis(
        **{
            **{k: getattr(f.kpis, k) for k in Kpis.__slots__},
            "alerts_firing": len(counted),
            "alerts_critical": crit,
            "levels": kpi_levels,
        }
    )
    sources = tuple(
        SourceRow(str(s.path), str(s.state), str(s.message), int(s.offset), int(s.size))
        for s in statuses
    )
    return Dashboard(
        clock_now=now,
        now=f.t,
        replay=f.replay,
        paused=paused,
        window_name=window_name,
        window_start=f.win.start,
        window_end=f.win.end,
        window_seconds=f.span,
        tz=str(tz),
        sort=(column, desc),
        filter_text=filter_text,
        users_by=users_by,
        version=f.version,
        newest_ts=f.newest,
        newest_age_s=(now - f.newest) if f.newest is not None else None,
        ingest_rate=ingest_rate,
        kpis=kpis,
        features=tuple(rows),
        worst_p95=worst,
        rate_limits=f.rate_limits,
        bursts=f.bursts,
        headroom=f.headroom,
        users=f.users,
        alerts=tuple(firing),
        transitions=tuple(transitions),
        lines=f.lines,
        sources=sources,
        progress=progress_row(progress),
        alerts_pending=pending,
        hosts=hosts,
        detail=detail,
        charts=f.charts,
        filter=f.filter,
        alerts_matching=matching,
    )


def _detail(engine: Engine, f: _Frame, feature: str, th: Thresholds) -> FeatureDetail:
    """The open detail page's numbers and charts, in the frame's window (the lock is held)."""
    fd = feature_detail(engine, feature, f.win.start, f.win.end, thresholds=th)
    start = f.win.start if f.win.start is not None else (engine.oldest_ts or f.t - 600)
    end = f.win.end if f.win.end is not None else f.t + 1
    g = engine.query(f.win.start, f.win.end, by="feature").groups.get(feature)
    if g is None:
        g = GroupStats(feature)
    levels = {k: v for k, v in fd.levels.items()}
    charts = window_charts(engine, start, end, th, g, f.span / 60.0, levels, feature)
    return dataclasses.replace(fd, charts=charts)
