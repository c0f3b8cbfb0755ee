"""An engine without minute rows answers a whole read as one with them.

A one-shot ``summary`` keeps its group rows per UTC day from the start
(``Engine(whole_read=True)``): every answer it gives is over the whole read, its bounds
filter at ingest, and a day's row is the sum of its minutes' rows, priced on the same date. Here both engines
read the same arbitrary lines (both ingest paths: common lines, errors and 429s, rate-limit
headers, the tracker's last minutes, streamed calls, the app's own cost, server tools, lines
out of time order, foreign and rejected lines), in random batches with compactions between
(which settle the old days in place, so later lines reopen them), and once through a split
read whose other half is absorbed in the middle. Every answer must be the same: per feature,
model and user, the total, the side stores, the line counts and the events. A window that cuts
a day is refused, not answered from the whole day.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import msgspec
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claude_top.core.clock import FixedClock
from claude_top.core.histogram import LatencyHistogram
from claude_top.engine.engine import Engine
from loggen import T0, call

NOW = T0 + 4 * 86400
FEATURES = ["chat", "Search", "doc_summary"]
MODELS = ["claude-sonnet-4-6", "claude-sonnet-4-5", "claude-haiku-4-5", "mystery-model"]


def _extras(kind: int) -> dict[str, Any]:
    if kind == 1:
        return {"error": "RateLimitError", "error_status": 429}
    if kind == 2:
        return {"error": "APIError", "error_status": 500}
    if kind == 3:
        return {"ratelimit_requests_remaining": 7, "ratelimit_tokens_remaining": 900}
    if kind == 4:
        return {"ttft_ms": 350, "cost_usd": 0.0125}
    if kind == 5:
        return {"web_search_requests": 2, "web_fetch_requests": 1}
    if kind == 6:
        return {"stop_reason": "max_tokens", "user_id": ""}
    return {}


def calls_at(times: st.SearchStrategy[float]) -> st.SearchStrategy[bytes]:
    return st.builds(
        lambda ts, feature, model, tokens, lat, kind, user: orjson.dumps(
            call(
                ts,
                **{
                    "feature": feature,
                    "model": model,
                    "input_tokens": tokens[0],
                    "output_tokens": tokens[1],
                    "cached_tokens": tokens[2],
                    "latency_ms": lat,
                    "user_id": user,
                    **_extras(kind),
                },
            )
        ),
        times,
        st.sampled_from(FEATURES),
        st.sampled_from(MODELS),
        st.tuples(st.sampled_from([0, 5, 250_000]), st.integers(0, 5000), st.sampled_from([0, 64])),
        st.one_of(st.integers(1, 20_000), st.sampled_from([0, 4_000_000])),
        st.integers(0, 9),
        st.sampled_from(["u1", "u2", "Ann"]),
    )


few_days = st.sampled_from([T0, T0 + 900, T0 + 86400]).flatmap(lambda q: st.floats(q, q + 899))
"""A few quarter hours of two days, so that lines of different batches and halves meet in
the same rows."""
calls = calls_at(
    st.one_of(
        st.floats(T0, NOW - 1, allow_nan=False),  # mostly old: days that settle
        st.floats(NOW - 900, NOW - 1, allow_nan=False),  # the tracker's last minutes
        few_days,
    )
)
lines = st.one_of(calls, calls, calls, st.sampled_from([b"[1,2,3]", b"INFO:root:started", b"{"]))
windows = st.sampled_from(
    [(None, None), (T0 + 86400 + 7, None), (None, NOW - 4000.5), (T0 + 30, T0 + 2 * 86400 + 61)]
)
steps = st.lists(st.tuples(st.lists(lines, max_size=30), st.booleans()), min_size=1, max_size=5)


def plain(x: Any) -> Any:
    """Answers as values: a histogram by its counts, dataclasses and structs as dicts."""
    if isinstance(x, LatencyHistogram):
        return sorted(x.counts.items())
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return {f.name: plain(getattr(x, f.name)) for f in dataclasses.fields(x)}
    if isinstance(x, msgspec.Struct):
        return {k: plain(v) for k, v in msgspec.structs.asdict(x).items()}
    if isinstance(x, dict):
        return {k: plain(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [plain(v) for v in x]
    return x


def answers(e: Engine) -> dict[str, Any]:
    """Everything a one-shot ``summary`` prints, and the counts and events beside it."""
    by = {b: e.query(by=b) for b in ("feature", "model", "user")}
    lines = e.lines
    return plain(
        {
            "by": by,
            "per_user": e.query(by="feature", per_user=True),
            "total": e.total(None, None),
            "side": [
                f(None, None, by=b)
                for f in (e.streaming, e.app_costs, e.server_tools)
                for b in ("feature", "model")
            ],
            "lines": (lines.records, lines.foreign, lines.rejected, dict(lines.by_reason)),
            "times": (e.newest_ts, e.oldest_ts, e.out_of_window),
            "events": list(e.rate_limit_events),
            "errors": {k: list(v) for k, v in e.recent_errors.items()},
        }
    )


def pair(window: tuple[float | None, float | None]) -> tuple[Engine, Engine]:
    since, until = window
    return tuple(  # type: ignore[return-value]
        Engine(clock=FixedClock(NOW), since=since, until=until, whole_read=not m)
        for m in (True, False)
    )


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(steps, windows)
def test_a_whole_read_engine_answers_as_a_full_one(
    batches: list[Any], window: tuple[float | None, float | None]
) -> None:
    minutes, days = pair(window)
    for batch, compact in batches:
        for e in (minutes, days):
            e.ingest_lines(batch)
            if compact:
                e.compact()
        for batch_again, _ in batches[:1]:  # late lines, into days settled by now
            for e in (minutes, days):
                e.ingest_lines(batch_again)
        assert answers(days) == answers(minutes)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(*[st.lists(st.one_of(calls_at(few_days), lines), max_size=40)] * 3)
def test_a_split_read_of_day_rows_answers_as_one_read(
    first: list[bytes], second: list[bytes], third: list[bytes]
) -> None:
    """The two-core read: a worker's half, compacted (its old days settled) and absorbed,
    then more lines that may fall into the days it brought."""
    second = [*second, orjson.dumps(call(NOW - 100))]  # the worker's old days settle
    whole = Engine(clock=FixedClock(NOW))
    whole.ingest_lines([*first, *second, *third])
    split, worker = (Engine(clock=FixedClock(NOW), whole_read=True) for _ in range(2))
    split.ingest_lines(first)
    worker.ingest_lines(second)
    worker.compact()
    split.absorb_state(worker.export_state())
    split.ingest_lines(third)
    split.compact()
    got, want = answers(split), answers(whole)
    # The worker's lines are numbered from its own 1 (a real split passes the offset), and
    # the recent errors and 429 events are in merge order: compare those as sets.
    for d in (got, want):
        d["events"] = sorted(map(repr, d["events"]))
        d["errors"] = {k: sorted(map(repr, v)) for k, v in d["errors"].items()}
    assert got == want


def test_a_window_that_cuts_a_day_is_refused() -> None:
    e = Engine(clock=FixedClock(NOW), whole_read=True)
    e.ingest_lines([orjson.dumps(call(NOW - 3000))])
    # On UTC midnights, counters and costs are answered; latency only over the whole read,
    # as each key keeps one histogram for all of it.
    assert e.query(NOW - 86400, NOW, latency=False).total.calls == 1
    assert e.span_cost(NOW - 86400, NOW).total.calls == 1
    assert e.query().total.latency is not None
    for start, end in ((NOW - 900, NOW), (NOW - 86400, NOW - 3600), (NOW - 90000, None)):
        with pytest.raises(
            RuntimeError, match="whole read only"
        ):  # a quarter hour or an hour: no more
            e.query(start, end, latency=False)
    for ask in (
        lambda: e.query(NOW - 3600, NOW),
        lambda: e.total(None, NOW),
        lambda: e.query(NOW - 86400, None, by="model"),
        lambda: e.traffic(NOW - 3600, NOW, 900),
        lambda: e.series(NOW - 3600, NOW, 900, metric="p95"),
    ):
        with pytest.raises(RuntimeError, match="whole read only"):
            ask()
    asks = ("query", "total", "streaming", "app_costs", "server_tools", "span_cost")
    for start, end in ((NOW - 600, None), (None, NOW - 60), (NOW - 3600, NOW - 30)):
        for ask in asks:
            with pytest.raises(RuntimeError, match="whole read only"):
                getattr(e, ask)(start, end)
    for ask in (  # its users are one bucket: no day of theirs is kept apart
        lambda: e.query(NOW - 86400, None, by="user"),
        lambda: e.query(None, NOW - 86400, by="feature", per_user=True),
        lambda: e.top_users(NOW, 5),
    ):
        with pytest.raises(RuntimeError, match="whole read only"):
            ask()


def test_a_late_line_reopens_a_settled_day() -> None:
    """A line a day late goes into a settled day: counted, its histogram writable."""
    lines = [orjson.dumps(call(T0 + 600 * i, latency_ms=100 + i)) for i in range(180)]
    minutes, days = pair((None, None))
    for e in (minutes, days):
        e.ingest_lines(lines)
        e.compact()
    assert T0 in days.agg.groups.settled  # the closed day is settled in place
    late = [orjson.dumps(call(T0 + 5, latency_ms=9000)), orjson.dumps(call(T0 + 7, error="x"))]
    for e in (minutes, days):
        e.ingest_lines(late)
    assert T0 not in days.agg.groups.settled
    assert answers(days) == answers(minutes)
    assert days.query().total.calls == 182


def test_rows_taken_from_a_worker_write_into_the_keys_histogram() -> None:
    """A day only the worker read, of a key both read: a line into it after the
    absorb counts in the key's one histogram, not in the worker's own copy."""
    whole = Engine(clock=FixedClock(NOW))
    split, worker = (Engine(clock=FixedClock(NOW), whole_read=True) for _ in range(2))
    first = [orjson.dumps(call(T0 + 60, latency_ms=100))]
    second = [orjson.dumps(call(T0 + 86400, latency_ms=200))]
    third = [orjson.dumps(call(T0 + 86400 + 30, latency_ms=9000))]
    whole.ingest_lines([*first, *second, *third])
    split.ingest_lines(first)
    worker.ingest_lines(second)
    split.absorb_state(worker.export_state())
    split.ingest_lines(third)
    assert answers(split)["by"] == answers(whole)["by"]
    assert split.query().total.latency.percentile(100) >= 9000
