"""Settled rows that share their counters, and folds that share their histograms: same answers.

A coarse row keeps its token and latency counters as the one int object of each value (the
store's table, ``store.settle_group_rows``), and a window's cached merge hands its histograms
out as they are, copying them when it changes (``window_cache._add_groups``, ``_slide``). Over
arbitrary calls written in random batches, with late lines, compactions and queries between, an
engine that shares must answer every reader of rows as one that does not (the folds per feature
and per model, the counters-only fold, the cost-only fold, the series and the state it writes),
and a summary taken before later lines were folded must keep the numbers it had.
"""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from msgspec.structs import replace

from claude_top.core.clock import FixedClock
from claude_top.engine import store as B
from claude_top.engine.engine import Engine
from claude_top.state.db import open_state
from claude_top.state.save import Writer
from loggen import T0, call

DAY = 86400
NOW = T0 + 3 * DAY
SHARED = (B.G_IN, B.G_OUT, B.G_CR, B.G_CW5, B.G_LATSUM)

calls = st.builds(
    lambda ts, feature, model, inp, out, latency, err: call(
        ts,
        feature=feature,
        model=model,
        input_tokens=inp,
        output_tokens=out,
        latency_ms=latency,
        error="APIError" if err else None,
        error_status=500 if err else None,
    ),
    st.floats(T0, NOW - 1, allow_nan=False),
    st.sampled_from(["chat", "Search", "doc_summary", "f-4", "f-5"]),
    st.sampled_from(["claude-sonnet-4-6", "claude-haiku-4-5", "mystery-model"]),
    st.sampled_from([0, 1, 256, 257, 999, 250_000]),
    st.sampled_from([0, 300, 1234]),
    st.sampled_from([1, 255, 300, 1234, 99_999]),
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


def rows(e: Engine) -> list[dict[int, dict[Any, list[Any]]]]:
    """Every group row, histograms as dicts, the kept cost too (the same queries priced it)."""
    return [
        {
            b: {k: [*r[: B.G_HIST], dict(r[B.G_HIST]), *r[B.G_ERRTYPES :]] for k, r in ro.items()}
            for b, ro in t.buckets.items()
        }
        for t in e.agg.groups.tiers
    ]


def readers(e: Engine, start: float | None, end: float | None) -> Any:
    """What every reader of group rows answers over a window."""

    def summary(by: str) -> Any:
        q = e.query(start, end, by=by)
        lat = q.total.latency
        groups = {
            n: (replace(g, latency=None), g.latency and g.latency.counts)
            for n, g in q.groups.items()
        }
        return replace(q.total, latency=None), lat and lat.counts, groups

    lo = T0 if start is None else start
    hi = NOW if end is None else end
    return (
        summary("feature"),
        summary("model"),
        e.counts(start, end),
        e.span_cost(start, end),
        e.span_cost(start, end, "chat"),
        e.series(lo, max(hi, lo + 3600), 3600) if hi > lo else None,
    )


def state_rows(e: Engine) -> dict[str, list[Any]]:
    """The tables of the state ``e`` writes, row by row (the file's clock columns left out)."""
    with tempfile.TemporaryDirectory() as d:
        h = open_state(str(Path(d) / "s.db"), "UTC", lambda _: None)
        assert h is not None
        Writer(h.conn, e, 30.0).commit([])
        h.close()
        conn = sqlite3.connect(Path(d) / "s.db")
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        out = {
            n: sorted(map(repr, conn.execute(f"SELECT * FROM {n}"))) for n in names if n != "meta"
        }
        conn.close()
        return out


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(step, min_size=1, max_size=6))
def test_shared_counters_answer_every_reader_as_plain_rows(steps: list[Any]) -> None:
    new, old = Engine(clock=FixedClock(NOW)), plain(Engine(clock=FixedClock(NOW)))
    asked: list[tuple[float | None, float | None]] = []
    for batch, compact, span_list in steps:
        for e in (new, old):
            e.ingest_lines([orjson.dumps(c) for c in batch])
            if compact:
                e.compact()
        for start, length in span_list:
            asked.append((start, None if start is None or length is None else start + length))
        for start, end in asked:
            assert readers(new, start, end) == readers(old, start, end)
        assert rows(new) == rows(old)
    assert state_rows(new) == state_rows(old)


def test_settled_rows_share_one_object_per_value_and_take_new_counts() -> None:
    e = Engine(clock=FixedClock(NOW))
    lines = [
        call(T0 + i * 60.0, feature=f"f{i % 50}", input_tokens=1234, output_tokens=777)
        for i in range(200)
    ]
    e.ingest_lines([orjson.dumps(c) for c in [*lines, call(NOW - 60)]])
    e.compact()
    coarse = [r for t in e.agg.groups.tiers[1:] for ro in t.buckets.values() for r in ro.values()]
    assert len(coarse) > 100
    for slot in SHARED:
        assert len({id(r[slot]) for r in coarse}) <= len({r[slot] for r in coarse})
    # A late line into a settled row: its own new sums, the other rows as they were.
    late = call(T0 + 60.0, feature="f1", input_tokens=1234, output_tokens=777)
    e.ingest_lines([orjson.dumps(late)])
    e.compact()
    q = e.query(None, None)
    assert q.groups["f1"].input_tokens == 1234 * 5
    assert q.groups["f2"].input_tokens == 1234 * 4
    assert q.total.input_tokens == 1234 * 201 + call(NOW - 60)["input_tokens"]


def test_fine_rows_share_their_counters_after_a_compaction_and_take_new_counts() -> None:
    """The minute rows a compaction leaves where they are share their counters too (the fine
    tier of 500 features is mostly single lines), and ingest still writes them in place."""
    e = Engine(clock=FixedClock(NOW))
    same = {"input_tokens": 1234, "output_tokens": 777, "latency_ms": 4321}
    lines = [call(NOW - 7200 + i * 60.0, feature=f"f{i % 7}", **same) for i in range(40)]
    e.ingest_lines([orjson.dumps(c) for c in lines])
    e.compact()
    fine = [r for ro in e.agg.groups.fine.values() for r in ro.values()]
    assert len(fine) == 40 and not e.agg.groups.tiers[1].buckets  # nothing moved up
    for slot in SHARED:
        assert len({id(r[slot]) for r in fine}) == 1
    late = call(NOW - 7200 + 60.0, feature="f1", input_tokens=1234, output_tokens=777)
    e.ingest_lines([orjson.dumps(late)])
    q = e.query(None, None)
    assert q.groups["f1"].input_tokens == 1234 * 7
    assert q.groups["f2"].input_tokens == 1234 * 6
    assert q.total.input_tokens == 1234 * 41
    assert q.total.latency_sum_ms == 4321 * 40 + late["latency_ms"]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(st.tuples(st.lists(calls, max_size=30), st.booleans()), min_size=2, max_size=6))
def test_a_summary_keeps_its_numbers_while_its_cache_moves_on(steps: list[Any]) -> None:
    """Summaries of open and rolling windows, their latency read only at the end, after later
    batches extended and slid the cached merges they came from, against a fresh engine's."""
    e = Engine(clock=FixedClock(NOW))
    seen: list[bytes] = []
    kept: list[tuple[Any, float | None]] = []
    for i, (batch, compact) in enumerate(steps):
        lines = [orjson.dumps(c) for c in batch]
        seen.extend(lines)
        e.ingest_lines(lines)
        if compact:
            e.compact()
        for start in (None, T0 + i * 3600.0):  # "all", and a window whose start slides
            kept.append((e.query(start, None), start, len(seen)))
    for q, start, n in kept:
        fresh = Engine(clock=FixedClock(NOW))
        fresh.ingest_lines(seen[:n])
        want = fresh.query(start, None)
        lat, want_lat = q.total.latency, want.total.latency
        assert (lat and lat.counts) == (want_lat and want_lat.counts)
        assert q.total.calls == want.total.calls
        for name, g in want.groups.items():
            assert q.groups[name].calls == g.calls
            assert (q.groups[name].latency and q.groups[name].latency.counts) == (
                g.latency and g.latency.counts
            )
