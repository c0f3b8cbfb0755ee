"""Merges and chart slots reused from other windows answer as if folded afresh.

A window's cached merge may start from another window's (``WindowCache._reuse``: "all" after
"last 24 h" folds only the buckets before the day), the charts fold a settled slot's rows at
once and keep per-bucket sums for the slots they fold again (``series.TrafficSeries``), and
the sparklines keep the settled part of their counts (``series.Series``).
Over arbitrary calls in random batches (late lines among them), with compactions and the
clock moving between, every window asked in any order must give a fresh cache's numbers, and
every chart slot and sparkline the plainest fold of its buckets' rows, row by row.
"""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claude_top.core.clock import FixedClock
from claude_top.core.histogram import LatencyHistogram, merge_into
from claude_top.core.stats import GroupStats, Summary
from claude_top.engine import store as B
from claude_top.engine.accumulators import COST_UNITS
from claude_top.engine.engine import Engine
from claude_top.engine.series import Series, TrafficSeries
from claude_top.engine.window_cache import GROUPS_BY_FEATURE, WindowCache, cached_cost
from loggen import T0, call

HOUR = 3600
DAY = 86400
NOW = T0 + 3 * DAY

calls = st.builds(
    lambda ago, feature, model, latency, err: (
        ago,
        dict(
            feature=feature,
            model=model,
            latency_ms=latency,
            error="APIError" if err else None,
            error_status=500 if err else None,
        ),
    ),
    st.one_of(
        st.floats(0, 2 * HOUR),  # mostly recent
        st.floats(0, 3 * DAY),  # some late
        st.sampled_from([590.0, 3570.0, 3599.0, 6 * HOUR - 30, DAY - 45, 2 * DAY - 15]),
    ),  # and some just inside a window's first minute
    st.sampled_from(["chat", "Search", "doc_summary"]),
    st.sampled_from(["claude-sonnet-4-6", "claude-haiku-4-5", "mystery-model"]),
    st.sampled_from([1, 255, 300, 1234, 99_999]),
    st.booleans(),
)
SPANS = (None, 600.0, HOUR, 6 * HOUR, DAY, 2 * DAY)
"""Window lengths back from now (None: "all")."""
asks = st.lists(
    st.tuples(
        st.sampled_from(SPANS),
        st.sampled_from([0.0, 0.0, 0.0, 1800.0, 2 * HOUR]),  # how long before now it ends
        st.sampled_from([None, None, "chat", "SONNET"]),
    ),
    min_size=1,
    max_size=8,
)
step = st.tuples(
    st.lists(calls, max_size=25), st.booleans(), st.sampled_from([0.0, 20.0, 61.0, 900.0]), asks
)


def flat(g: GroupStats) -> tuple[Any, ...]:
    lat = g.latency
    return (
        *(getattr(g, f) for f in g.__struct_fields__ if f != "latency"),
        dict(lat.counts) if lat is not None else None,
    )


def flat_summary(s: Summary) -> tuple[Any, ...]:
    return flat(s.total), {n: flat(g) for n, g in s.groups.items()}


def plain_slots(
    e: Engine, start: float, end: float, step: int, match: str | None
) -> list[tuple[float, tuple[int, int, float, int | None]]]:
    """Each slot of the grid from its buckets' rows, one row at a time."""
    first = int(start // step) * step
    out = []
    needle = match.lower() if match else None
    for g in range(first, -(-int(end) // step) * step or first + step, step):
        calls = errors = units = 0
        hist: dict[int, int] = {}
        for bstart, bucket in e.agg.groups.buckets_in(max(g, start), min(g + step, end)):
            for key, row in bucket.items():
                if needle and needle not in key[0].lower() and needle not in key[1].lower():
                    continue
                calls += row[B.G_CALLS]
                errors += row[B.G_ERRORS]
                cost = cached_cost(e.agg.prices, GROUPS_BY_FEATURE, bstart, key, row)
                units += max(cost, 0)
                merge_into(hist, row[B.G_HIST])
        p95 = LatencyHistogram(hist).percentile(95) if hist else None
        out.append((float(max(g, start)), (calls, errors, units / COST_UNITS, p95)))
    return out


def plain_series(
    e: Engine, start: float, end: float, step: int, metric: str
) -> dict[str, list[float]]:
    """Each feature's calls (or errors) per slot, one row at a time."""
    n = max(1, int((end - start + step - 1) // step))
    out: dict[str, list[float]] = {}
    slot_of = B.G_CALLS if metric == "calls" else B.G_ERRORS
    for bstart, bucket in e.agg.groups.buckets_in(start, end):
        for key, row in bucket.items():
            vals = out.setdefault(key[0], [0.0] * n)
            vals[int((bstart - start) // step)] += row[slot_of]
    return out


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(step, min_size=1, max_size=6))
def test_reused_merges_and_slots_answer_as_fresh_folds(steps: list[Any]) -> None:
    clock = FixedClock(NOW)
    e = Engine(clock=clock)
    now = NOW
    for batch, compact, moved, windows in steps:
        now += moved
        clock.set(now)
        e.ingest_lines([orjson.dumps(call(now - ago, **over)) for ago, over in batch])
        if compact:
            e.compact()
        for span, back, match in windows:
            start = None if span is None else now - span
            end = now + 1 - back
            got = e.query(start, end, match=match)
            fresh = WindowCache(e.agg).summary(GROUPS_BY_FEATURE, start, end, match, None)
            assert flat_summary(got) == flat_summary(fresh)
            if start is None:
                start = e.oldest_ts if e.oldest_ts is not None else now - DAY
            if start >= end:
                continue
            step_s = max(60, -(-int(end - start) // 60 // 60) * 60)
            slots = e.traffic(start, end, step_s, match=match)
            assert slots == plain_slots(e, start, end, step_s, match)
            assert slots == TrafficSeries(e.agg).traffic(start, end, step_s, match=match)
            a = start // 60 * 60  # as the sparklines ask (``dashboard._spark_params``)
            spark_s = max(60, -(-int(end - a) // 20 // 60) * 60)
            for metric in ("calls", "errors"):
                spark = e.series(a, end, spark_s, metric=metric)
                assert spark == plain_series(e, a, end, spark_s, metric)
                assert spark == Series(e.agg).series(a, end, spark_s, metric=metric)


def test_a_merge_started_from_another_changes_apart_from_it() -> None:
    """ "all" starts from the day's merge; then both take in new minutes: each as fresh."""
    clock = FixedClock(NOW)
    e = Engine(clock=clock)
    lines = [call(NOW - ago, feature=f"f{i % 3}", error="APIError" if i % 4 else None,
                  error_status=500 if i % 4 else None, model="mystery-model" if i % 5 else
                  "claude-haiku-4-5") for i, ago in enumerate(range(60, 3 * DAY, 1800))]  # fmt: skip
    e.ingest_lines([orjson.dumps(c) for c in lines])
    now = NOW
    for i in range(4):
        for start in (now - DAY, None, now - HOUR):
            got = e.query(start, now + 1)
            fresh = WindowCache(e.agg).summary(GROUPS_BY_FEATURE, start, now + 1, None, None)
            assert flat_summary(got) == flat_summary(fresh)
        now += 120
        clock.set(now)
        e.ingest_lines([orjson.dumps(call(now - 30, feature=f"f{i}", error="APIError",
                                          error_status=500, model="mystery-model"))])  # fmt: skip
