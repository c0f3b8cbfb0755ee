"""Alert rules evaluated by the core, so the TUI, ``check`` and any later view agree on what fires.

The article names four alerts (error rate, 429s, p95 latency, daily cost). Those four miss the
failures it describes elsewhere -- truncated answers (max_tokens), prompt caching that silently
stopped working, models the price table does not know (cost shown too low), a log the reader
cannot parse, and a runaway loop that has not yet made *today* expensive but is on its way -- so
five more rules cover them. Every rule runs per feature and over all traffic (scope ``"*"``),
because a 2% global error rate can be 15% errors in one feature.

This module holds the state of evaluating repeatedly: what fires since when, the transitions,
the line samples and the spans asked within one evaluation. What each rule computes is in
``checks``, the baseline in ``baseline``, the rules themselves in ``spec``.

Windows come from ``windows.window`` and the engine's minute buckets: a bucket is in a window when
its start minute is >= the window's start and < its end. A rolling window therefore covers whole
minutes, dropping the partial minute at its start and including the whole minute that holds
``now``.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, tzinfo

from msgspec import Struct
from msgspec.structs import replace

from claude_top.core.clock import Clock
from claude_top.core.stats import GroupStats, Summary
from claude_top.core.windows import window
from claude_top.engine.engine import Engine
from claude_top.engine.span_costs import SpanCost
from claude_top.rules import checks
from claude_top.rules.baseline import cost_baseline
from claude_top.rules.sources import SourceHealth, source_problems, stale_age, stale_message
from claude_top.rules.spec import ALL, COST_RULES, DEFAULT_RULES, HEADROOM_MAX_WINDOW_S, Rule

TRANSITIONS_KEPT = 200


class Alert(Struct, frozen=True):
    """One firing (rule, scope); ``value`` and ``threshold`` are in the rule's unit."""

    rule: str
    scope: str
    severity: str
    value: float
    threshold: float
    window: str
    since: float
    message: str


class Transition(Struct, frozen=True):
    """An alert starting (``fired``) or stopping (``resolved``) at ``at``: the views' history."""

    at: float
    kind: str
    alert: Alert


class Alerts:
    """Evaluates the rules against one engine and remembers what is firing since when.

    State lives here, not in the engine, because "since" and the transitions belong to whoever
    evaluates repeatedly (the TUI); a one-shot ``check`` simply sees every alert start at now.
    """

    def __init__(
        self,
        engine: Engine,
        rules: Sequence[Rule] | None = None,
        tz: tzinfo = UTC,
        *,
        sources: SourceHealth | None = None,
        clock: Clock | None = None,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self.sources = sources
        """The follower whose health the ``source`` rule reads (None: one-shot, no such rule)."""
        self.clock = clock
        """The view's clock for ``stale_log`` (None: the ``now`` evaluated at), so a replay's
        anchor never hides that the log stopped."""
        self.wall = wall
        """The reader's own clock, for the ``source`` rule's grace and stall times."""
        self.rules: list[Rule] = list(DEFAULT_RULES if rules is None else rules)
        self.tz = tz
        self.transitions: deque[Transition] = deque(maxlen=TRANSITIONS_KEPT)
        self.firing: dict[tuple[str, str], Alert] = {}
        """What fired at the last evaluation, by (rule, scope)."""
        self._line_samples: deque[tuple[float, int, int]] = deque()
        """(time, lines, rejected) at each evaluation: LineStats is cumulative, the rule is not."""
        self._queries: dict[tuple[float | None, float | None, bool], Summary] = {}
        self._costs: dict[tuple[float | None, float], SpanCost] = {}
        """The baseline's spans within one evaluation; the engine keeps settled buckets' sums
        across evaluations (``engine.span_costs``)."""

    def rule(self, rule_id: str) -> Rule | None:
        """The enabled rule of that id, or None (a disabled rule highlights nothing)."""
        for r in self.rules:
            if r.id == rule_id:
                return r if r.enabled else None
        return None

    # -- evaluation ---------------------------------------------------------------------------

    def evaluate(self, now: float) -> list[Alert]:
        """Every firing alert at ``now``: critical first, then in rule order, then by scope.

        The whole evaluation reads the engine under one hold of its lock, so every rule sees
        the same version of the data.
        """
        self._queries, self._costs = {}, {}
        candidates: list[Alert] = []
        with self.engine.lock:
            for rule in self.rules:
                if rule.enabled:
                    candidates.extend(self._evaluate_rule(rule, now))
            self._sample_lines(now)
        order = {r.id: i for i, r in enumerate(self.rules)}
        current: dict[tuple[str, str], Alert] = {}
        for a in candidates:
            key = (a.rule, a.scope)
            old = self.firing.get(key)
            if old is not None:
                a = replace(a, since=old.since)
            else:
                self.transitions.append(Transition(now, "fired", a))
            current[key] = a
        for key, old in self.firing.items():
            if key not in current:
                self.transitions.append(Transition(now, "resolved", old))
        self.firing = current
        self._queries, self._costs = {}, {}
        return sorted(current.values(), key=lambda a: alert_order(a, order))

    def _query(self, start: float | None, end: float | None, latency: bool = False) -> Summary:
        """A window by feature, once per evaluation; its latency only if asked (the p95 rule:
        the others read counters, and merging histograms is most of a window's fold)."""
        key = (start, end, latency)
        s = self._queries.get(key)
        if s is None:
            s = self._queries[key] = self.engine.query(start, end, by="feature", latency=latency)
        return s

    def _span_cost(self, start: float | None, end: float) -> SpanCost:
        """A baseline span's calls and cost (``Engine.span_cost``), once per evaluation."""
        key = (start, end)
        c = self._costs.get(key)
        if c is None:
            c = self._costs[key] = self.engine.span_cost(start, end)
        return c

    def _window(self, rule: Rule, now: float) -> tuple[float, float]:
        w = window(rule.window, now, self.tz)
        assert w.start is not None and w.end is not None  # durations and "today" are bounded
        return w.start, w.end

    def _alert(self, rule: Rule, scope: str, value: float, now: float, message: str) -> Alert:
        return Alert(
            rule.id, scope, rule.severity, value, rule.threshold, rule.window, now, message
        )

    def _evaluate_rule(self, rule: Rule, now: float) -> list[Alert]:
        if rule.id == "source":
            return self._source(rule)
        if rule.id == "stale_log":
            return self._stale_log(rule, now)
        if rule.id == "rejected_lines":
            a = self._rejected_lines(rule, now)
            return [] if a is None else [a]
        if rule.id in COST_RULES:
            return self._cost(rule, now)
        if rule.id == "headroom":
            return self._headroom(rule, now)
        if rule.id == "p95_ttft":
            return self._ttft(rule, now)
        if rule.id not in checks.MEASURES:
            return []
        start, end = self._window(rule, now)
        s = self._query(start, end, latency=rule.id == checks.LATENCY_RULE)
        scopes = self._cache_scopes(s, now) if rule.id == "cache_hit" else _scopes(s)
        out: list[Alert] = []
        for scope, g in scopes:
            value = checks.group_check(rule, g)
            if value is not None:
                text = checks.group_message(rule, scope, g, value)
                out.append(self._alert(rule, scope, value, now, text))
        return out

    def _cache_scopes(self, s: Summary, now: float) -> list[tuple[str, GroupStats]]:
        """Only features that use caching; "all traffic" is their sum, not everyone's.

        A feature counts as caching when it read or wrote cache in the window or in the last 24
        hours, so a feature whose caching broke completely (0 cache tokens this hour) still
        fires. Features that never cache would only dilute the "*" hit rate.
        """
        day = self._query(now - 86400, now)
        caching = {
            name
            for name, g in s.groups.items()
            if g.uses_cache or (name in day.groups and day.groups[name].uses_cache)
        }
        groups = [(name, s.groups[name]) for name in sorted(caching)]
        if not groups:
            return []
        total = GroupStats(
            ALL,
            calls=sum(g.calls for _, g in groups),
            input_tokens=sum(g.input_tokens for _, g in groups),
            cache_read_tokens=sum(g.cache_read_tokens for _, g in groups),
            cache_write_5m_tokens=sum(g.cache_write_5m_tokens for _, g in groups),
            cache_write_1h_tokens=sum(g.cache_write_1h_tokens for _, g in groups),
        )
        return [(ALL, total), *groups]

    def _cost(self, rule: Rule, now: float) -> list[Alert]:
        """Today against the baseline days before it (``baseline.cost_baseline``), per scope."""
        start, end = self._window(rule, now)
        pace = rule.id == "cost_pace"
        by = f"{datetime.fromtimestamp(now, self.tz):%H:%M}"
        out: list[Alert] = []
        today = self._span_cost(start, end)  # calls and cost are all the rules read of today
        for scope, g in [(ALL, today.total), *sorted(today.features.items())]:
            base = cost_baseline(
                self._span_cost, now, self.tz, self.engine.oldest_ts, scope, same_hours=pace
            )
            ratio = checks.cost_check(rule, g, base)
            if ratio is not None:
                text = checks.cost_message(rule, scope, g, base, ratio, by)
                out.append(self._alert(rule, scope, ratio, now, text))
        return out

    def _headroom(self, rule: Rule, now: float) -> list[Alert]:
        """Per model class: fires when any dimension with a known limit ran above the threshold
        (percent of the limit) over the window. Classes without limits cannot fire."""
        span = min(window(rule.window, now).seconds or 0.0, HEADROOM_MAX_WINDOW_S)
        snap = self.engine.headroom.snapshot(now, span)
        out: list[Alert] = []
        for c in snap.classes:
            worst = checks.headroom_check(rule, c, span)
            if worst is not None:
                text = checks.headroom_message(rule, c)
                out.append(self._alert(rule, c.model_class, worst, now, text))
        return out

    def _ttft(self, rule: Rule, now: float) -> list[Alert]:
        """Per feature and over all traffic: the streamed calls' p95 time to first token."""
        start, end = self._window(rule, now)
        total, per = self.engine.streaming(start, end, by="feature")
        out: list[Alert] = []
        for scope, st in [(ALL, total), *sorted(per.items())]:
            value = checks.ttft_check(rule, st)
            if value is not None:
                text = checks.ttft_message(rule, st, value)
                out.append(self._alert(rule, scope, value, now, text))
        return out

    # -- the health of what is read ------------------------------------------------------------

    def _source(self, rule: Rule) -> list[Alert]:
        if self.sources is None:
            return []
        wall_now = self.wall()
        return [
            Alert(
                rule.id,
                p.path or ALL,
                rule.severity,
                wall_now - p.since,
                rule.threshold,
                "",
                p.since,
                p.message,
            )
            for p in source_problems(self.sources, wall_now, rule.threshold)
        ]

    def _stale_log(self, rule: Rule, now: float) -> list[Alert]:
        at = self.clock.now() if self.clock is not None else now
        newest = self.engine.newest_ts
        age = stale_age(rule, newest, at)
        if age is None or newest is None:
            return []
        since = newest + rule.threshold
        return [
            Alert(
                rule.id,
                ALL,
                rule.severity,
                age,
                rule.threshold,
                "",
                since,
                stale_message(rule, age),
            )
        ]

    # -- rejected lines -----------------------------------------------------------------------

    def _sample_lines(self, now: float) -> None:
        ls = self.engine.lines
        samples = self._line_samples
        if samples and now < samples[-1][0]:
            samples.clear()  # time went backwards (a replay jumped): old deltas mean nothing
        samples.append((now, ls.lines, ls.rejected))
        # Keep the newest sample at or before the longest window's start, drop older ones.
        spans = [_span(r.window, now, self.tz) for r in self.rules if r.id == "rejected_lines"]
        horizon = now - max(spans, default=0.0)
        while len(samples) > 1 and samples[1][0] <= horizon:
            samples.popleft()

    def _rejected_lines(self, rule: Rule, now: float) -> Alert | None:
        """Rejected share of the lines read during the window.

        The engine only counts lines cumulatively, so the window is the difference from the
        newest earlier evaluation at or before the window's start. Until one exists (the first
        evaluation, or ``check``), the ratio is over everything read so far.
        """
        ls = self.engine.lines
        horizon = now - _span(rule.window, now, self.tz)
        base_lines = base_rejected = 0
        over = "everything read"
        for t, lines, rejected in reversed(self._line_samples):
            if t <= horizon:
                base_lines, base_rejected = lines, rejected
                over = rule.window_words
                break
        lines = ls.lines - base_lines
        rejected = ls.rejected - base_rejected
        ratio = checks.rejected_check(rule, lines, rejected)
        if ratio is None:
            return None
        reasons = sorted(ls.by_reason.items(), key=lambda kv: (-kv[1], kv[0]))[:2]
        text = checks.rejected_message(rule, ratio, rejected, lines, over, [k for k, _ in reasons])
        return self._alert(rule, ALL, ratio, now, text)


def alert_order(a: Alert, order: dict[str, int]) -> tuple[bool, bool, int, str]:
    """Source problems first (a blind monitor makes every other answer doubtful), then critical
    before warning, then in rule order (``order``), then by scope."""
    return (a.rule != "source", a.severity != "critical", order.get(a.rule, len(order)), a.scope)


def _span(name: str, now: float, tz: tzinfo) -> float:
    w = window(name, now, tz)
    return 0.0 if w.start is None else now - w.start


def _scopes(s: Summary) -> list[tuple[str, GroupStats]]:
    return [(ALL, s.total), *sorted(s.groups.items())]
