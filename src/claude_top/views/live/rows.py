"""The live screen's view-model: the frozen rows and panels one frame of the TUI is made of.

Plain dataclasses of numbers and levels, so the Textual app only maps them to cells, the ``e``
export writes them as JSON, and tests read them without a terminal. ``dashboard`` fills them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from claude_top.engine.headroom import Burst, Share
from claude_top.views.live.charts import ChartSet
from claude_top.views.live.detail import FeatureDetail
from claude_top.views.live.filtering import FilterView
from claude_top.views.live.levels import Level as Level


@dataclass(frozen=True, slots=True)
class Kpis:
    cost_today: float
    cost_yesterday_same_time: float | None
    """None under a filter naming a user (per-user rows are daily: ``filtering``)."""
    cost_yesterday: float
    cost_7d_avg: float | None
    """The cost baseline (``rules.baseline.cost_baseline``) the daily_cost rule compares with:
    the average cost of the fully covered days of the 7 before today; None without any."""
    baseline_days: int
    """How many days stand behind ``cost_7d_avg``."""
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
    """Share of all calls stopped by max_tokens (``GroupStats.max_tokens_rate_pct``)."""
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
    impact: float = 1.0
    """How many times past its threshold (``views.live.alerts.impact``): the last sort key."""


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
    unmapped: int = 0
    """Lines that look like calls in a shape the active mapping does not read."""
    unmapped_hint: str | None = None
    """The preset most of them look like (``--preset NAME`` reads them)."""
    format_label: str = ""
    """The sources' format when it is not the native one: ``litellm (detected)``."""


@dataclass(frozen=True, slots=True)
class SourceRow:
    path: str
    state: str
    message: str
    offset: int
    size: int


@dataclass(frozen=True, slots=True)
class HostRow:
    """One host of the hosts panel (``views.live.hosts`` fills it)."""

    host: str
    state: str
    sources: int
    calls: int
    error_pct: float
    p95_ms: int | None
    cost: float
    rejected: int
    newest_age_s: float | None
    level: Level
    """The error-rate rule's level over the window, or "critical" when a source is in error."""


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
    bursts: tuple[Burst, ...]
    """The engine's bursts as they are: a ``Burst`` is already a frozen row of plain values."""
    headroom: HeadroomView
    users: tuple[UserRow, ...]
    alerts: tuple[AlertRow, ...]
    """Every firing alert, in ``views.live.alerts`` order (source, severity, recency, impact)."""
    transitions: tuple[TransitionRow, ...]
    """Every fired/resolved transition the rules keep, newest first."""
    lines: LineHealth
    sources: tuple[SourceRow, ...]
    progress: HistoryProgress | None
    hosts: tuple[HostRow, ...] = ()
    """One row per host when there are several (``views.live.hosts``), else none."""
    alerts_pending: bool = False
    """History is still loading: alerts are not evaluated yet (they would fire and resolve at
    the historical times the data has reached, and record spurious transitions)."""
    filter: FilterView | None = None
    """What the filter matched and where its numbers come from (None: no filter)."""
    alerts_matching: tuple[AlertRow, ...] | None = None
    """Under a filter, the firing alerts whose scope or message matches (and source alerts)."""
    charts: ChartSet | None = None
    """All traffic's calls/min, error rate, p95 and cost per slot over the window."""
    detail: FeatureDetail | None = None
    """The open detail page's feature, built in the same frame (None when no page is open)."""
