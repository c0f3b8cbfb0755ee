"""Settled coarse rows (``TieredStore.settle``) against plain ones: the same answers, always.

Rows that move up a tier keep their latency histogram as a ``histogram.Settled`` and share
their key objects, to save memory; a row that takes more counts later (a late line's minute
compacted into it, two engines joined) gets a dict again. Over arbitrary calls written in
random batches, with late lines into settled buckets and compactions between, an engine whose
group store settles and one whose store does not must hold the same counts in every bucket
and answer every window with the same numbers and the same latency counts; and so must two
such engines joined as the two-core split joins them.
"""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from msgspec.structs import replace

from claude_top.core.clock import FixedClock
from claude_top.core.histogram import Settled
from claude_top.engine import store as B
from claude_top.engine.engine import Engine
from loggen import T0, call

DAY = 86400
NOW = T0 + 3 * DAY

calls = st.builds(
    lambda ts, feature, model, inp, latency, err: call(
        ts,
        feature=feature,
        model=model,
        input_tokens=inp,
        latency_ms=latency,
        error="APIError" if err else None,
        error_status=500 if err else None,
    ),
    st.floats(T0, NOW - 1, allow_nan=False),
    st.sampled_from(["chat", "Search", "doc_summary"]),
    st.sampled_from(["claude-sonnet-4-6", "claude-haiku-4-5", "mystery-model"]),
    st.sampled_from([0, 1, 999, 250_000]),
    st.sampled_from([0, 1, 37, 255, 256, 300, 1234, 99_999]),
    st.booleans(),
)
spans = st.tuples(
    st.one_of(st.none(), st.floats(T0 - DAY, NOW, allow_nan=False)),
    st.one_of(st.none(), st.sampled_from([600.0, 3600.0, DAY])),
)
step = st.tuples(st.lists(calls, max_size=30), st.booleans(), st.lists(spans, min_size=1))


def plain(e: Engine) -> Engine:
    e.agg.groups.settle_row = None
    return e


def store_state(e: Engine) -> list[dict[int, dict[Any, list[Any]]]]:
    """Every group bucket's rows, histograms as dicts (the cost slot is a cache: left out)."""
    return [
        {
            b: {k: [*r[: B.G_HIST], dict(r[B.G_HIST]), r[B.G_ERRTYPES]] for k, r in rows.items()}
            for b, rows in t.buckets.items()
        }
        for t in e.agg.groups.tiers
    ]


def answers(e: Engine, start: float | None, end: float | None) -> Any:
    q = e.query(start, end)
    groups = {
        n: (replace(g, latency=None), g.latency and g.latency.counts) for n, g in q.groups.items()
    }
    lat = q.total.latency
    return replace(q.total, latency=None), lat and lat.counts, groups


def settled_rows(e: Engine) -> int:
    return sum(
        type(r[B.G_HIST]) is Settled
        for t in e.agg.groups.tiers[1:]
        for rows in t.buckets.values()
        for r in rows.values()
    )


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(step, min_size=1, max_size=6), st.lists(calls, max_size=20))
def test_settled_rows_answer_as_plain_rows(steps: list[Any], other: list[Any]) -> None:
    new, old = Engine(clock=FixedClock(NOW)), plain(Engine(clock=FixedClock(NOW)))
    asked: list[tuple[float | None, float | None]] = []
    for batch, compact, span_list in steps:
        for e in (new, old):
            e.ingest_lines([orjson.dumps(c) for c in batch])
            if compact:
                e.compact()
        assert store_state(new) == store_state(old)
        for start, length in span_list:
            end = None if start is None or length is None else start + length
            asked.append((start, end))
        for start, end in asked:
            assert answers(new, start, end) == answers(old, start, end)
    # Joined with another engine's settled rows, as the two-core split joins its halves.
    for e in (new, old):
        half = Engine(clock=FixedClock(NOW))
        half.ingest_lines([orjson.dumps(c) for c in other])
        half.compact()
        e.absorb_state(half.export_state())
        e.compact()
    assert store_state(new) == store_state(old)
    for start, end in [*asked, (None, None)]:
        assert answers(new, start, end) == answers(old, start, end)


def test_a_compaction_settles_the_rows_it_moves() -> None:
    e = Engine(clock=FixedClock(NOW))
    old = [call(T0 + i * 60.0, latency_ms=300 + i) for i in range(40)]
    e.ingest_lines([orjson.dumps(c) for c in [*old, call(NOW - 60)]])
    e.compact()
    assert settled_rows(e) > 0
    coarse = [k for t in e.agg.groups.tiers[1:] for rows in t.buckets.values() for k in rows]
    assert len({id(k) for k in coarse}) == len(set(coarse))  # one object per distinct key
