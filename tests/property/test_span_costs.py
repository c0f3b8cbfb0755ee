"""The cost-only fold (``engine.span_costs``) against the full window fold, on arbitrary stores.

The cost baseline reads its spans from the cost-only fold, while every other number of a window
comes from the full fold (``window_cache``). Both must give the same calls and, exactly, the same
cost for any span, filter and feature: over arbitrary calls across days and models (unpriced,
long-context and batch ones too), written in random batches, with late lines into buckets whose
sums are already kept (and into settled spans whose sums are kept), compactions between and the
same span asked again after each step (an open span's kept settled part then extends as the live
edge moves, or is dropped by a late line into it); span edges fall on bucket starts too, and some are empty.
"""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claude_top.core.clock import FixedClock
from claude_top.engine.engine import Engine
from claude_top.engine.span_costs import SpanCost
from loggen import T0, call

DAY = 86400
NOW = T0 + 9 * DAY
FEATURES = ["chat", "Search", "doc_summary", "chat-v2"]
MODELS = ["claude-sonnet-4-6", "claude-haiku-4-5", "claude-opus-4-5-20251101", "mystery-model"]
NEEDLES = [None, "chat", "HAIKU", "s", "nothing-matches"]

calls = st.builds(
    lambda ts, feature, model, inp, out, cr, cw, batch, err: call(
        ts,
        feature=feature,
        model=model,
        input_tokens=inp,
        output_tokens=out,
        cached_tokens=cr,
        cache_creation_tokens=cw,
        batch=batch,
        error="APIError" if err else None,
        error_status=500 if err else None,
    ),
    st.floats(T0, NOW - 1, allow_nan=False),
    st.sampled_from(FEATURES),
    st.sampled_from(MODELS),
    st.sampled_from([0, 1, 999, 250_000]),  # 250k input: the long-context price variant
    st.integers(0, 5000),
    st.sampled_from([0, 1024]),
    st.sampled_from([0, 7, 3000]),
    st.booleans(),
    st.booleans(),
)
edges = st.one_of(
    st.none(),
    st.floats(T0 - DAY, NOW + DAY, allow_nan=False),
    # Exactly at a bucket's start (a minute, a coarse bucket, a day), where the bisection's
    # edges lie; equal ends give empty spans.
    st.integers(-24 * 60, 10 * 24 * 60).map(lambda m: T0 + m * 60),
    st.integers(-96, 10 * 96).map(lambda q: T0 + q * 900),
)
spans = st.tuples(edges, edges, st.sampled_from(NEEDLES))
step = st.tuples(st.lists(calls, max_size=30), st.booleans(), st.lists(spans, min_size=1))


def check_span(e: Engine, start: float | None, end: float | None, needle: str | None) -> None:
    fast: SpanCost = e.span_cost(start, end, needle)
    full = e.query(start, end, by="feature", match=needle)
    assert (fast.total.calls, fast.total.cost_usd) == (full.total.calls, full.total.cost_usd)
    assert {n: (c.calls, c.cost_usd) for n, c in fast.features.items()} == {
        n: (g.calls, g.cost_usd) for n, g in full.groups.items()
    }


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(step, min_size=1, max_size=6))
def test_cost_only_fold_equals_the_full_fold(steps: list[Any]) -> None:
    e = Engine(clock=FixedClock(NOW))
    asked: list[tuple[float | None, float | None, str | None]] = []
    for batch, compact, span_list in steps:
        e.ingest_lines([orjson.dumps(c) for c in batch])
        if compact:
            e.compact()
        asked += span_list
        for start, end, needle in asked:  # new spans, and the earlier ones again
            check_span(e, start, end, needle)
    # Day spans, as the baseline asks them, once every step is in.
    for d in range(10):
        check_span(e, T0 + d * DAY, T0 + (d + 1) * DAY, None)
        check_span(e, None, T0 + d * DAY, "chat")
