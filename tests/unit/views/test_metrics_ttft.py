"""The streamed calls' time to first token as a Prometheus histogram: live streams only (as
every counter), the ``p95_ttft`` threshold always a bucket bound, +Inf the stream count."""

from __future__ import annotations

import json

from msgspec.structs import replace

from claude_top.core.clock import FixedClock
from claude_top.engine.engine import Engine
from claude_top.rules.spec import DEFAULT_RULES
from claude_top.views.metrics import collector as C
from unit.rules.test_alerts import T0, line
from unit.views.test_metrics_collector import collector, total

NAME = "claude_top_time_to_first_token_seconds_bucket"


def streamed(ts: float, ttft: int, feature: str = "voice") -> str:
    return json.dumps({**json.loads(line(ts, feature, latency=9000)), "ttft_ms": ttft})


def test_streams_are_bucketed_by_ttft_and_history_is_not_counted() -> None:
    e = Engine(clock=FixedClock(T0))
    e.ingest_lines([streamed(T0 - 3600, 9000)])  # history: in the engine, in no counter
    c = collector(e)
    c.start_counting()
    e.ingest_lines([streamed(T0 - 30, 800), streamed(T0 - 20, 7000), line(T0 - 10, "voice")])
    s = C.samples(c)
    assert total(s, NAME, feature="voice", le="+Inf") == 2  # streams, not calls
    assert total(s, NAME, feature="voice", le="1.0") == 1
    assert total(s, NAME, feature="voice", le="5.0") == 1  # the rule's threshold
    assert total(s, NAME, feature="voice", le="10.0") == 2
    assert not any(n.endswith("first_token_seconds_sum") for n, _ in s)


def test_the_ttft_threshold_is_a_bucket_bound() -> None:
    rules = [replace(r, threshold=3_250.0) if r.id == "p95_ttft" else r for r in DEFAULT_RULES]
    assert 3_250.0 in C.latency_bounds_ms(rules, "p95_ttft")
    e = Engine(clock=FixedClock(T0))
    c = collector(e, rules=rules)
    c.start_counting()
    e.ingest_lines([streamed(T0 - 5, 1000)])
    assert 'le="3.25"' in C.exposition(c)  # no latency bound is 3.25 s: this is TTFT's
