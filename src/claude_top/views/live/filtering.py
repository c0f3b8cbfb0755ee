"""What a filter (``/``) means, decided once: which calls it keeps and where their numbers come from.

A call matches when its feature, model or user id contains the text (case-insensitively). The
table, the KPIs, the charts, the recent 429s, top users and the alerts panel then show the
matching calls only; rate-limit headroom (organisation-wide limits) and line health (the input
itself) stay all traffic, and say so.

Where the numbers come from depends on what matched, because the engine keeps calls per
minute by (feature, model) but per *day* by (user, feature, model):

- the text names no user of today: every number is the window's, from the minute rows, as
  without a filter (``Engine.query(match=...)``);
- it names a user: the numbers are **today's**, from the per-user day rows, which have no
  latency; p95, the same time yesterday, the 7-day average and the charts are not kept per
  user and show "—". The 429 KPIs count the kept 429 events (the last 2,000) that match.

Either way the engine computes them for the filtered set; nothing is derived in a widget.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo

from claude_top.core.stats import GroupStats
from claude_top.core.timeutil import local_midnight
from claude_top.core.windows import Window, previous_days
from claude_top.engine.engine import Engine
from claude_top.engine.span_costs import SpanCost
from claude_top.rules.baseline import cost_baseline

SHOWN_NAMES = 5


@dataclass(frozen=True, slots=True)
class FilterView:
    text: str
    features: tuple[str, ...]
    """Features of the window whose name contains the text."""
    models: tuple[str, ...]
    users: tuple[str, ...]
    """Today's users whose id contains it (the first ``SHOWN_NAMES``)."""
    users_total: int
    per_user: bool
    """Answered from the per-user day rows (a user matched): today's numbers, no latency."""
    calls: int
    """Matching calls in the table's span."""

    @property
    def no_match(self) -> bool:
        return self.calls == 0 and not (self.features or self.models or self.users_total)

    @property
    def span_words(self) -> str:
        return "today (per-user numbers are kept per day)" if self.per_user else "window"


def matches(needle: str | None, *texts: str) -> bool:
    """The one test for a row of text (a 429 event, an alert): any part contains the needle."""
    if not needle:
        return True
    low = needle.lower()
    return any(low in t.lower() for t in texts)


def match_names(
    engine: Engine, win: Window, t: float, needle: str
) -> tuple[tuple[str, ...], tuple[str, ...], list[str]]:
    """Matching features and models of the window, and today's matching users."""
    low = needle.lower()
    feats = engine.query(win.start, win.end, by="feature").groups
    models = engine.query(win.start, win.end, by="model").groups
    users = engine.users_matching(t, needle)
    return (
        tuple(sorted(n for n in feats if low in n.lower())),
        tuple(sorted(n for n in models if low in n.lower())),
        users,
    )


class Scope:
    """The frame's totals over a span, for all traffic or for the filtered set."""

    def __init__(self, engine: Engine, needle: str | None, per_user: bool) -> None:
        self.engine, self.needle, self.per_user = engine, needle, per_user

    def total(self, start: float | None, end: float | None) -> GroupStats:
        """Counters and cost (the frame reads no percentile of these totals: for all traffic,
        ``Engine.counts``, which folds no histogram)."""
        if self.needle is None:
            return self.engine.counts(start, end)
        return self.engine.query(start, end, match=self.needle, per_user=self.per_user).total

    def span_cost(self, start: float | None, end: float) -> SpanCost:
        """The cost baseline's spans, from the group rows the filter keeps (``per_user`` has no
        baseline: day rows hold no hours of a day and no archive days)."""
        return self.engine.span_cost(start, end, self.needle)

    def rate_limited(self, start: float, end: float) -> int:
        if not self.per_user:
            return self.total(start, end).rate_limited
        return sum(
            1
            for r in self.engine.events_429(start, end)
            if matches(self.needle, r.feature, r.user_id, r.model)
        )

    def costs(
        self, t: float, tz: tzinfo
    ) -> tuple[GroupStats, float | None, float, float | None, int]:
        """Today, yesterday at the same time, yesterday, the baseline average and its days."""
        midnight = local_midnight(t, tz)
        today = self.total(midnight, t)
        _, y_start, y_end = previous_days(t, tz, 1)[0]
        yday = self.total(y_start, y_end).cost_usd
        if self.per_user:  # day rows: no hours of a day, no archive days
            return today, None, yday, None, 0
        same = self.total(y_start, min(y_end, y_start + t - midnight)).cost_usd
        base = cost_baseline(self.span_cost, t, tz, self.engine.oldest_ts)
        return today, same, yday, base.average, base.days
