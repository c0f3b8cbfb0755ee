"""The ``/metrics`` exposition: one engine snapshot per scrape, as ``prometheus_client`` families.

A custom collector rather than client-library counters incremented by ingest: the engine
already holds every number, so a scrape reads them under one hold of the engine's lock (one
frame, as the TUI's) and the exposition cannot disagree with ``summary`` or ``check``. What
a counter means across restarts is in ``counts``; the label caps in ``labels``. Names follow
Prometheus practice: base units, ``_total`` on counters, ``claude_top_`` on everything.

Latency is a histogram whose buckets are the HDR buckets of the engine summed exactly: the
bucket ``le=X`` counts the calls whose HDR bucket reports at most X (the value ``check``'s
percentiles report), so "p95 above 15 s" reads the same in PromQL as in ``check``; the bounds
always include the ``p95_latency`` threshold.

Its length (over the ~400 lines we aim for) is one method per family group, all reading the one
snapshot a scrape takes; the pieces with a job of their own (label caps, counts across restarts,
the rule file) are already apart.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, tzinfo
from typing import Any

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    InfoMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from claude_top import __version__
from claude_top.core.clock import Clock, SystemClock
from claude_top.core.histogram import highest_equivalent
from claude_top.core.stats import LineStats
from claude_top.core.windows import window
from claude_top.engine.engine import Engine
from claude_top.engine.span_costs import SpanCost
from claude_top.rules.baseline import cost_baseline, scope_of
from claude_top.rules.evaluate import Alert
from claude_top.rules.sources import SourceHealth, source_problems
from claude_top.rules.spec import ALL, DEFAULT_RULES, HEADROOM_MAX_WINDOW_S, Rule
from claude_top.views.metrics.counts import Counts, Key, Monotone, breakdown, delta
from claude_top.views.metrics.labels import (
    CALL_LABELS,
    MAX_ERROR_KINDS,
    MAX_FEATURES,
    MAX_HOSTS,
    MAX_MODELS,
    OTHER,
    LabelCap,
    clip,
    split_error,
)

PREFIX = "claude_top_"
BASE_BOUNDS_MS = (
    100,
    250,
    500,
    1000,
    2500,
    5000,
    10000,
    15000,
    20000,
    30000,
    60000,
    120000,
    300000,
)
"""Latency bucket bounds (ms) besides the p95 rule's threshold: 15 s, 30/60/120 s among them."""
TOKEN_KINDS = ("input", "output", "cache_read", "cache_write_5m", "cache_write_1h")
"""``kind`` of ``claude_top_tokens_total``: the API's uncached input, output, cache reads and
the two cache writes, each counted once (OTel's ``input`` is the sum of the first and the last
three)."""
MAX_REASONS = 30


def latency_bounds_ms(rules: Sequence[Rule], rule_id: str = "p95_latency") -> tuple[float, ...]:
    """The bucket bounds of a histogram read by rule ``rule_id`` (latency, or TTFT with
    ``p95_ttft``): the base bounds and the rule's threshold, so the rule's test is exact."""
    extra = {r.threshold for r in rules if r.id == rule_id and r.enabled}
    return tuple(sorted({float(b) for b in BASE_BOUNDS_MS} | extra))


def le_text(ms: float) -> str:
    return repr(ms / 1000.0)


def cumulative(counts: dict[int, int], bounds_ms: Sequence[float]) -> list[int]:
    """Calls at or below each bound: HDR buckets counted by the value they report."""
    tops = sorted((highest_equivalent(low), n) for low, n in counts.items())
    out, acc, i = [], 0, 0
    for bound in bounds_ms:
        while i < len(tops) and tops[i][0] <= bound:
            acc += tops[i][1]
            i += 1
        out.append(acc)
    return out


def call_key(key: Key, hosts: LabelCap, models: LabelCap) -> tuple[str, ...]:
    """The ``CALL_LABELS`` values of one (host, feature label, model)."""
    return (hosts.label(key[0]), key[1], models.label(key[2]))


class EngineCollector(Collector):
    """Reads one engine snapshot per scrape and yields every family."""

    def __init__(
        self,
        engine: Engine,
        rules: Sequence[Rule] | None = None,
        tz: tzinfo = UTC,
        clock: Clock | None = None,
        *,
        health: SourceHealth | None = None,
        firing: Callable[[], Iterable[Alert]] | None = None,
        users: int = 0,
        wall: Callable[[], float] = time.time,
        hosts: Mapping[str, Engine] | None = None,
    ) -> None:
        self.engine = engine
        self.hosts = hosts
        """Each host's engine (``engine.hosts.ByHost.engines``, which grows under the engine's
        lock as hosts appear); None: every line is the ``local`` host's."""
        self.rules = list(DEFAULT_RULES if rules is None else rules)
        self.tz = tz
        self.clock = clock or SystemClock()
        self.health = health
        self.firing = firing
        self.users = users
        self.wall = wall
        self.bounds_ms = latency_bounds_ms(self.rules)
        self.ttft_bounds_ms = latency_bounds_ms(self.rules, "p95_ttft")
        self.features = LabelCap(MAX_FEATURES)
        self.models = LabelCap(MAX_MODELS)
        self.host_cap = LabelCap(MAX_HOSTS)
        self.error_kinds = LabelCap(MAX_ERROR_KINDS)
        self.reasons = LabelCap(MAX_REASONS)
        self.monotone = Monotone()
        self._base: dict[Key, Counts] | None = None
        self._base_lines = LineStats()
        self.counting_since: float | None = None
        self._lock = threading.Lock()

    def _rule(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id and r.enabled), None)

    def start_counting(self) -> None:
        """From now on the counters count (``counts``): what the engine holds now is history."""
        with self.engine.lock:
            self._base = self._breakdown()
            self._base_lines = self.engine.lines.copy()
            self.counting_since = self.wall()

    def _breakdown(self) -> dict[Key, Counts]:
        hosts = None if self.hosts is None else dict(self.hosts)
        return breakdown(self.engine, self.features, hosts)

    def describe(self) -> Iterable[Metric]:
        return []  # registering must not read the engine; families are known at collect

    def collect(self) -> Iterator[Metric]:
        # Scrapes may come in on several server threads: the label caps and the counters'
        # highs are this collector's state, so one scrape at a time builds its families.
        with self._lock:
            families = list(self._families())
        yield from families

    def _families(self) -> Iterator[Metric]:
        now = self.clock.now()
        with self.engine.lock:  # one frame: every family below reads the same data
            counts = None
            if self._base is not None:
                counts = delta(self._breakdown(), self._base)
            lines = self.engine.lines.copy()
            newest = self.engine.newest_ts
            cost = list(self._cost_gauges(now))
            headroom = list(self._headroom(now))
            top = self.engine.top_users(now, self.users) if self.users else []
        info = InfoMetricFamily(PREFIX + "build", "claude-top's version.")
        info.add_metric([], {"version": __version__})
        yield info
        if counts is not None:
            yield from self._calls(counts)
            yield from self._lines(lines)
            since = GaugeMetricFamily(
                PREFIX + "counting_since_timestamp_seconds",
                "When the counters started counting (history loaded before is not counted).",
            )
            since.add_metric([], self.counting_since or 0.0)
            yield since
        stamp = GaugeMetricFamily(
            PREFIX + "newest_call_timestamp_seconds", "Time of the newest call read."
        )
        if newest is not None:
            stamp.add_metric([], newest)
        yield stamp
        yield from cost
        yield from headroom
        yield from self._sources()
        yield from self._alerts()
        if self.users:
            tokens = GaugeMetricFamily(
                PREFIX + "user_tokens_today", "Tokens today of the top users.", labels=["user"]
            )
            usd = GaugeMetricFamily(
                PREFIX + "user_cost_today_usd", "Cost today of the top users.", labels=["user"]
            )
            for g in top:
                tokens.add_metric([clip(g.name)], g.total_tokens)
                usd.add_metric([clip(g.name)], g.cost_usd)
            yield tokens
            yield usd

    # -- the counters ---------------------------------------------------------------------------

    def _counter(self, name: str, doc: str, labels: Sequence[str]) -> CounterMetricFamily:
        return CounterMetricFamily(PREFIX + name, doc, labels=list(labels))

    def _add(self, family: CounterMetricFamily, labels: tuple[str, ...], value: float) -> None:
        family.add_metric(list(labels), self.monotone(family.name, labels, max(0.0, value)))

    def _calls(self, counts: dict[Key, Counts]) -> Iterator[Metric]:
        grouped: dict[tuple[str, ...], Counts] = {}
        for key, c in sorted(counts.items()):
            grouped.setdefault(call_key(key, self.host_cap, self.models), Counts()).add(c)
        calls = self._counter("calls", "Calls read.", CALL_LABELS)
        errors = self._counter(
            "errors",
            "Calls that failed, by error type and HTTP status.",
            (*CALL_LABELS, "type", "status"),
        )
        tokens = self._counter("tokens", "Tokens, by kind.", (*CALL_LABELS, "kind"))
        cost = self._counter("cost_usd", "Cost in USD at the published prices.", CALL_LABELS)
        stops = self._counter("max_tokens_stops", "Calls that stopped at max_tokens.", CALL_LABELS)
        unpriced = self._counter(
            "unpriced_calls", "Calls of models with no price (not in the cost).", CALL_LABELS
        )
        latency = HistogramMetricFamily(
            PREFIX + "call_duration_seconds",
            "Call latency, from the engine's HDR buckets.",
            labels=list(CALL_LABELS),
        )
        ttft = HistogramMetricFamily(
            PREFIX + "time_to_first_token_seconds",
            "Streamed calls' time to first token, from the engine's HDR buckets (no _sum: the"
            " buckets are all that is kept).",
            labels=list(CALL_LABELS),
        )
        for labels, c in grouped.items():
            self._add(calls, labels, c.calls)
            if c.streams:
                cum = cumulative(c.ttft, self.ttft_bounds_ms)
                buckets = [(le_text(b), n) for b, n in zip(self.ttft_bounds_ms, cum, strict=True)]
                ttft.add_metric(list(labels), [*buckets, ("+Inf", c.streams)], None)
            kinds: dict[tuple[str, str], int] = {}
            for err, n in c.errors_by_type.items():
                kind = split_error(err) if self.error_kinds.label(err) != OTHER else (OTHER, OTHER)
                kinds[kind] = kinds.get(kind, 0) + n
            for kind, n in sorted(kinds.items()):
                self._add(errors, (*labels, *kind), n)
            values = (
                c.input_tokens,
                c.output_tokens,
                c.cache_read_tokens,
                c.cache_write_5m_tokens,
                c.cache_write_1h_tokens,
            )
            for kind_name, v in zip(TOKEN_KINDS, values, strict=True):
                self._add(tokens, (*labels, kind_name), v)
            self._add(cost, labels, c.cost_usd)
            self._add(stops, labels, c.max_tokens_stops)
            self._add(unpriced, labels, c.unpriced_calls)
            cum = cumulative(c.latency, self.bounds_ms)
            total = sum(c.latency.values())
            buckets = [(le_text(b), n) for b, n in zip(self.bounds_ms, cum, strict=True)]
            latency.add_metric(
                list(labels), [*buckets, ("+Inf", total)], sum_value=c.latency_sum_ms / 1000.0
            )
        yield from (calls, errors, tokens, cost, stops, unpriced, latency, ttft)

    def _lines(self, lines: LineStats) -> Iterator[Metric]:
        base = self._base_lines
        fam = self._counter("lines", "Lines read, by what they were.", ("class",))
        for name, now, then in (
            ("record", lines.records, base.records),
            ("foreign", lines.foreign, base.foreign),
            ("rejected", lines.rejected, base.rejected),
            ("unmapped", lines.unmapped, base.unmapped),
        ):
            self._add(fam, (name,), now - then)
        yield fam
        reasons = self._counter("rejected_lines", "Rejected lines, by reason.", ("reason",))
        by: dict[str, int] = {}
        for reason, n in lines.by_reason.items():
            label = self.reasons.label(reason)
            by[label] = by.get(label, 0) + n - base.by_reason.get(reason, 0)
        for label, n in sorted(by.items()):
            self._add(reasons, (label,), n)
        yield reasons
        unmapped = self._counter(
            "unmapped_lines",
            "Calls in a shape the mapping does not read, by the preset that reads them.",
            ("preset",),
        )
        presets: dict[str, int] = {}
        for preset, n in lines.unmapped_by_preset.items():
            label = self.reasons.label(preset)
            presets[label] = presets.get(label, 0) + n - base.unmapped_by_preset.get(preset, 0)
        for label, n in sorted(presets.items()):
            self._add(unmapped, (label,), n)
        yield unmapped

    # -- the gauges -----------------------------------------------------------------------------

    def _cost_gauges(self, now: float) -> Iterator[Metric]:
        """Today's cost and calls and the rules' own baseline, per scope ("*": all traffic).

        The cost rules compare calendar days in the configured zone with the 7 days before:
        Prometheus may not hold those days (the counters start at zero), so the engine's
        answer is exported as it is, computed by ``rules.baseline`` like ``check``'s."""
        memo: dict[tuple[float | None, float], SpanCost] = {}

        def span(start: float | None, end: float) -> SpanCost:
            # The baseline's spans, once per scrape; the engine keeps settled buckets' sums.
            c = memo.get((start, end))
            if c is None:
                c = memo[(start, end)] = self.engine.span_cost(start, end)
            return c

        today = window("today", now, self.tz)
        assert today.start is not None and today.end is not None
        day = self.engine.query(today.start, today.end, "feature")
        scopes = [ALL, *sorted(n for n in day.groups if self.features.named(n))]
        calls = GaugeMetricFamily(PREFIX + "calls_today", "Calls today.", labels=["scope"])
        usd = GaugeMetricFamily(PREFIX + "cost_today_usd", "Cost today.", labels=["scope"])
        base = GaugeMetricFamily(
            PREFIX + "cost_baseline_usd",
            "Average cost of the 7 days before today (basis=day), or of their same hours "
            "(basis=same_hours), as the cost rules compute it.",
            labels=["scope", "basis"],
        )
        days = GaugeMetricFamily(
            PREFIX + "cost_baseline_samples",
            "How many days the baseline averages.",
            labels=["scope", "basis"],
        )
        for scope in scopes:
            g = scope_of(day, scope)
            label = scope if scope == ALL else self.features.label(scope)
            calls.add_metric([label], g.calls)
            usd.add_metric([label], g.cost_usd)
            for basis, same in (("day", False), ("same_hours", True)):
                b = cost_baseline(span, now, self.tz, self.engine.oldest_ts, scope, same_hours=same)
                days.add_metric([label, basis], b.days)
                if b.average is not None:
                    base.add_metric([label, basis], b.average)
        yield from (calls, usd, base, days)

    def _headroom(self, now: float) -> Iterator[Metric]:
        rule = self._rule("headroom")
        span = 60.0
        if rule is not None:
            span = min(window(rule.window, now).seconds or 60.0, HEADROOM_MAX_WINDOW_S)
        snap = self.engine.headroom.snapshot(now, span)
        labels = ["model_class", "dimension"]
        ratio = GaugeMetricFamily(
            PREFIX + "ratelimit_utilization_ratio",
            "Share of the rate limit used over the headroom rule's window (1 = at the limit).",
            labels=labels,
        )
        used = GaugeMetricFamily(
            PREFIX + "ratelimit_used_per_minute", "Requests or tokens per minute.", labels=labels
        )
        limit = GaugeMetricFamily(
            PREFIX + "ratelimit_limit_per_minute", "The rate limit per minute.", labels=labels
        )
        for c in snap.classes[:MAX_MODELS]:
            for d in c.dimensions:
                key = [clip(c.model_class), d.name]
                used.add_metric(key, d.used)
                if d.limit:
                    limit.add_metric(key, d.limit)
                if d.ratio is not None:
                    ratio.add_metric(key, d.ratio)
        yield from (ratio, used, limit)

    def _sources(self) -> Iterator[Metric]:
        if self.health is None:
            return
        rule = self._rule("source")
        grace = rule.threshold if rule is not None else float("inf")
        wall = self.wall()
        problems = source_problems(self.health, wall, grace)
        bad = {p.path for p in problems}
        up = GaugeMetricFamily(
            PREFIX + "source_up",
            "1 while a source reads well, 0 while the source rule reports it.",
            labels=["source"],
        )
        since = GaugeMetricFamily(
            PREFIX + "source_state_since_timestamp_seconds",
            "When the source entered its state.",
            labels=["source", "state"],
        )
        for s in sorted(self.health.statuses, key=lambda s: s.path):
            up.add_metric([clip(s.path)], 0.0 if s.path in bad else 1.0)
            since.add_metric([clip(s.path), s.state], s.since)
        reader = GaugeMetricFamily(
            PREFIX + "reader_up", "1 while the reader thread runs and makes progress."
        )
        reader.add_metric([], 0.0 if "" in bad else 1.0)
        yield from (up, since, reader)

    def _alerts(self) -> Iterator[Metric]:
        if self.firing is None:
            return
        fam = GaugeMetricFamily(
            PREFIX + "alerts_firing",
            "Alerts firing in claude-top's own evaluation, by rule.",
            labels=["alertname", "severity"],
        )
        counts: dict[tuple[str, str], int] = {
            (r.id, r.severity): 0 for r in self.rules if r.enabled
        }
        for a in self.firing():
            counts[(a.rule, a.severity)] = counts.get((a.rule, a.severity), 0) + 1
        for (rule, severity), n in sorted(counts.items()):
            fam.add_metric([rule, severity], n)
        yield fam


def exposition(collector: Collector) -> str:
    """The text exposition of ``collector`` alone (tests and ``promtool check metrics``)."""
    from prometheus_client import CollectorRegistry, generate_latest

    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    return generate_latest(registry).decode()


def samples(collector: Collector) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of one scrape, by (name, sorted labels)."""
    out: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in collector.collect():
        for s in family.samples:
            labels: Any = tuple(sorted(s.labels.items()))
            out[(s.name, labels)] = s.value
    return out
