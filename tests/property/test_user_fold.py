"""The per-user queries against a fold of the per-user rows written out row by row.

A per-user window (``summary --by user``, a feature's users, a filter naming a user) folds
every (user, feature, model) row of its days with ``accumulators.fold_user_rows``, which adds a
row's counters into its group and the window's total in one pass. Here the same numbers come
from the plainest fold: each row priced alone, afresh (``row_units``), and added with
``acc_user`` once into its group and once into the total. Over arbitrary calls (errors, 429s,
every token kind, a tiered and an unpriced model, batch calls, calls without a user, over days
that move into the archive), read in random batches with compactions between, every group and
total must be the same.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claude_top.core.clock import FixedClock
from claude_top.core.stats import Summary
from claude_top.engine.accumulators import acc_user, group_stats, new_acc
from claude_top.engine.engine import Engine
from claude_top.engine.window_cache import USERS_BY_FEATURE, USERS_BY_USER, Spec, row_units
from foldgen import priced_calls
from loggen import T0, call

DAY = 86400
NOW = T0 + 5 * DAY
FEATURES = ["chat", "Search", "doc_summary"]
MODELS = ["claude-sonnet-4-6", "claude-sonnet-4-5", "claude-haiku-4-5", "mystery-model"]
USERS = ["", "u1", "u2", "Ann"]

calls = priced_calls(
    st.floats(T0, NOW - 1, allow_nan=False), FEATURES, MODELS, user_id=st.sampled_from(USERS)
)
windows = st.sampled_from(
    [(None, None), (T0 + DAY, None), (T0 + 2 * DAY, T0 + 3 * DAY), (NOW - DAY, None)]
)
filters = st.tuples(st.sampled_from([None, "u", "chat", "haiku", "nobody"]),
                    st.sampled_from([None, "chat", "Search"]))  # fmt: skip
step = st.tuples(st.lists(calls, max_size=40), st.booleans(), windows, filters)


def reference(
    e: Engine,
    spec: Spec,
    start: float | None,
    end: float | None,
    needle: str | None,
    feature: str | None,
) -> tuple[Any, dict[str, Any]]:
    accs: dict[str, list[Any]] = {}
    total = new_acc()
    for bstart, bucket in e.agg.users.buckets_in(start, end):
        for key, row in bucket.items():
            if feature is not None and key[spec.feature_i] != feature:
                continue
            if needle is not None and not any(needle in k.lower() for k in key[: spec.text_keys]):
                continue
            cost = row_units(e.agg.prices, spec, bstart, key, row)  # afresh, not as kept
            acc = accs.setdefault(key[spec.name_i], new_acc())
            acc_user(acc, row, cost, key[spec.model_i])
            acc_user(total, row, cost, key[spec.model_i])
    groups = {n: group_stats(n, a, None, False) for n, a in accs.items()}
    return group_stats(feature or "*", total, None, False), groups


def same(got: Summary, want: tuple[Any, dict[str, Any]]) -> None:
    total, groups = want
    assert got.groups == groups
    assert got.total == total


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(step, min_size=1, max_size=6))
def test_per_user_queries_equal_the_row_by_row_fold(steps: list[Any]) -> None:
    e = Engine(clock=FixedClock(NOW))
    asked: list[tuple[Any, Any]] = []
    for batch, compact, window, filt in steps:
        e.ingest_lines([orjson.dumps(c) for c in batch])
        if compact:
            e.compact()
        asked.append((window, filt))
        for (start, end), (needle, feature) in asked:  # new windows, and earlier ones again
            same(e.query(start, end, by="user", match=needle),
                 reference(e, USERS_BY_USER, start, end, needle, None))  # fmt: skip
            same(e.query(start, end, by="feature", match=needle, per_user=True),
                 reference(e, USERS_BY_FEATURE, start, end, needle, None))  # fmt: skip
            if feature is not None:
                same(e.users_of_feature(feature, start, end),
                     reference(e, USERS_BY_USER, start, end, None, feature))  # fmt: skip


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(step, min_size=1, max_size=4))
def test_an_engine_without_group_rows_answers_per_user_as_one_with_them(steps: list[Any]) -> None:
    """``summary --by user`` keeps no group rows (``track_groups=False``): its per-user
    answers, line counts, 429 events and recent errors are those of a full engine, over lines
    of both paths (the block path; errors and the tracker's last minutes line by line)."""
    full, lean = Engine(clock=FixedClock(NOW)), Engine(clock=FixedClock(NOW), track_groups=False)
    for batch, compact, (start, end), (needle, _) in steps:
        lines = [orjson.dumps(c) for c in batch] + [b"[1,2,3]", b"INFO:root:started"]
        for e in (full, lean):
            e.ingest_lines(lines)
            if compact:
                e.compact()
        assert lean.query(start, end, by="user", match=needle) == full.query(
            start, end, by="user", match=needle
        )
        assert lean.query(start, end, by="feature", per_user=True) == full.query(
            start, end, by="feature", per_user=True
        )
    assert lean.lines == full.lines
    assert list(lean.agg.rate_limit_events) == list(full.agg.rate_limit_events)
    assert lean.agg.recent_errors.keys() == full.agg.recent_errors.keys()
    assert all(
        list(q) == list(full.agg.recent_errors[f]) for f, q in lean.agg.recent_errors.items()
    )
    assert (lean.agg.newest_ts, lean.agg.oldest_ts) == (full.agg.newest_ts, full.agg.oldest_ts)
    assert not any(t.buckets for t in lean.agg.groups.tiers)


def test_an_engine_without_group_rows_refuses_a_group_query() -> None:
    """Rather than answer from rows it never kept."""
    e = Engine(clock=FixedClock(NOW), track_groups=False)
    e.ingest_lines([orjson.dumps(call(NOW - DAY))])
    assert e.query(by="user").total.calls == 1
    for ask in (lambda: e.query(), lambda: e.total(None, None), lambda: e.counts(None, None)):
        with pytest.raises(RuntimeError, match="no group rows"):
            ask()
