"""Cached windows (``engine.window_cache``) against a fresh engine, every number compared.

The live tail of a window is shared between windows that end now and those with no end, and its
total's latency histogram is the sum of its groups', added up only when read: so every field of
every group and of the total -- histogram counts, error types, unpriced models, cost -- must be
what the plain definition gives (every row of the window's buckets added to its group and to the
total, nothing cached), between batches, late lines included.
"""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st
from msgspec.structs import fields

from claude_top.core.clock import FixedClock
from claude_top.core.stats import GroupStats, Summary
from claude_top.engine.accumulators import COST_UNITS, acc_group, group_stats, new_acc
from claude_top.engine.engine import Engine
from claude_top.engine.pricing import PriceTable
from claude_top.engine.store import G_COST, U_COST
from claude_top.engine.window_cache import GROUP_SLOTS, row_cost
from claude_top.views.summary import summary_dict
from loggen import T0, line, random_calls

PRICES = PriceTable.builtin()
NOW = T0 + 4 * 3600
MODELS = ("claude-sonnet-4-6", "claude-haiku-4-5", "x-unpriced")


def _whole(g: GroupStats) -> dict[str, Any]:
    out = {f.name: getattr(g, f.name) for f in fields(g)}
    out["latency"] = None if g.latency is None else dict(g.latency.counts)
    out["p95"] = g.p95_ms
    return out


def _plain(e: Engine, start: float | None, end: float | None, by: str) -> Summary:
    """The window by definition: every row of its buckets folded, no cache, no tail."""
    name_i = 0 if by == "feature" else 1
    accs: dict[str, list[Any]] = {}
    total = new_acc()
    for bstart, bucket in e.groups.buckets_in(start, end):
        for key, row in bucket.items():
            c = row_cost(e.agg.prices, key[1], key[2], bstart, row, GROUP_SLOTS)
            cost = round(c * COST_UNITS) if c is not None else -1
            acc_group(accs.setdefault(key[name_i], new_acc()), row, cost, key[1])
            acc_group(total, row, cost, key[1])
    groups = {n: group_stats(n, a, None) for n, a in accs.items()}
    return Summary(start, end, by, group_stats("*", total, None), groups)


def _line(i: int, offset: int, feature: str, model: int, err: bool) -> bytes:
    extra: dict[str, Any] = {}
    if err:
        extra = {"error": "RateLimitError", "error_status": 429, "stop_reason": "error"}
    return line(
        T0 + offset,
        feature=feature,
        model=MODELS[model],
        user_id=f"u{i % 4}",
        latency_ms=90 + 53 * i,
        request_id=f"r{i}",
        **extra,
    )


WINDOWS = ((None, None), (0, None), (3 * 3600, None), (0, 3 * 3600 + 600), (3600, 7200))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 3 * 3600 + 300),
            st.sampled_from(["a", "b", "c"]),
            st.integers(0, len(MODELS) - 1),
            st.booleans(),
            st.booleans(),
        ),
        min_size=1,
        max_size=50,
    ),
    st.integers(0, 3 * 3600 + 300),
)
def test_every_number_of_cached_windows_equals_a_fresh_merge(
    writes: list[tuple[int, str, int, bool, bool]], end: int
) -> None:
    live = Engine(PRICES, FixedClock(NOW))
    for i, (offset, feature, model, err, query_now) in enumerate(writes):
        raw = _line(i, offset, feature, model, err)
        live.ingest_lines([raw])
        if not query_now:
            continue
        windows = [*WINDOWS, (0, end), (end, None)]
        for a, b in windows:
            start = None if a is None else T0 + a
            stop = None if b is None else T0 + b
            for by in ("feature", "model"):
                got, want = live.query(start, stop, by=by), _plain(live, start, stop, by)
                assert _whole(got.total) == _whole(want.total), (a, b, by)
                assert {k: _whole(g) for k, g in got.groups.items()} == {
                    k: _whole(g) for k, g in want.groups.items()
                }
            want = _plain(live, start, stop, "feature")
            assert _whole(live.total(start, stop)) == _whole(want.total)


def test_an_engine_that_keeps_no_costs_answers_the_same_and_leaves_its_rows() -> None:
    """A one-shot ``summary`` (``cache_costs=False``) prices each row without storing it in
    the row: the same answers, per feature, model and user, and no row holds a cost after."""
    calls = random_calls(3000, seed=5, start=T0 - 3 * 86400, span=3 * 86400)
    lines = [orjson.dumps(c) for c in calls]
    kept, lean = Engine(clock=FixedClock(NOW)), Engine(clock=FixedClock(NOW), cache_costs=False)
    for e in (kept, lean):
        e.ingest_lines(lines)
        e.compact()
    window = {"start": None, "end": None, "tz": "UTC", "day": None}
    for by in ("feature", "model", "user"):
        got, want = (summary_dict(e.query(by=by), e.lines, window) for e in (lean, kept))
        assert got == want
    rows = [
        (G_COST, r) for t in lean.agg.groups.tiers for b in t.buckets.values() for r in b.values()
    ]
    rows += [
        (U_COST, r) for t in lean.agg.users.tiers for b in t.buckets.values() for r in b.values()
    ]
    assert rows and all(r[slot] is None for slot, r in rows)
    assert any(r[G_COST] is not None for t in kept.agg.groups.tiers for b in t.buckets.values()
               for r in b.values())  # fmt: skip


def test_a_rolling_window_slides_the_same_when_rows_keep_no_cost() -> None:
    """Sliding a window takes the buckets it left out of the merge, each at its cost: a row
    that keeps none (``cache_costs=False``) is priced again, not left in the window."""
    lines = [_line(i, 30 * i, "abc"[i % 3], i % len(MODELS), i % 7 == 0) for i in range(480)]
    engines = []
    for keep in (True, False):
        clock = FixedClock(T0 + 3 * 3600)
        e = Engine(PRICES, clock, cache_costs=keep)
        e.ingest_lines(lines)
        engines.append((clock, e))
    window = {"start": None, "end": None, "tz": "UTC", "day": None}
    for t in range(int(T0 + 3 * 3600), int(T0 + 4 * 3600), 300):
        answers = []
        for clock, e in engines:
            clock.set(t)
            answers.append(summary_dict(e.query(t - 3600, t), e.lines, window))
        assert answers[0] == answers[1], t
