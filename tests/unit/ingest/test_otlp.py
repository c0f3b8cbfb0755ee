"""OTLP/JSON spans flattened for the ``otel-genai`` preset, and the reader's verdict per span."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import given
from hypothesis import strategies as st

from claude_top.core.record import Record
from claude_top.core.stats import LineStats
from claude_top.ingest import otlp
from claude_top.ingest.mapping import PRESET_MAPPINGS
from claude_top.ingest.reader import (
    Many,
    Rejected,
    Unmapped,
    decode_batch,
    mapped_judge,
    parse_line,
    timestamp_of,
)

JUDGE = mapped_judge(PRESET_MAPPINGS["otel-genai"])


def kv(key: str, **value: Any) -> dict[str, Any]:
    return {"key": key, "value": value}


def span(n: int, **extra: Any) -> dict[str, Any]:
    return {
        "traceId": "ab" * 16,
        "spanId": f"{n:016x}",
        "name": "chat",
        "startTimeUnixNano": "1795773600000000000",  # 2026-11-27T10:00:00Z
        "endTimeUnixNano": "1795773601250000000",  # 1.25 s later
        "attributes": [
            kv("gen_ai.request.model", stringValue="claude-haiku-4-5"),
            kv("app.feature", stringValue="f"),
            kv("gen_ai.usage.input_tokens", intValue="1000"),
            kv("gen_ai.usage.output_tokens", intValue=str(n)),
        ],
        **extra,
    }


def export(*spans: dict[str, Any]) -> bytes:
    return orjson.dumps({"resourceSpans": [{"scopeSpans": [{"spans": list(spans)}]}]})


def test_any_values_unwrap() -> None:
    attrs = otlp.attributes(
        [
            kv("s", stringValue="x"),
            kv("i", intValue="-12"),
            kv("d", doubleValue=1.5),
            kv("b", boolValue=True),
            kv("a", arrayValue={"values": [{"stringValue": "stop"}, {"intValue": 3}]}),
            kv("k", kvlistValue={"values": [kv("inner", intValue="7")]}),
            kv("empty"),
            kv("huge", intValue="9" * 5000),
            {"key": 3},
            "junk",
        ]
    )
    assert attrs == {
        "s": "x",
        "i": -12,
        "d": 1.5,
        "b": True,
        "a": ["stop", 3],
        "k": {"inner": 7},
        "empty": None,
        "huge": "9" * 5000,
    }


def test_times_and_status() -> None:
    flat = otlp.flatten(span(1, status={"code": 2, "message": "boom"}), {})
    assert flat["start_time"] == "2026-11-27T10:00:00+00:00"
    assert flat["end_time"] == "2026-11-27T10:00:01.250000+00:00"
    assert flat["status"] == {"status_code": "ERROR", "description": "boom"}
    assert (
        otlp.flatten(span(1, status={"code": "STATUS_CODE_OK"}), {})["status"]["status_code"]
        == "OK"
    )
    assert otlp.iso_time("not a time") == "not a time"
    assert otlp.iso_time(2**70) == str(2**70)  # past year 9999: left for the reader to reject
    assert otlp.iso_time("9" * 21) == "9" * 21  # no int64: passed on as it is
    assert otlp.iso_time("9" * 19) == "2286-11-20T17:46:39.999999+00:00"


def test_a_line_of_n_spans_is_n_verdicts() -> None:
    http = {"name": "GET /", "attributes": [kv("http.route", stringValue="/")]}
    got = parse_line(export(span(1), http, span(2)), 0, JUDGE)
    assert type(got) is Many
    kinds = [type(v).__name__ for v in got.verdicts]
    assert kinds == ["Record", "NoneType", "Record"]
    recs = [v for v in got.verdicts if isinstance(v, Record)]
    assert [r.output_tokens for r in recs] == [1, 2]
    assert recs[0].latency_ms == 1250
    stats = LineStats()
    out = decode_batch([export(span(1), http, span(2))], "x", 1, stats, JUDGE)
    assert (len(out), stats.records, stats.foreign) == (2, 2, 1)
    assert timestamp_of(export(http, span(3)), JUDGE) == 1795773600.0


def test_native_format_finds_genai_spans_unmapped_and_an_empty_export_foreign() -> None:
    got = parse_line(export(span(1)))
    assert got == Many([Unmapped("otel-genai")])
    assert parse_line(b'{"resourceSpans": []}') is None
    assert parse_line(b'{"resourceSpans": [{"scopeSpans": [{"spans": []}]}]}') is None


def test_a_bad_span_is_rejected_alone() -> None:
    bad = span(2, startTimeUnixNano="yesterday")
    got = parse_line(export(span(1), bad), 0, JUDGE)
    assert type(got) is Many
    assert isinstance(got.verdicts[0], Record)
    assert got.verdicts[1] == Rejected("bad start_time")


values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.text(max_size=8)
    | st.floats(),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)
keys = st.sampled_from(
    ["resourceSpans", "scopeSpans", "spans", "attributes", "key", "value", "intValue",
     "stringValue", "arrayValue", "values", "startTimeUnixNano", "status", "code",
     "gen_ai.usage.input_tokens", "gen_ai.request.model"]
)  # fmt: skip
shaped = st.recursive(
    values,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=30,
)


@given(shaped)
def test_no_export_can_crash_the_reader(body: Any) -> None:
    raw = orjson.dumps({"resourceSpans": body})
    for judge in (None, JUDGE):
        stats = LineStats()
        decode_batch([raw], "x", 1, stats, judge)
        counted = stats.records + stats.foreign + stats.rejected + stats.unmapped
        assert counted >= 1  # every line is counted, at least once
        assert stats.by_reason.get("internal error", 0) == 0


any_values = st.one_of(
    st.fixed_dictionaries({"stringValue": st.text(max_size=12)}),
    st.fixed_dictionaries({"intValue": st.one_of(st.text(max_size=22), st.integers())}),
    st.fixed_dictionaries({"doubleValue": st.floats()}),
    st.fixed_dictionaries({"boolValue": st.booleans()}),
    st.fixed_dictionaries({"arrayValue": values}),
    values,
)
genai_keys = st.sampled_from(
    ["gen_ai.request.model", "gen_ai.response.model", "gen_ai.usage.input_tokens",
     "gen_ai.usage.output_tokens", "gen_ai.usage.cache_read.input_tokens",
     "gen_ai.usage.cache_creation.input_tokens", "gen_ai.response.finish_reasons",
     "error.type", "app.feature", "user.id", "http.response.status_code"]
)  # fmt: skip


@given(
    st.lists(st.tuples(genai_keys, any_values), max_size=8),
    st.one_of(st.text(max_size=25), st.integers(-5, 2**70), st.none()),
    st.one_of(st.none(), st.fixed_dictionaries({"code": values})),
)
def test_no_genai_span_can_crash_the_reader(attrs: list[Any], start: Any, status: Any) -> None:
    """Whatever a GenAI span's attributes, times and status hold, each span gets one verdict."""
    s = span(1, status=status, startTimeUnixNano=start)
    s["attributes"] += [{"key": k, "value": v} for k, v in attrs]
    try:
        raw = orjson.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [s, s]}]}]})
    except TypeError:  # an integer JSON cannot carry: no line to read
        return
    for judge in (None, JUDGE):
        stats = LineStats()
        decode_batch([raw], "x", 1, stats, judge)
        assert stats.records + stats.foreign + stats.rejected + stats.unmapped == 2
        assert stats.by_reason.get("internal error", 0) == 0
