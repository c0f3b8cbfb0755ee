"""Streamed calls' TTFT and output rate: kept per feature and model, through compaction and a
two-core split read's merge."""

from __future__ import annotations

import orjson
import pytest

from claude_top.core.clock import FixedClock
from claude_top.engine.engine import Engine
from loggen import T0, call


def stream_line(t: float, feature: str, ttft: int, out: int, lat: int) -> bytes:
    return orjson.dumps(
        call(t, feature=feature, output_tokens=out, latency_ms=lat) | {"ttft_ms": ttft}
    )


LINES = [
    stream_line(T0, "chat", 200, 300, 1200),  # 300 tokens in 1.0 s: 300/s
    stream_line(T0 + 60, "chat", 400, 100, 900),  # 100 in 0.5 s: 200/s
    stream_line(T0 + 120, "search", 50, 0, 80),  # no output: a TTFT, no rate
    orjson.dumps(call(T0 + 130, feature="chat")),  # not a stream
]


def test_ttft_and_output_rate_per_feature() -> None:
    e = Engine(clock=FixedClock(T0 + 3600))
    e.ingest_lines(LINES)
    total, per = e.streaming()
    assert total.streams == 3 and e.query().total.calls == 4
    assert per["chat"].p50_ttft_ms == pytest.approx(200, rel=0.01)
    assert per["chat"].p95_ttft_ms == pytest.approx(400, rel=0.01)
    assert per["chat"].output_tokens_per_s == pytest.approx(200, rel=0.01)
    assert per["search"].output_tokens_per_s is None
    _, by_model = e.streaming(by="model")
    assert sum(s.streams for s in by_model.values()) == 3
    # A window holds the calls of its minutes only.
    later, _ = e.streaming(T0 + 60, T0 + 120)
    assert later.streams == 1


def test_compaction_and_a_split_reads_merge_keep_them() -> None:
    one = Engine(clock=FixedClock(T0 + 40 * 86400))
    one.ingest_lines(LINES)
    one.compact()
    first, second = Engine(clock=one.clock), Engine(clock=one.clock)
    first.ingest_lines(LINES[:2])
    second.ingest_lines(LINES[2:])
    first.absorb_state(second.export_state())
    for e in (one, first):
        total, per = e.streaming()
        assert total.streams == 3
        assert per["chat"].p95_ttft_ms == pytest.approx(400, rel=0.01)
