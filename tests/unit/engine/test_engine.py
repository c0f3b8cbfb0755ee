"""The engine's numbers against an independent computation over the same calls."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from claude_top.core.clock import FixedClock
from claude_top.engine.engine import Engine
from claude_top.engine.pricing import PriceTable
from loggen import T0, call, line, random_calls

PRICES = PriceTable.builtin()


def exact_pct(values: list[int], p: float) -> int:
    """Nearest-rank percentile, computed the slow obvious way."""
    s = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(s)))
    return s[rank - 1]


def expected_by_feature(calls: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = defaultdict(lambda: defaultdict(float))
    lat: dict[str, list[int]] = defaultdict(list)
    for d in calls:
        f = out[d["feature"]]
        f["calls"] += 1
        f["errors"] += d["error"] is not None
        f["rate_limited"] += d["error_status"] == 429
        f["input"] += d["input_tokens"]
        f["output"] += d["output_tokens"]
        f["cached"] += d["cached_tokens"]
        f["writes"] += d.get("cache_creation_tokens", 0)
        f["max_tokens"] += d["stop_reason"] == "max_tokens"
        lat[d["feature"]].append(d["latency_ms"])
        price = PRICES.lookup(d["model"], date(2026, 11, 20))
        if price is None:
            f["unpriced"] += 1
        else:
            f["cost"] += (
                d["input_tokens"] * price.rates.input
                + d["cached_tokens"] * price.rates.cache_read
                + d.get("cache_creation_tokens", 0) * price.rates.cache_write_5m
                + d["output_tokens"] * price.rates.output
            ) / 1e6
    for name, values in lat.items():
        for p in (50, 95, 99):
            out[name][f"p{p}"] = exact_pct(values, p)
    return out


def load(calls: list[dict[str, Any]], **kw: Any) -> Engine:
    e = Engine(PRICES, FixedClock(T0 + 10 * 86400), **kw)
    e.ingest_lines([orjson.dumps(d) for d in calls])
    return e


@pytest.mark.parametrize("compact", [False, True])
def test_matches_independent_computation(compact: bool) -> None:
    calls = random_calls(5000, seed=3, span=2 * 86400)
    e = load(calls)
    if compact:
        e.compact()  # the clock is days ahead: everything moves to coarse buckets
    got = e.query(by="feature")
    want = expected_by_feature(calls)
    assert set(got.groups) == set(want)
    for name, w in want.items():
        g = got.groups[name]
        assert g.calls == w["calls"]
        assert g.errors == w["errors"]
        assert g.rate_limited == w["rate_limited"]
        assert g.input_tokens == w["input"] and g.output_tokens == w["output"]
        assert g.cache_read_tokens == w["cached"] and g.cache_write_5m_tokens == w["writes"]
        assert g.max_tokens_stops == w["max_tokens"]
        assert g.unpriced_calls == w["unpriced"]
        assert g.cost_usd == pytest.approx(w["cost"], rel=1e-9)
        for p in (50, 95, 99):
            exact = w[f"p{p}"]
            assert abs(g.latency_pct(p) - exact) <= exact * 0.01, (name, p)
    assert got.total.calls == len(calls)
    assert e.lines.records == len(calls)


def _same(a: Any, b: Any) -> bool:
    fields = (
        "calls",
        "errors",
        "rate_limited",
        "input_tokens",
        "output_tokens",
        "cache_read_tokens",
        "cache_write_5m_tokens",
        "max_tokens_stops",
        "unpriced_calls",
    )
    return all(getattr(a, f) == getattr(b, f) for f in fields) and math.isclose(
        a.cost_usd, b.cost_usd
    )


def test_windows_are_minute_aligned() -> None:
    e = load([call(T0 + 30), call(T0 + 90), call(T0 + 150)])
    assert e.query(T0, T0 + 60).total.calls == 1
    assert e.query(T0 + 60, T0 + 180).total.calls == 2
    # a bucket belongs to a window when its minute starts inside it
    assert e.query(T0 + 1, T0 + 180).total.calls == 2


def test_out_of_order_lands_in_its_own_bucket() -> None:
    e = load([call(T0 + 3600), call(T0), call(T0 + 7200), call(T0 + 10)])
    assert e.query(T0, T0 + 60).total.calls == 2
    assert e.newest_ts == T0 + 7200 and e.oldest_ts == T0


def test_since_until_filter_at_ingest() -> None:
    e = load([call(T0 + i * 3600) for i in range(10)], since=T0 + 3600, until=T0 + 5 * 3600)
    assert e.query().total.calls == 4
    assert e.lines.records == 10 and e.out_of_window == 6


def test_lines_counted_in_exactly_one_class() -> None:
    e = load([])
    e.ingest_lines(
        [line(T0), b"INFO:httpx:hello", b"", b'{"latency_ms": "x"}', b"\xff\xfe", line(T0)[:-5]]
    )
    assert (e.lines.records, e.lines.foreign, e.lines.rejected) == (1, 3, 2)
    assert e.lines.lines == 6
    assert sum(e.lines.by_reason.values()) == 2


def test_unknown_model_is_unpriced_not_free() -> None:
    e = load([call(T0, model="claude-future-9"), call(T0)])
    t = e.query().total
    assert t.unpriced_calls == 1 and t.unpriced_models == ("claude-future-9",)
    assert t.cost_usd > 0


def test_latency_clamped_and_counted() -> None:
    e = load([call(T0, latency_ms=0), call(T0, latency_ms=5_000_000), call(T0)])
    g = e.query().total
    assert g.latency_clamped == 2
    assert g.latency is not None and g.latency.max() <= 3_600_000 * 1.01


def test_tier_and_batch_pricing() -> None:
    # claude-sonnet-4-5 above 200K prompt tokens: whole request at 6 / 22.50
    big = call(
        T0,
        model="claude-sonnet-4-5",
        input_tokens=150_000,
        cached_tokens=60_000,
        output_tokens=1000,
    )
    e = load([big])
    # 150k*6 + 60k*0.6 + 1000*22.5 per MTok
    assert e.query().total.cost_usd == pytest.approx(
        (150_000 * 6 + 60_000 * 0.6 + 1000 * 22.5) / 1e6
    )
    e2 = load([call(T0, batch=True)])
    assert e2.query().total.cost_usd == pytest.approx((1000 * 3 + 200 * 15) / 1e6 * 0.5)


def test_users_and_429_events() -> None:
    e = load(
        [
            call(T0, user_id="a", input_tokens=10),
            call(T0, user_id="b", input_tokens=500),
            call(
                T0 + 5,
                user_id="b",
                error="RateLimitError",
                error_status=429,
                output_tokens=0,
                ratelimit_requests_remaining=0,
                retry_after_s=3,
            ),
        ]
    )
    users = e.query(by="user").groups
    assert users["b"].calls == 2 and users["b"].rate_limited == 1 and users["a"].calls == 1
    ev = e.events_429()
    assert len(ev) == 1 and ev[0].user_id == "b" and ev[0].retry_after_s == 3


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 4_000_000), min_size=1, max_size=300),
    st.sampled_from([50, 90, 95, 99, 100]),
)
def test_histogram_agrees_with_hdrhistogram(values: list[int], p: int) -> None:
    from claude_top.core.histogram import LatencyHistogram, bucket_of, clamp, highest_equivalent

    h = LatencyHistogram.of(values)
    hdr: Any = h.to_hdr()
    # Same bucket layout as HdrHistogram: every value reports as HDR's highest equivalent value.
    for v in values:
        c = clamp(v)
        assert highest_equivalent(bucket_of(c)) == hdr.get_highest_equivalent_value(c)
    assert hdr.get_total_count() == len(values)
    exact = exact_pct([clamp(v) for v in values], p)
    assert abs(h.percentile(p) - exact) <= exact / 100  # type: ignore[operator]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 3 * 3600), st.sampled_from(["a", "b"]), st.booleans()),
        min_size=1,
        max_size=60,
    ),
    st.lists(st.tuples(st.integers(0, 3 * 3600), st.integers(0, 3 * 3600)), max_size=4),
)
def test_cached_windows_equal_fresh_merges(
    writes: list[tuple[int, str, bool]], windows: list[tuple[int, int]]
) -> None:
    """Queries between batches (late lines included) answer as a fresh engine would."""
    live = Engine(PRICES, FixedClock(T0 + 4 * 3600))
    seen: list[bytes] = []
    for i, (offset, feature, query_now) in enumerate(writes):
        raw = line(T0 + offset, feature=feature, user_id=f"u{i % 3}", latency_ms=100 + i)
        live.ingest_lines([raw])
        seen.append(raw)
        if not query_now:
            continue
        fresh = Engine(PRICES, FixedClock(T0 + 4 * 3600))
        fresh.ingest_lines(seen)
        for a, b in [(0, 3 * 3600 + 60), *windows]:
            for by in ("feature", "user"):
                got, want = live.query(T0 + a, T0 + b, by=by), fresh.query(T0 + a, T0 + b, by=by)
                assert {k: g.calls for k, g in got.groups.items()} == {
                    k: g.calls for k, g in want.groups.items()
                }
                assert got.total.latency_sum_ms == want.total.latency_sum_ms


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 7200), st.sampled_from(["a", "b"])), min_size=1, max_size=80),
    st.lists(st.integers(0, 240), min_size=1, max_size=8),
    st.sampled_from([300, 600, 3600]),
)
def test_rolling_windows_slide_like_fresh_merges(
    writes: list[tuple[int, str]], steps: list[int], span: int
) -> None:
    """A rolling window whose start moves on answers as a fresh merge of the same buckets."""
    writes = sorted(writes)
    lines = [
        (
            o,
            line(
                T0 + o,
                feature=f,
                latency_ms=100 + 37 * i,
                model="claude-sonnet-4-6" if i % 3 else "x-unpriced",
            ),
        )
        for i, (o, f) in enumerate(writes)
    ]
    live = Engine(PRICES, FixedClock(T0 + 3 * 3600))
    fed = 0
    now = 3600
    for step in steps:  # refreshes a few minutes apart: the window's start moves on
        now += step
        new = [raw for o, raw in lines[fed:] if o < now]
        live.ingest_lines(new)
        fed += len(new)
        fresh = Engine(PRICES, FixedClock(T0 + 3 * 3600))
        fresh.ingest_lines([raw for _, raw in lines[:fed]])
        start, end = T0 + now - span, T0 + now + 60
        a, b = live.query(start, end), fresh.query(start, end)
        assert _same(a.total, b.total) and a.total.latency_sum_ms == b.total.latency_sum_ms
        assert a.total.unpriced_models == b.total.unpriced_models
        assert {k: (g.calls, g.p95_ms) for k, g in a.groups.items() if g.calls} == {
            k: (g.calls, g.p95_ms) for k, g in b.groups.items() if g.calls
        }


def test_overlong_lines_are_counted_as_rejected() -> None:
    e = load([])
    e.count_overlong("app.log", 7, 5_000_000)
    assert e.lines.rejected == 1 and e.lines.by_reason == {"line too long": 1}
    assert e.lines.examples[-1][:3] == ("app.log", 7, "line too long")


def test_top_users_running_totals_match_the_day_rows() -> None:
    """Today's top users (running totals, kept by ingest) agree with the stored rows."""
    calls = random_calls(2000, seed=9, start=T0, span=86400 - 60)
    e = Engine(PRICES, FixedClock(T0 + 86400 - 1))
    e.ingest_lines([orjson.dumps(d) for d in calls[:1000]])
    e.top_users(T0 + 3600, 5)  # starts the running totals halfway through the day
    e.ingest_lines([orjson.dumps(d) for d in calls[1000:]])
    for by in ("tokens", "cost"):
        top = e.top_users(T0 + 86400 - 1, 50, by=by)
        rows = e.query(T0, T0 + 86400, by="user").groups
        assert len(top) == min(50, len(rows))
        for g in top:
            want = rows[g.name]
            assert (g.calls, g.errors, g.rate_limited, g.total_tokens) == (
                want.calls,
                want.errors,
                want.rate_limited,
                want.total_tokens,
            )
            assert g.cost_usd == pytest.approx(want.cost_usd)
            assert g.unpriced_calls == want.unpriced_calls
        metric = [x.cost_usd if by == "cost" else x.total_tokens for x in top]
        assert metric == sorted(metric, reverse=True)


def test_top_users_asked_again_follow_every_change() -> None:
    """The answer kept between askings (an idle screen's rebuilds) is the one a fresh engine
    gives after each change: new lines, another size, another order, a new running day."""
    now = T0 + 86400 - 1
    calls = random_calls(400, seed=4, start=T0, span=86400 - 60)
    steps = [calls[:200], [call(T0 + 50, user_id="whale", input_tokens=10**6)], calls[200:]]
    e = Engine(PRICES, FixedClock(now))
    seen: list[Any] = []
    for i, step in enumerate(steps):
        e.ingest_lines([orjson.dumps(d) for d in step])
        fresh = Engine(PRICES, FixedClock(now))
        fresh.ingest_lines([orjson.dumps(d) for s in steps[: i + 1] for d in s])
        for n, by in ((5, "tokens"), (5, "tokens"), (3, "cost"), (5, "tokens")):
            got, want = e.top_users(now, n, by=by), fresh.top_users(now, n, by=by)
            # Running totals kept since the first asking sum costs in another order.
            assert [(g.name, g.calls, g.total_tokens) for g in got] == [
                (g.name, g.calls, g.total_tokens) for g in want
            ]
            assert [g.cost_usd for g in got] == pytest.approx([g.cost_usd for g in want])
            got.clear()  # a caller's list is its own
        seen.append(e.top_users(now, 5)[0].name)
    assert seen[1] == "whale"
    e.agg.running = None  # the running day built again (a state's rows came in)
    e.ingest_lines([orjson.dumps(call(T0 + 60, user_id="late", input_tokens=10**7))])
    assert e.top_users(now, 5)[0].name == "late"
    from claude_top.state.session import _clear

    _clear(e)  # a half-loaded state forgotten: no version bump, a new running day
    assert e.top_users(now, 5) == []


def test_instrument_shaped_lines_take_the_fast_path_and_agree() -> None:
    """Lines as the instrument wrapper writes them (1h writes, request ids, rate-limit headers)
    count exactly as the reference reader counts them, headers included."""
    calls = random_calls(1500, seed=13)
    for i, d in enumerate(calls):
        if i % 2:
            d["api_request_id"] = f"req_{i}"
            d["cache_creation_1h_tokens"] = (i * 7) % 900
            d["ratelimit_requests_limit"] = 4000
            d["ratelimit_input_tokens_limit"] = 2_000_000 + i
            d["ratelimit_input_tokens_remaining"] = 1_000_000
        if i % 5 == 0:
            d["batch"] = False  # not a fast-path field: the reader takes it
    fast = load(calls)
    slow = load(calls, fast_decoder=False)
    a, b = fast.query().total, slow.query().total
    assert _same(a, b) and a.cache_write_1h_tokens == b.cache_write_1h_tokens > 0
    assert a.cost_usd == pytest.approx(b.cost_usd)
    assert fast.headroom.limit("sonnet-4", "itpm") == slow.headroom.limit("sonnet-4", "itpm")
    assert fast.headroom.limit("sonnet-4", "itpm")[1] == "headers"


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 7200), st.sampled_from(["a", "b"])), min_size=1, max_size=60),
    st.lists(st.integers(0, 600), min_size=1, max_size=6),
)
def test_cached_series_equal_fresh_series(writes: list[tuple[int, str]], steps: list[int]) -> None:
    """Sparkline counts, cached for settled buckets, equal a fresh engine's (late lines too)."""
    writes = sorted(writes)
    lines = [(o, line(T0 + o, feature=f, error="E" if o % 7 == 0 else None)) for o, f in writes]
    live = Engine(PRICES, FixedClock(T0 + 3 * 3600))
    late: list[bytes] = []
    fed = 0
    now = 1800
    for step in steps:
        now += step
        new = [raw for o, raw in lines[fed:] if o < now]
        live.ingest_lines(new)
        fed += len(new)
        late.append(line(T0 + max(0, now - 900), feature="late"))  # into a settled bucket
        live.ingest_lines(late[-1:])
        fresh = Engine(PRICES, FixedClock(T0 + 3 * 3600))
        fresh.ingest_lines([raw for _, raw in lines[:fed]] + late)
        for metric in ("calls", "errors"):
            a = live.series(T0, T0 + now + 60, 300, metric=metric)
            b = fresh.series(T0, T0 + now + 60, 300, metric=metric)
            assert a == b


def test_lines_that_crashed_ingest_are_classified() -> None:
    """A JSON array, and an epoch far past the year 9999, once stopped ingest with an error."""
    e = load([])
    e.ingest_lines([b"[1]", orjson.dumps(call(T0, timestamp=9007199254740990)), line(T0)])
    assert (e.lines.records, e.lines.foreign, e.lines.rejected) == (1, 1, 1)


def test_an_internal_error_in_the_accumulate_step_rejects_that_record_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from claude_top.core.clock import FixedClock
    from claude_top.engine.engine import Engine
    from loggen import T0, line

    for fast in (True, False):
        engine = Engine(clock=FixedClock(T0 + 3600), fast_decoder=fast)

        def threshold(model: str, real: Any = engine.prices.tier_threshold) -> int | None:
            if model == "boom":
                raise RuntimeError("a bug")
            return real(model)  # type: ignore[no-any-return]

        # monkeypatch, not an assignment: the built-in price table may be shared.
        monkeypatch.setattr(engine.prices, "tier_threshold", threshold)
        engine.ingest_lines([line(T0), line(T0 + 1, model="boom"), line(T0 + 2)])
        s = engine.lines
        assert (s.records, s.foreign, s.rejected) == (2, 0, 1)
        assert s.by_reason == {"internal error": 1}
        assert engine.query().total.calls == 2
        engine.ingest_lines([line(T0 + 3)])
        assert engine.query().total.calls == 3
        monkeypatch.undo()
