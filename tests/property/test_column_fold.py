"""The column fold of whole group buckets against the plainest fold, row by row.

A window over whole buckets folds their rows a column at a time (``column_fold``): costs from
``ModelPrice.costs`` over token columns, histograms counted per pair. Here every row is priced
alone (``row_units``, afresh, or its kept cost) and added with ``acc_group`` / ``acc_counts``.
Over arbitrary calls (every token kind, a tiered model above its threshold, batch calls, an
unpriced model, errors), read in random batches with compactions between, under a table whose
price changes in the middle of the span (so rows of one key are priced two ways), with and
without kept costs, every accumulator must be the same, slot by slot; and a row's cost from
the columns must be its ``ModelPrice.cost``, rounded as the slow path rounds it.
"""

from __future__ import annotations

import datetime
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claude_top.core.clock import FixedClock
from claude_top.core.timeutil import utc_date
from claude_top.engine.accumulators import acc_counts, acc_group, new_acc
from claude_top.engine.column_fold import fold_buckets
from claude_top.engine.engine import Engine
from claude_top.engine.pricing import PriceTable
from claude_top.engine.window_cache import GROUPS_BY_FEATURE, GROUPS_BY_MODEL, row_units
from foldgen import priced_calls
from loggen import T0

DAY = 86400
NOW = T0 + 4 * DAY
FEATURES = ["chat", "Search", "doc_summary"]
MODELS = ["claude-sonnet-4-6", "claude-sonnet-4-5", "claude-haiku-4-5", "mystery-model"]
PRICES = PriceTable.builtin().with_overrides(
    {"claude-haiku-4-5": {"input": 1.1, "output": 5.3, "effective": "2026-11-22"}}
)
"""A price that changes in the middle of the span: rows of one key on both sides of it."""

calls = priced_calls(
    st.floats(T0, NOW - 1, allow_nan=False),
    FEATURES,
    MODELS,
    latency_ms=st.sampled_from([5, 300, 301, 2500, 9000]),
)
step = st.tuples(st.lists(calls, max_size=40), st.booleans())


def reference(e: Engine, spec: Any, acc_fn: Any) -> dict[str, list[Any]]:
    accs: dict[str, list[Any]] = {}
    for bstart, bucket in e.agg.groups.buckets_in(None, None):
        for key, row in bucket.items():
            cost = row[spec.cost_slot]
            if cost is None:
                cost = row_units(e.agg.prices, spec, bstart, key, row)
            acc = accs.setdefault(key[spec.name_i], new_acc())
            acc_fn(acc, row, cost, key[spec.model_i])
    return accs


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(step, min_size=1, max_size=5), st.booleans(), st.booleans())
def test_column_fold_equals_the_row_by_row_fold(
    steps: list[Any], keep: bool, by_model: bool
) -> None:
    e = Engine(PRICES, clock=FixedClock(NOW), cache_costs=keep)
    spec = GROUPS_BY_MODEL if by_model else GROUPS_BY_FEATURE
    for batch, compact in steps:
        e.ingest_lines([orjson.dumps(c) for c in batch])
        if compact:
            e.compact()
        if keep:  # some rows priced and kept, later ones not yet
            e.query(by="model" if by_model else "feature")
        for acc_fn, with_hist in ((acc_group, True), (acc_counts, False)):
            want = reference(e, spec, acc_fn)
            got: dict[str, list[Any]] = {}
            buckets = e.agg.groups.buckets_in(None, None)
            fold_buckets(
                e.agg.prices, spec.slots, spec.name_i, spec.model_i, buckets, got, keep, with_hist
            )
            assert got == want


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(*[st.integers(0, 3_000_000)] * 5),
        min_size=1,
        max_size=20,
    ),
    st.sampled_from(MODELS[:3]),
    st.integers(0, 3),
    st.dates(datetime.date(2026, 11, 20), datetime.date(2026, 11, 24)),
)
def test_a_column_of_calls_costs_what_each_call_costs(
    rows: list[tuple[int, ...]], model: str, variant: int, day: datetime.date
) -> None:
    price = PRICES.lookup(model, day)
    assert price is not None
    tier, batch = variant >> 1, bool(variant & 1)
    cols = list(zip(*rows, strict=True))
    got = list(price.costs(*cols, tier=tier, batch=batch))
    assert got == [price.cost(*r, tier=tier, batch=batch) for r in rows]
    for d in (day, day + datetime.timedelta(days=1)):  # one epoch: one price
        if PRICES.price_epoch(d) == PRICES.price_epoch(day):
            assert PRICES.lookup(model, d) == price
    assert utc_date(T0 + 2 * DAY) == datetime.date(2026, 11, 22)
