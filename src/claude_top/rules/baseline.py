"""The cost baseline: the average daily cost of the days before today, defined once.

The dashboard's "7-day avg" KPI and the ``daily_cost`` and ``cost_pace`` rules all call
``cost_baseline``, so the number beside an alert and the number in the alert are the same one,
with the same count of days behind it.

Which days count: of the 7 calendar days before today (in the configured zone), a day counts
only when the log covers all of it -- a partial day is left out entirely, not scaled. For all
traffic the log covers a day when its oldest record is at or before that day's midnight, so a
log that starts at 10:00 leaves its first day out (it is not a near-$0 day). For one feature,
coverage starts the day after its first day with calls (or before the 7 days, if it had calls
earlier): a feature launched yesterday has no baseline yet, not six days of $0. Every covered
day counts, including days without calls, whose cost is $0.

``cost_pace`` asks the same days for the cost up to today's time of day (``same_hours``).

The spans are answered by the engine's cost-only fold (``Engine.span_cost``), which sums calls
and cost and nothing else: every view passes it (the rules, the KPI with its filter, the
metrics), so they get one number by construction.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, tzinfo
from typing import Protocol

from msgspec import Struct

from claude_top.core.stats import GroupStats, Summary
from claude_top.core.windows import previous_days
from claude_top.engine.span_costs import CostSum, SpanCost
from claude_top.rules.spec import ALL

BASELINE_DAYS = 7
SpanQuery = Callable[[float | None, float], SpanCost]
"""The engine's ``span_cost(start, end)`` (with the view's filter), possibly behind a memo."""


class Costed(Protocol):
    """What the cost rules read of a scope's day: a ``GroupStats`` or the cost-only fold's
    ``CostSum`` (the same numbers by construction, ``engine.span_costs``)."""

    @property
    def calls(self) -> int: ...

    @property
    def cost_usd(self) -> float: ...


class Baseline(Struct, frozen=True):
    """The average cost of the baseline days that count, and how many they are."""

    average: float | None
    """USD per day (or per same hours of a day); None when no day counts."""
    days: int


class BaselineDay(Struct, frozen=True):
    start: float
    end: float
    cut: float
    """Where the day's counted cost ends: ``end``, or today's time of day for the pace rule."""


def baseline_days(now: float, tz: tzinfo, same_hours: bool) -> list[BaselineDay]:
    """The 7 days before today, newest first, cut at today's time of day for ``same_hours``."""
    local_now = datetime.fromtimestamp(now, tz)
    out: list[BaselineDay] = []
    for d, s, e in previous_days(now, tz, BASELINE_DAYS):
        cut = e
        if same_hours:
            same = datetime(d.year, d.month, d.day, tzinfo=tz).replace(
                hour=local_now.hour,
                minute=local_now.minute,
                second=local_now.second,
                microsecond=local_now.microsecond,
            )
            # Buckets start on whole minutes, so rounding the cut up to one changes no answer
            # and lets the span be reused for the rest of the minute.
            cut = min(max(math.ceil(same.timestamp() / 60) * 60.0, s), e)
        out.append(BaselineDay(s, e, cut))
    return out


def scope_of(s: Summary, scope: str) -> GroupStats:
    """All traffic (``"*"``) or one feature of a summary; a feature without calls is empty."""
    if scope == ALL:
        return s.total
    return s.groups.get(scope) or GroupStats(scope)


def scope_cost(s: SpanCost, scope: str) -> CostSum:
    """All traffic (``"*"``) or one feature of a span's costs, as ``scope_of``."""
    if scope == ALL:
        return s.total
    return s.features.get(scope) or CostSum()


def cost_baseline(
    query: SpanQuery,
    now: float,
    tz: tzinfo,
    log_start: float | None,
    scope: str = ALL,
    *,
    same_hours: bool = False,
) -> Baseline:
    """The baseline of ``scope`` at ``now``; ``log_start`` is the log's oldest record time."""
    if log_start is None:
        return Baseline(None, 0)
    days = baseline_days(now, tz, same_hours)
    start = log_start if scope == ALL else _history_start(query, days, scope)
    costs = [
        scope_cost(query(d.start, d.cut), scope).cost_usd
        for d in days
        if start is not None and start <= d.start
    ]
    if not costs:
        return Baseline(None, 0)
    return Baseline(sum(costs) / len(costs), len(costs))


def _history_start(query: SpanQuery, days: list[BaselineDay], scope: str) -> float | None:
    """When a feature's history covers from: -inf if it had calls before the 7 days, else the
    end of its first day with calls (that day is partial: we cannot tell when it began)."""
    oldest = days[-1]
    if scope_cost(query(None, oldest.start), scope).calls > 0:
        return -math.inf
    for d in reversed(days):
        if scope_cost(query(d.start, d.end), scope).calls > 0:
            return d.end
    return None


def cost_ratio(today: Costed, base: Baseline) -> float | None:
    """Today's cost in percent of the baseline; None when there is no baseline to compare."""
    if base.average is None or base.average <= 0:
        return None
    return today.cost_usd / base.average * 100.0
