"""The live screen's view-model: every number the TUI shows, computed without a terminal.

Why a separate module: the Textual app should only map numbers to cells and a cell's *level*
("ok" / "warning" / "critical") to a style. The arithmetic -- which window, the REPLAY anchor for
an old log, today against yesterday and the 7-day average, which cells are past an alert rule's
threshold -- lives here, so it is unit-tested with plain pytest, kept mypy-strict, shared with the
``e`` export, and never imports Textual or Rich (a test checks that).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, tzinfo
from typing import Any, Literal, Protocol

from claude_top.core.format import iso
from claude_top.core.stats import GroupStats, pct
from claude_top.core.timeutil import local_midnight
from claude_top.core.windows import previous_days, window
from claude_top.engine.engine import Engine
from claude_top.engine.headroom import DIM_LABELS, Burst, HeadroomSnapshot, Share

Level = Literal["ok", "warning", "critical"]

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
TOP_USERS = 10
RECENT_429 = 20
RECENT_TRANSITIONS = 8
REPLAY_MIN_S = 600.0
"""For calendar windows (today, all) an old log is "replay" when its newest event is this old."""
LATENCY_EDGES = (0, 250, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000)


# -- what the view needs of claude_top.rules.alerts (structural, so the TUI can wrap it) -------------


class AlertsLike(Protocol):
    """``claude_top.rules.alerts.Alerts`` as far as the view uses it."""

    @property
    def transitions(self) -> Iterable[Any]: ...

    def evaluate(self, now: float) -> Sequence[Any]: ...

    def rule(self, rule_id: str) -> Any: ...


@dataclass(frozen=True, slots=True)
class Threshold:
    """One rule's limit as the view applies it to a cell."""

    value: float
    severity: Level
    above: bool = True
    """True: past means greater than ``value``; False (cache hit): less than."""
    min_calls: int = 20
    enabled: bool = True

    def level(self, x: float | None, calls: int | None = None) -> Level:
        """``severity`` past the threshold, critical past twice (or under half) of it."""
        if x is None or not self.enabled:
            return "ok"
        if calls is not None and calls < self.min_calls:
            return "ok"
        if self.above:
            if x <= self.value:
                return "ok"
            far = self.value > 0 and x > 2 * self.value
        else:
            if x >= self.value:
                return "ok"
            far = x < self.value / 2
        return "critical" if far else self.severity


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Cell limits, from the alert rules (the issue-3 defaults when no rules are given)."""

    error_rate: Threshold = Threshold(5.0, "critical")
    rate_limit: Threshold = Threshold(0.0, "warning", min_calls=0)
    p95_latency: Threshold = Threshold(15_000.0, "warning")
    max_tokens: Threshold = Threshold(3.0, "warning")
    cache_hit: Threshold = Threshold(30.0, "warning", above=False)
    daily_cost: Threshold = Threshold(150.0, "critical", min_calls=0)
    rejected_lines: Threshold = Threshold(1.0, "warning", min_calls=0)
    headroom: Threshold = Threshold(80.0, "warning", min_calls=0)

    @classmethod
    def from_alerts(cls, alerts: AlertsLike | None) -> Thresholds:
        base = cls()
        if alerts is None:
            return base
        out: dict[str, Threshold] = {}
        for name in (
            "error_rate",
            "rate_limit",
            "p95_latency",
            "max_tokens",
            "cache_hit",
            "daily_cost",
            "rejected_lines",
            "headroom",
        ):
            default: Threshold = getattr(base, name)
            try:
                r = alerts.rule(name)
            except Exception:
                r = None
            if r is None:  # unknown to this version, or disabled: highlight nothing
                out[name] = Threshold(default.value, default.severity, default.above, 0, False)
                continue
            sev = str(getattr(r, "severity", default.severity))
            out[name] = Threshold(
                float(getattr(r, "threshold", default.value)),
                "critical" if sev == "critical" else "warning",
                default.above,
                int(getattr(r, "min_calls", default.min_calls) or 0) if default.min_calls else 0,
                bool(getattr(r, "enabled", True)),
            )
        return cls(**out)


# -- the view-model ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Kpis:
    cost_today: float
    cost_yesterday_same_time: float
    cost_yesterday: float
    cost_7d_avg: float | None
    """Average daily cost of the full days before today that have data; None without any."""
    baseline_days: int
    calls: int
    calls_per_min: float
    error_pct: float
    p95_ms: int | None
    rate_limited_5m: int
    rate_limited_24h: int
    alerts_firing: int
    alerts_critical: int
    levels: dict[str, Level] = field(default_factory=dict)
    """Keys: cost_today, error_pct, p95_ms, rate_limited_5m, alerts."""


@dataclass(frozen=True, slots=True)
class FeatureRow:
    feature: str
    """Raw name from the log: the UI must pass it through ``safe_text`` and escape it."""
    calls: int
    calls_per_min: float
    error_pct: float
    p50_ms: int | None
    p95_ms: int | None
    cost: float
    cost_per_call: float
    cache_hit_pct: float | None
    """None when the feature does not use prompt caching at all."""
    max_tokens_pct: float
    rate_limited: int
    unpriced_calls: int
    spark: tuple[float, ...]
    """Calls per slot over the window, oldest first."""
    levels: dict[str, Level] = field(default_factory=dict)
    """Keys: error_pct, p95_ms, cache_hit_pct, max_tokens_pct, rate_limited."""

    def sort_value(self, column: str) -> Any:
        if column == "feature":
            return self.feature.lower()
        v = getattr(self, column)
        return -1.0 if v is None else v


@dataclass(frozen=True, slots=True)
class RateLimitRow:
    ts: float
    feature: str
    user: str
    model: str
    requests_remaining: int | None
    tokens_remaining: int | None
    retry_after_s: float | None


@dataclass(frozen=True, slots=True)
class BurstRow:
    """A burst of 429s of one model class, and who drove the minute before it."""

    model_class: str
    start: float
    end: float
    count: int
    features: tuple[tuple[str, int], ...]
    users: tuple[Share, ...] | None
    """None: the burst is older than the headroom tracker's memory was when it was read."""
    drivers: tuple[Share, ...] | None
    partial: bool


@dataclass(frozen=True, slots=True)
class Gauge:
    """Used / limit of one dimension of one model class over the last minute."""

    label: str
    """"RPM", "ITPM" or "OTPM"."""
    used: int
    limit: int | None
    source: str | None
    """"config", "headers" or None (limit unknown)."""
    pct: float | None
    level: Level


@dataclass(frozen=True, slots=True)
class HeadroomClassRow:
    model_class: str
    models: tuple[str, ...]
    gauges: tuple[Gauge, Gauge, Gauge]
    level: Level


@dataclass(frozen=True, slots=True)
class HeadroomView:
    """The headroom panel: rates of the last 60 s against each model class's limits."""

    start: float
    end: float
    requests: int
    itpm_tokens: int
    otpm_tokens: int
    classes: tuple[HeadroomClassRow, ...]
    top_users: tuple[Share, ...]
    top_features: tuple[Share, ...]
    limits_known: bool
    cache_reads_counted: bool
    threshold_pct: float
    live: bool
    """False in replay: the tracker follows the clock, so an old log shows no headroom."""


@dataclass(frozen=True, slots=True)
class UserRow:
    user: str
    calls: int
    tokens: int
    cost: float
    error_pct: float
    level: Level = "ok"


@dataclass(frozen=True, slots=True)
class AlertRow:
    rule: str
    scope: str
    severity: Level
    value: float
    threshold: float
    window: str
    since: float | None
    message: str


@dataclass(frozen=True, slots=True)
class TransitionRow:
    at: float
    kind: str
    """"fired" or "resolved"."""
    rule: str
    scope: str
    severity: Level
    message: str


@dataclass(frozen=True, slots=True)
class LineHealth:
    records: int
    foreign: int
    rejected: int
    by_reason: tuple[tuple[str, int], ...]
    examples: tuple[tuple[str, int, str, str], ...]
    """(source, line number, reason, start of the line), newest last."""
    rejected_pct: float
    level: Level
    no_user_calls: int = 0
    """Calls logged without a user_id (everything read): a warning, user_id is mandatory."""


@dataclass(frozen=True, slots=True)
class SourceRow:
    path: str
    state: str
    message: str
    offset: int
    size: int


@dataclass(frozen=True, slots=True)
class HistoryProgress:
    lines: int
    bytes: int
    elapsed_s: float
    done: bool
    total_bytes: int | None
    fraction: float | None
    lines_per_s: float
    eta_s: float | None


@dataclass(frozen=True, slots=True)
class Dashboard:
    """One frame of the main screen."""

    clock_now: float
    now: float
    """The effective now: the clock, or the newest event in replay."""
    replay: bool
    paused: bool
    window_name: str
    window_start: float | None
    window_end: float | None
    window_seconds: float
    tz: str
    sort: tuple[str, bool]
    """(column, descending)."""
    filter_text: str
    users_by: str
    version: int
    newest_ts: float | None
    newest_age_s: float | None
    ingest_rate: float
    kpis: Kpis
    features: tuple[FeatureRow, ...]
    worst_p95: FeatureRow | None
    rate_limits: tuple[RateLimitRow, ...]
    bursts: tuple[BurstRow, ...]
    headroom: HeadroomView
    users: tuple[UserRow, ...]
    alerts: tuple[AlertRow, ...]
    transitions: tuple[TransitionRow, ...]
    lines: LineHealth
    sources: tuple[SourceRow, ...]
    progress: HistoryProgress | None
    alerts_pending: bool = False
    """History is still loading: alerts are not evaluated yet (they would fire and resolve at
    the historical times the data has reached, and record spurious transitions)."""


# -- building it -------------------------------------------------------------------------------


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


def _level_str(s: object) -> Level:
    return "critical" if str(s) == "critical" else "warning"


def _fmt_window(w: object) -> str:
    if isinstance(w, int | float):
        s = float(w)
        for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
            if s >= size and s % size == 0:
                return f"{int(s // size)}{unit}"
        return f"{s:g}s"
    return str(w)


def _alert_row(a: Any) -> AlertRow:
    rule = a.rule
    rule_id = str(getattr(rule, "id", rule))
    since = getattr(a, "since", None)
    return AlertRow(
        rule=rule_id,
        scope=str(getattr(a, "scope", "*")),
        severity=_level_str(getattr(a, "severity", "warning")),
        value=float(getattr(a, "value", 0.0) or 0.0),
        threshold=float(getattr(a, "threshold", 0.0) or 0.0),
        window=_fmt_window(getattr(a, "window", "")),
        since=float(since) if isinstance(since, int | float) else None,
        message=str(getattr(a, "message", "")),
    )


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
    name: str,
    g: GroupStats,
    minutes: float,
    spark: Sequence[float],
    th: Thresholds,
) -> FeatureRow:
    cache = g.cache_hit_rate_pct if g.uses_cache else None
    p95 = g.p95_ms
    successes = g.successes
    maxtok = pct(g.max_tokens_stops, successes)
    levels: dict[str, Level] = {
        "error_pct": th.error_rate.level(g.error_rate_pct, g.calls),
        "p95_ms": th.p95_latency.level(p95, g.calls),
        "cache_hit_pct": th.cache_hit.level(cache, g.calls),
        "max_tokens_pct": th.max_tokens.level(maxtok, successes),
        "rate_limited": th.rate_limit.level(g.rate_limited),
    }
    return FeatureRow(
        feature=name,
        calls=g.calls,
        calls_per_min=g.calls / minutes if minutes else 0.0,
        error_pct=g.error_rate_pct,
        p50_ms=g.p50_ms,
        p95_ms=p95,
        cost=g.cost_usd,
        cost_per_call=g.cost_per_call,
        cache_hit_pct=cache,
        max_tokens_pct=maxtok,
        rate_limited=g.rate_limited,
        unpriced_calls=g.unpriced_calls,
        spark=tuple(spark),
        levels={k: v for k, v in levels.items() if v != "ok"},
    )


def _progress(p: Any) -> HistoryProgress | None:
    if p is None:
        return None
    lines = int(p.lines)
    elapsed = float(p.elapsed_s)
    total = p.total_bytes
    nbytes = int(p.bytes)
    frac = min(1.0, nbytes / total) if total else None
    rate = lines / elapsed if elapsed > 0 else 0.0
    eta = None
    if frac is not None and 0 < frac < 1 and elapsed > 0:
        eta = elapsed * (1 - frac) / frac
    return HistoryProgress(lines, nbytes, elapsed, bool(p.history_done), total, frac, rate, eta)


def gauge_level(pct: float | None, th: Threshold) -> Level:
    """Past the headroom threshold: the rule's severity; at or past the limit: critical."""
    if pct is None or not th.enabled:
        return "ok"
    if pct >= 100.0:
        return "critical"
    return th.severity if pct > th.value else "ok"


def headroom_view(snap: HeadroomSnapshot, th: Threshold, live: bool = True) -> HeadroomView:
    order = {"ok": 0, "warning": 1, "critical": 2}
    rows: list[HeadroomClassRow] = []
    for c in snap.classes:
        gauges: list[Gauge] = []
        for d in c.dimensions:
            pct_v = None if d.ratio is None else d.ratio * 100.0
            gauges.append(
                Gauge(DIM_LABELS[d.name], d.used, d.limit, d.source, pct_v, gauge_level(pct_v, th))
            )
        g3 = (gauges[0], gauges[1], gauges[2])
        worst: Level = max((g.level for g in g3), key=lambda lv: order[lv])
        rows.append(HeadroomClassRow(c.model_class, c.models, g3, worst))
    return HeadroomView(
        start=snap.start,
        end=snap.end,
        requests=snap.requests,
        itpm_tokens=snap.itpm_tokens,
        otpm_tokens=snap.otpm_tokens,
        classes=tuple(rows),
        top_users=snap.top_users,
        top_features=snap.top_features,
        limits_known=snap.limits_known,
        cache_reads_counted=snap.cache_reads_counted,
        threshold_pct=th.value,
        live=live,
    )


def _burst_row(b: Burst) -> BurstRow:
    return BurstRow(
        b.model_class, b.start, b.end, b.count, b.features, b.users, b.drivers, b.partial
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
) -> Dashboard:
    """Everything the main screen shows, at ``now`` (the clock's time)."""
    th = thresholds or Thresholds.from_alerts(alerts)
    with engine.lock:
        newest, version = engine.newest_ts, engine.version
        lines = engine.lines.copy()
    t, replay = effective_now(now, newest, window_name)
    win = window(window_name, t, tz)
    needle = filter_text.strip() or None

    # Features over the window.
    summary = engine.query(win.start, win.end, by="feature", match=needle)
    span = _span_seconds(win.start, win.end, engine)
    minutes = span / 60.0
    s_start = win.start if win.start is not None else (engine.oldest_ts or t - 600)
    a, step = _spark_params(s_start, win.end if win.end is not None else t)
    series = engine.series(a, win.end if win.end is not None else t + 1, step)
    rows = [
        _feature_row(name, g, minutes, series.get(name, ()), th)
        for name, g in summary.groups.items()
    ]
    column, desc = sort
    if column not in SORT_COLUMNS:
        column = "calls"
    rows.sort(key=lambda r: r.feature)
    rows.sort(key=lambda r: r.sort_value(column), reverse=desc)
    ranked = [r for r in rows if r.p95_ms is not None]
    worst = max(ranked, key=lambda r: (r.p95_ms or 0, r.calls)) if ranked else None

    # KPIs.
    total = summary.total
    midnight = local_midnight(t, tz)
    cost_today = engine.cost_between(midnight, t)
    days = previous_days(t, tz, 7)
    _, y_start, y_end = days[0]
    cost_y_same = engine.cost_between(y_start, min(y_end, y_start + (t - midnight)))
    cost_y = engine.cost_between(y_start, y_end)
    oldest = engine.oldest_ts
    base = [engine.cost_between(s, e) for _, s, e in days if oldest is not None and e > oldest]
    avg = sum(base) / len(base) if base else None
    rl5 = engine.query(t - 300, t).total.rate_limited
    rl24 = engine.query(t - 86400, t).total.rate_limited

    firing: list[AlertRow] = []
    transitions: list[TransitionRow] = []
    pending = progress is not None and not bool(getattr(progress, "history_done", True))
    if alerts is not None and not pending:
        firing = [_alert_row(x) for x in alerts.evaluate(t)]
        firing.sort(key=lambda r: (r.severity != "critical", r.rule, r.scope))
        for tr in list(alerts.transitions)[-RECENT_TRANSITIONS:][::-1]:
            ar = _alert_row(tr.alert)
            transitions.append(
                TransitionRow(
                    float(tr.at), str(tr.kind), ar.rule, ar.scope, ar.severity, ar.message
                )
            )
    crit = sum(1 for x in firing if x.severity == "critical")
    daily = th.daily_cost
    ratio = daily.value / 100.0 if daily.value >= 10 else daily.value
    cost_level: Level = (
        daily.severity if daily.enabled and avg and cost_today > avg * ratio else "ok"
    )
    kpi_levels: dict[str, Level] = {
        "cost_today": cost_level,
        "error_pct": th.error_rate.level(total.error_rate_pct, total.calls),
        "p95_ms": th.p95_latency.level(total.p95_ms, total.calls),
        "rate_limited_5m": th.rate_limit.level(rl5),
        "alerts": "critical" if crit else ("warning" if firing else "ok"),
    }
    kpis = Kpis(
        cost_today=cost_today,
        cost_yesterday_same_time=cost_y_same,
        cost_yesterday=cost_y,
        cost_7d_avg=avg,
        baseline_days=len(base),
        calls=total.calls,
        calls_per_min=total.calls / minutes if minutes else 0.0,
        error_pct=total.error_rate_pct,
        p95_ms=total.p95_ms,
        rate_limited_5m=rl5,
        rate_limited_24h=rl24,
        alerts_firing=len(firing),
        alerts_critical=crit,
        levels={k: v for k, v in kpi_levels.items() if v != "ok"},
    )

    # Recent 429s (newest first) and top users of today.
    low = needle.lower() if needle else None
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
        for r in reversed(engine.events_429(t - 86400, t))
        if low is None or any(low in s.lower() for s in (r.feature, r.user_id, r.model))
    ][:RECENT_429]
    with engine.lock:
        snap = engine.headroom.snapshot(t, max_age=1.0)
        bursts = tuple(_burst_row(b) for b in engine.headroom.bursts_between(t - 86400, t))
    head = headroom_view(snap, th.headroom, live=not replay)

    top = engine.top_users(t, TOP_USERS, by=users_by, match=needle)
    users = tuple(
        UserRow(
            g.name,
            g.calls,
            g.total_tokens,
            g.cost_usd,
            g.error_rate_pct,
            th.error_rate.level(g.error_rate_pct, g.calls),
        )
        for g in top
    )

    rej_pct = pct(lines.rejected, lines.lines)
    health = LineHealth(
        lines.records,
        lines.foreign,
        lines.rejected,
        tuple(sorted(lines.by_reason.items(), key=lambda kv: (-kv[1], kv[0]))),
        tuple(lines.examples),
        rej_pct,
        th.rejected_lines.level(rej_pct) if lines.rejected else "ok",
        engine.total(None, None).no_user_calls,
    )
    sources = tuple(
        SourceRow(str(s.path), str(s.state), str(s.message), int(s.offset), int(s.size))
        for s in statuses
    )
    return Dashboard(
        clock_now=now,
        now=t,
        replay=replay,
        paused=paused,
        window_name=window_name,
        window_start=win.start,
        window_end=win.end,
        window_seconds=span,
        tz=str(tz),
        sort=(column, desc),
        filter_text=filter_text,
        users_by=users_by,
        version=version,
        newest_ts=newest,
        newest_age_s=(now - newest) if newest is not None else None,
        ingest_rate=ingest_rate,
        kpis=kpis,
        features=tuple(rows),
        worst_p95=worst,
        rate_limits=tuple(rl_rows),
        bursts=bursts[:RECENT_429],
        headroom=head,
        users=users,
        alerts=tuple(firing),
        transitions=tuple(transitions),
        lines=health,
        sources=sources,
        progress=_progress(progress),
        alerts_pending=pending,
    )


# -- the feature detail screen -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BreakdownRow:
    name: str
    calls: int
    error_pct: float
    p50_ms: int | None
    p95_ms: int | None
    tokens: int
    cost: float


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


def _breakdown(g: GroupStats) -> BreakdownRow:
    return BreakdownRow(
        g.name, g.calls, g.error_rate_pct, g.p50_ms, g.p95_ms, g.total_tokens, g.cost_usd
    )


def feature_detail(
    engine: Engine, feature: str, start: float | None, end: float | None, top_users: int = 15
) -> FeatureDetail:
    """Per-model and per-user numbers, latency distribution and errors of one feature."""
    ms = engine.models_of_feature(feature, start, end)
    # The engine keeps per-user rows by the hour: widen the start to the hour that holds it.
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
    models = sorted((_breakdown(g) for g in ms.groups.values()), key=lambda r: (-r.calls, r.name))
    users = sorted((_breakdown(g) for g in us.groups.values()), key=lambda r: (-r.tokens, r.name))
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
    )


# -- export ------------------------------------------------------------------------------------


def export_json(d: Dashboard) -> dict[str, Any]:
    """The current view as a JSON-ready dict (the ``e`` key writes it to a file)."""
    doc = asdict(d)
    doc["features"] = [{**f, "spark": [round(x, 3) for x in f["spark"]]} for f in doc["features"]]
    doc["window"] = {
        "name": d.window_name,
        "start": iso(d.window_start),
        "end": iso(d.window_end),
        "tz": d.tz,
    }
    doc["now_iso"] = iso(d.now)
    doc["schema"] = 1
    return doc
