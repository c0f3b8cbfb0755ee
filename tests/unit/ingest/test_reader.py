"""Every shape of line the reader meets, and the promise that each lands in exactly one class."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from claude_top.core.record import Record
from claude_top.core.schema import FIELDS, LIMITS, Kind
from claude_top.core.stats import LineStats
from claude_top.core.timeutil import parse_timestamp
from claude_top.ingest import fast
from claude_top.ingest.reader import (
    R_JSON,
    R_NOT_OBJECT,
    R_TIMESTAMP,
    R_UTF8,
    Rejected,
    parse_line,
)
from loggen import T0, call, line

GOOD = line(T0)


def rec(raw: bytes) -> Record:
    r = parse_line(raw)
    assert isinstance(r, Record), r
    return r


def test_bare_record() -> None:
    r = rec(GOOD)
    assert (r.feature, r.model, r.input_tokens, r.output_tokens, r.latency_ms) == (
        "chat",
        "claude-sonnet-4-6",
        1000,
        200,
        1500,
    )
    assert r.ts == T0
    assert r.error is None and r.user_id == "u1"


@pytest.mark.parametrize(
    "prefix",
    [
        b"INFO:root:",
        b"2026-11-20 00:00:00,123 INFO myapp ",
        b"<14>Nov 20 00:00:00 host app[123]: ",
        b"2026-11-20T00:00:00.000000000Z stdout F ",
    ],
)
def test_prefixes(prefix: bytes) -> None:
    assert rec(prefix + GOOD).feature == "chat"


def test_docker_json_file_wrapper() -> None:
    wrapped = orjson.dumps(
        {"log": GOOD.decode() + "\n", "stream": "stdout", "time": "2026-11-20T00:00:00Z"}
    )
    assert rec(wrapped).latency_ms == 1500


def test_bom_and_crlf() -> None:
    assert rec(b"\xef\xbb\xbf" + GOOD + b"\r").feature == "chat"


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"   ",
        b'INFO:httpx:HTTP Request: POST https://api.anthropic.com/v1/messages "HTTP/1.1 200 OK"',
        b"Traceback (most recent call last):",
        b'  File "app.py", line 3, in <module>',
        b'{"level": "info", "msg": "started"}',
        b"[1, 2, 3]",
    ],
)
def test_foreign(raw: bytes) -> None:
    assert parse_line(raw) is None


def test_invalid_utf8_is_rejected() -> None:
    assert parse_line(GOOD[:-2] + b'\xff\xfe"}') == Rejected(R_UTF8)


def test_truncated_json_is_rejected() -> None:
    assert parse_line(GOOD[:-10]) == Rejected(R_JSON)


@pytest.mark.parametrize(
    ("over", "reason"),
    [
        ({"timestamp": None}, "missing timestamp"),
        ({"timestamp": "yesterday"}, R_TIMESTAMP),
        ({"feature": None}, "missing feature"),
        ({"feature": 7}, "bad feature"),
        ({"input_tokens": "12"}, "bad input_tokens"),
        ({"input_tokens": -1}, "bad input_tokens"),
        ({"output_tokens": True}, "bad output_tokens"),
        ({"latency_ms": "fast"}, "bad latency_ms"),
        ({"error_status": "teapot"}, "bad error_status"),
        ({"error": 5}, "bad error"),
    ],
)
def test_rejections(over: dict[str, object], reason: str) -> None:
    d = call(T0, **over)
    d = {k: v for k, v in d.items() if v is not None or k in ("error", "error_status")}
    assert parse_line(orjson.dumps(d)) == Rejected(reason)


def test_missing_required_field() -> None:
    d = call(T0)
    del d["model"]
    assert parse_line(orjson.dumps(d)) == Rejected("missing model")


def test_aliases_and_optional_fields() -> None:
    d = call(T0)
    del d["cached_tokens"]
    d.update(
        cache_read_input_tokens=300,
        cache_creation_input_tokens=40,
        cache_creation_1h_tokens=5,
        batch=True,
        ratelimit_requests_remaining=0,
        ratelimit_tokens_remaining=12,
        retry_after_s="7",
        unknown_field={"x": 1},
    )
    r = rec(orjson.dumps(d))
    assert (r.cache_read_tokens, r.cache_write_5m_tokens, r.cache_write_1h_tokens) == (300, 40, 5)
    assert r.batch and r.ratelimit_requests_remaining == 0 and r.ratelimit_tokens_remaining == 12
    assert r.retry_after_s == 7.0


def test_status_without_error_name_is_an_error() -> None:
    assert rec(line(T0, error_status=529)).error == "HTTP 529"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-20T00:00:00Z", T0),
        ("2026-11-20T00:00:00+00:00", T0),
        ("2026-11-20T01:00:00+01:00", T0),
        ("2026-11-20T00:00:00", T0),  # naive means UTC
        ("2026-11-20 00:00:00.000", T0),
        (T0, T0),
        (int(T0), T0),
        (T0 * 1000, T0),  # epoch milliseconds
    ],
)
def test_timestamps(value: object, expected: float) -> None:
    assert parse_timestamp(value) == pytest.approx(expected)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_never_raises_on_bytes(raw: bytes) -> None:
    r = parse_line(raw)
    assert r is None or isinstance(r, (Record, Rejected))


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c, max_size=3),
    max_leaves=6,
)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from([*list(call(T0)), "cache_creation_tokens", "batch", "log"]), json_values
    )
)
def test_mangled_records_land_in_one_class(fields: dict[str, object]) -> None:
    base = call(T0)
    base.update(fields)
    r = parse_line(orjson.dumps(base))
    assert r is None or isinstance(r, (Record, Rejected))
    if isinstance(r, Record):
        assert r.input_tokens >= 0 and r.output_tokens >= 0 and r.latency_ms >= 0


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"error_status": "²"}, "bad error_status"),  # a digit to str.isdigit, not to int()
        ({"timestamp": 9007199254740990}, R_TIMESTAMP),  # epoch ms of the year 287396
        ({"timestamp": "0001-01-01T00:00:00+00:00"}, R_TIMESTAMP),  # not a date in every zone
        ({"timestamp": "2026-11-20T00:00:99+00:00"}, R_TIMESTAMP),
        ({"ratelimit_tokens_remaining": "lots"}, "bad ratelimit_tokens_remaining"),
    ],
)
def test_values_no_rule_accepts(fields: dict[str, object], reason: str) -> None:
    assert parse_line(orjson.dumps({**call(T0), **fields})) == Rejected(reason)


def _edges() -> list[tuple[str, Kind, object, object]]:
    """(key, kind, highest value allowed, lowest value refused above it) for each kind."""
    out = []
    for f in FIELDS:
        limit = LIMITS.get(f.kind)
        if limit is None:
            continue
        high = limit.high
        past = high + 1 if isinstance(high, int) else high * 2
        out.append((f.key, f.kind, high, past))
    return out


@pytest.mark.parametrize(("key", "kind", "high", "past"), _edges(), ids=str)
def test_each_limit_is_kept_by_both_decoders(
    key: str, kind: Kind, high: float, past: float
) -> None:
    for value, accepted in ((high, True), (past, False), (LIMITS[kind].low - 1, False)):
        raw = orjson.dumps({**call(T0), key: value})
        want = parse_line(raw)
        assert isinstance(want, Record) is accepted, (value, want)
        stats = LineStats()
        got = fast.decode_batch([raw], "x", 1, stats)
        assert (len(got), stats.records, stats.rejected) == ((1, 1, 0) if accepted else (0, 0, 1))
        if not accepted:
            assert want == Rejected(f"bad {key}") and stats.by_reason == {f"bad {key}": 1}


def test_the_fast_decoder_takes_counts_and_latency_up_to_their_limits() -> None:
    top = {k: LIMITS[Kind.COUNT].high for k in ("input_tokens", "output_tokens", "cached_tokens")}
    raw = orjson.dumps({**call(T0), **top, "latency_ms": LIMITS[Kind.DURATION_MS].high})
    got = fast.decode_batch([raw], "x", 1, LineStats())
    assert len(got) == 1 and got[0][5] == top["input_tokens"] and got[0][10] == 2**32 - 1
    for key, past in (("cached_tokens", 2**30), ("latency_ms", 2**32), ("output_tokens", -1)):
        stats = LineStats()
        assert fast.decode_batch([orjson.dumps({**call(T0), key: past})], "x", 1, stats) == []
        assert stats.by_reason == {f"bad {key}": 1}


@pytest.mark.parametrize(
    ("raw", "verdict"),
    [
        (b"[" + GOOD + b"]", Rejected(R_NOT_OBJECT)),
        (b"[[1, " + GOOD + b"]]", Rejected(R_NOT_OBJECT)),
        (b'[{"latency_ms": 5}]', Rejected(R_NOT_OBJECT)),
        (b"[1, 2, 3]", None),
        (b'["latency_ms"]', None),  # the word, not a key of an object
        (b'"input_tokens"', None),
        (b'[{"level": "info"}]', None),
        (b"[1, 2] " + GOOD[:-5], Rejected(R_JSON)),  # not one JSON value; a broken record
        (b'{"timestamp": "2026-', Rejected(R_JSON)),
        (b'{"feature": "chat", "mod', Rejected(R_JSON)),
        (b'{"level": "info", "msg": "sta', None),
        (b"{timestamp", None),  # not a JSON key
    ],
)
def test_what_looks_like_a_record(raw: bytes, verdict: Rejected | None) -> None:
    assert parse_line(raw) == verdict
