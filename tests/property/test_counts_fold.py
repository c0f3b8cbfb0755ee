"""The counters-only folds (``Engine.counts``, ``query(latency=False)``) against the full fold.

A frame's totals for costs, 429s and calls without a user, and the alert rules other than the
p95 one, read no percentile: they fold the rows without merging latency histograms (and the
totals without per-group sums). Every other number of theirs must be the full fold's, for any
window: over arbitrary calls written in random batches, with late lines into settled buckets,
compactions between, and rolling windows whose start moves on (their merge is slid, not redone).
"""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from msgspec.structs import replace

from claude_top.core.clock import FixedClock
from claude_top.engine.engine import Engine
from loggen import T0, call

DAY = 86400
NOW = T0 + 3 * DAY
FEATURES = ["chat", "Search", "doc_summary"]
MODELS = ["claude-sonnet-4-6", "claude-haiku-4-5", "mystery-model"]

calls = st.builds(
    lambda ts, feature, model, inp, out, err, user: call(
        ts,
        feature=feature,
        model=model,
        input_tokens=inp,
        output_tokens=out,
        error="RateLimitError" if err == 1 else "APIError" if err == 2 else None,
        error_status=429 if err == 1 else 500 if err == 2 else None,
        user_id=user,
    ),
    st.floats(T0, NOW - 1, allow_nan=False),
    st.sampled_from(FEATURES),
    st.sampled_from(MODELS),
    st.sampled_from([0, 1, 999, 250_000]),
    st.integers(0, 5000),
    st.integers(0, 2),
    st.sampled_from([None, "u1", "u2"]),
)
spans = st.tuples(
    st.one_of(st.none(), st.floats(T0 - DAY, NOW, allow_nan=False)),
    st.one_of(st.none(), st.sampled_from([300.0, 600.0, 3600.0, DAY])),
)
step = st.tuples(st.lists(calls, max_size=30), st.booleans(), st.lists(spans, min_size=1))


def check(e: Engine, start: float | None, end: float | None) -> None:
    full = e.total(start, end)
    assert e.counts(start, end) == replace(full, latency=None)
    q = e.query(start, end)
    c = e.query(start, end, latency=False)
    assert c.total == replace(q.total, latency=None)
    assert c.groups == {n: replace(g, latency=None) for n, g in q.groups.items()}


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(step, min_size=1, max_size=6))
def test_counters_only_folds_equal_the_full_fold(steps: list[Any]) -> None:
    e = Engine(clock=FixedClock(NOW))
    asked: list[tuple[float | None, float | None]] = []
    for batch, compact, span_list in steps:
        e.ingest_lines([orjson.dumps(c) for c in batch])
        if compact:
            e.compact()
        for start, length in span_list:
            end = None if start is None or length is None else start + length
            asked.append((start, end))
        for start, end in asked:  # new windows, and the earlier ones again
            check(e, start, end)
            if start is not None and end is not None:
                for k in (1, 2, 7):  # the same window rolled on: its merge slides
                    check(e, start + 60 * k, end + 60 * k)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(calls, st.booleans()), min_size=1, max_size=60))
def test_a_buckets_costs_priced_at_once_are_each_rows_cost(lines: list[Any]) -> None:
    """``bucket_costs`` looks each model's price up once per bucket (today's running user
    sums): every row's cost must be ``row_cost``'s, unpriced rows None."""
    from claude_top.engine.window_cache import USERS_BY_USER, bucket_costs, row_cost

    e = Engine(clock=FixedClock(NOW))
    e.ingest_lines([orjson.dumps({**c, "batch": b}) for c, b in lines])  # batch: a variant
    spec = USERS_BY_USER
    seen = 0
    for tier in e.agg.users.tiers:
        for bstart, bucket in tier.buckets.items():
            for key, row, cost in bucket_costs(e.prices, spec, bstart, bucket):
                m = spec.model_i
                assert cost == row_cost(e.prices, key[m], key[m + 1], bstart, row, spec.slots)
                seen += 1
    assert seen > 0
