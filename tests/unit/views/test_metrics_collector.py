"""The /metrics collector: counts what is read live, the same numbers as the engine's queries,
histogram buckets summed exactly from the HDR buckets, bounded labels, counters that never fall."""

from __future__ import annotations

from msgspec.structs import replace

from claude_top.core.clock import FixedClock
from claude_top.core.histogram import LatencyHistogram, highest_equivalent
from claude_top.engine.engine import Engine
from claude_top.rules.spec import DEFAULT_RULES
from claude_top.views.metrics import collector as C
from claude_top.views.metrics.counts import Monotone
from claude_top.views.metrics.labels import OTHER, LabelCap, split_error
from unit.rules.test_alerts import T0, errors, line, spread

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def total(samples: Samples, name: str, **match: str) -> float:
    return sum(
        v
        for (n, labels), v in samples.items()
        if n == name and all(dict(labels).get(k) == want for k, want in match.items())
    )


def collector(engine: Engine, **kw: object) -> C.EngineCollector:
    return C.EngineCollector(engine, clock=FixedClock(T0), **kw)  # type: ignore[arg-type]


def test_history_is_not_counted_and_live_calls_match_the_engine() -> None:
    e = Engine(clock=FixedClock(T0))
    e.ingest_lines(spread(50, T0 - 7200, T0 - 3600, feature="rag"))
    c = collector(e)
    assert total(C.samples(c), "claude_top_calls_total") == 0  # not counting yet: no series
    c.start_counting()
    assert total(C.samples(c), "claude_top_calls_total", feature="rag") == 0  # known, at 0
    live = Engine(clock=FixedClock(T0))
    lines = (
        spread(30, T0 - 600, T0, feature="rag", latency=20_000)
        + errors(4, T0 - 600, T0, status=429, feature="chat")
        + errors(2, T0 - 600, T0, status=500, feature="chat")
        + spread(5, T0 - 60, T0, feature="chat", stop="max_tokens", cached=3000)
    )
    e.ingest_lines(lines)
    live.ingest_lines(lines)
    s = C.samples(c)
    want = live.total(None, None)
    assert total(s, "claude_top_calls_total") == want.calls == 41
    assert total(s, "claude_top_errors_total") == want.errors == 6
    assert total(s, "claude_top_errors_total", status="429", type="RateLimitError") == 4
    assert total(s, "claude_top_max_tokens_stops_total") == want.max_tokens_stops
    assert total(s, "claude_top_tokens_total", kind="cache_read") == want.cache_read_tokens
    assert total(s, "claude_top_tokens_total", kind="input") == want.input_tokens
    assert round(total(s, "claude_top_cost_usd_total"), 6) == round(want.cost_usd, 6)  # as summary
    assert total(s, "claude_top_call_duration_seconds_count") == want.calls
    assert total(s, "claude_top_call_duration_seconds_sum") == want.latency_sum_ms / 1000
    assert total(s, "claude_top_lines_total", **{"class": "record"}) == 41


def test_buckets_count_each_hdr_bucket_by_the_value_it_reports() -> None:
    # 15,001 ms is in the HDR bucket 14,976..15,039, which reports 15,039: above 15 s, as check
    # says of a p95 there, so it is not in le="15.0"
    assert highest_equivalent(LatencyHistogram.of([15001]).min() or 0) > 15000
    counts = dict(LatencyHistogram.of([100, 14_900, 15_001, 15_001, 30_000, 200_000]).counts)
    bounds = C.latency_bounds_ms(DEFAULT_RULES)
    cum = dict(zip(bounds, C.cumulative(counts, bounds), strict=True))
    assert cum[100.0] == 1 and cum[15000.0] == 2 and cum[20000.0] == 4
    # 30,000 ms too: its HDR bucket (29,952..30,079) reports 30,079
    assert cum[30000.0] == 4 and cum[60000.0] == 5 and cum[300000.0] == 6
    assert {15000.0, 30000.0, 60000.0, 120000.0} <= set(bounds)


def test_the_p95_threshold_is_always_a_bucket_bound() -> None:
    rules = [replace(r, threshold=17_500.0) if r.id == "p95_latency" else r for r in DEFAULT_RULES]
    assert 17_500.0 in C.latency_bounds_ms(rules)
    e = Engine(clock=FixedClock(T0))
    c = collector(e, rules=rules)
    c.start_counting()
    e.ingest_lines([line(T0 - 5)])
    assert 'le="17.5"' in C.exposition(c)


def test_labels_are_capped_sticky_and_never_move() -> None:
    cap = LabelCap(2)
    cap.admit(["a", "b", "c"])
    assert [cap.label(x) for x in "abc"] == ["a", "b", OTHER]
    assert cap.label("d") == OTHER and cap.label("a") == "a"
    assert split_error("RateLimitError 429") == ("RateLimitError", "429")
    assert split_error("timeout") == ("timeout", "")


def test_features_past_the_cap_are_other_and_totals_still_add_up(monkeypatch: object) -> None:
    import pytest

    mp = pytest.MonkeyPatch()
    mp.setattr(C, "MAX_FEATURES", 3)
    try:
        e = Engine(clock=FixedClock(T0))
        c = collector(e)
        c.start_counting()
        lines = [
            line(
                T0 - 60 + i, feature=f"f{i}", model=("claude-sonnet-4-6", "claude-haiku-4-5")[i % 2]
            )
            for i in range(10)
        ]
        e.ingest_lines(lines)
        s = C.samples(c)
        features = {dict(k[1])["feature"] for k in s if k[0] == "claude_top_calls_total"}
        assert len(features) == 4 and OTHER in features
        assert total(s, "claude_top_calls_total") == 10
        assert total(s, "claude_top_calls_total", feature=OTHER) == 7
        assert round(total(s, "claude_top_cost_usd_total"), 9) == round(
            e.total(None, None).cost_usd, 9
        )
        e.ingest_lines([line(T0 - 1, feature="f1")])  # a named one stays named
        assert total(C.samples(c), "claude_top_calls_total", feature="f1") == 2
    finally:
        mp.undo()


def test_no_user_label_unless_asked() -> None:
    e = Engine(clock=FixedClock(T0))
    e.ingest_lines(spread(5, T0 - 60, T0, user="u_secret"))
    c = collector(e)
    c.start_counting()
    assert "u_secret" not in C.exposition(c)
    c = collector(e, users=3)
    assert 'claude_top_user_tokens_today{user="u_secret"} 6000.0' in C.exposition(c)


def test_a_counter_never_goes_down_within_a_process() -> None:
    high = Monotone()
    assert high("x", (), 1.0) == 1.0
    assert high("x", (), 0.9999999) == 1.0
    assert high("x", (), 2.0) == 2.0


def test_alerts_gauge_has_every_enabled_rule() -> None:
    e = Engine(clock=FixedClock(T0))
    c = collector(e, firing=lambda: [])
    s = C.samples(c)
    assert total(s, "claude_top_alerts_firing") == 0
    assert len([k for k in s if k[0] == "claude_top_alerts_firing"]) == len(DEFAULT_RULES)


def test_unmapped_lines_are_counted_by_the_preset_that_reads_them() -> None:
    e = Engine(clock=FixedClock(T0))
    e.ingest_lines([line(T0 - 60)])
    c = collector(e)
    c.start_counting()
    litellm = (
        '{"model": "claude-haiku-4-5", "prompt_tokens": 10, "completion_tokens": 2, '
        '"startTime": 1764237600.0, "endTime": 1764237601.0, "request_tags": ["chat"], '
        '"status": "success"}'
    )
    e.ingest_lines([litellm, line(T0 - 30)])
    s = C.samples(c)
    assert e.lines.unmapped == 1
    assert total(s, "claude_top_lines_total", **{"class": "unmapped"}) == 1
    assert total(s, "claude_top_unmapped_lines_total", preset="litellm") == 1
    assert total(s, "claude_top_lines_total", **{"class": "record"}) == 1


def test_every_call_series_has_a_host_and_the_hosts_add_up_to_the_engine() -> None:
    from claude_top.engine.hosts import ByHost, hosts_of
    from claude_top.sources.batches import Batch

    sources = ("ssh://web1/var/log/app.log", "ssh://web2:2222/app.log", "/srv/local.log")
    e = Engine(clock=FixedClock(T0))
    split = ByHost(e, hosts_of(sources))
    c = collector(e, hosts=split.engines)
    c.start_counting()
    calls = spread(30, T0 - 600, T0, feature="rag") + errors(6, T0 - 600, T0, status=429)
    for i, source in enumerate(sources):
        split.sink(Batch(source, 1, [x.encode() for x in calls[i::3]]))
    split.sink(Batch("cmd://[k8s] kubectl logs -f app", 1, [calls[0].encode()]))
    s = C.samples(c)
    assert {dict(k).get("host") for (n, k) in s if n == "claude_top_calls_total"} == {
        "web1",
        "web2:2222",
        "local",
        "k8s",
    }
    assert total(s, "claude_top_calls_total") == e.total(None, None).calls == 37
    for host, engine in split.engines.items():
        g = engine.total(None, None)
        assert total(s, "claude_top_calls_total", host=host) == g.calls
        assert total(s, "claude_top_errors_total", host=host, status="429") == g.errors
    assert total(s, "claude_top_calls_total", host="k8s") == 1


def test_one_local_source_is_the_local_host() -> None:
    e = Engine(clock=FixedClock(T0))
    c = collector(e)
    c.start_counting()
    e.ingest_lines(spread(5, T0 - 60, T0, feature="rag"))
    s = C.samples(c)
    assert total(s, "claude_top_calls_total", host="local", feature="rag") == 5
