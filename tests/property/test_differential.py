"""The fast decoder against the reference reader, on arbitrary and near-valid lines.

Two engines read the same lines: one with the fast decoder (``ingest.fast``), one forced onto the
reference reader for every line (``Engine(fast_decoder=False)``). Both feed the one accumulate
step, so any difference in the whole engine state -- every bucket row of every tier, before and
after compaction, histograms by value, user rows, today's running totals, newest and oldest
times, line classes and reasons, 429 events, recent errors, headroom, out-of-window counts --
is a line the fast decoder judged differently. Lines are fed one by one and in random batches,
with and without ``--since``/``--until``.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claude_top.core.clock import FixedClock
from claude_top.core.record import Record, as_named
from claude_top.engine.engine import Engine
from claude_top.engine.pricing import PriceTable
from claude_top.ingest import fast
from claude_top.ingest.reader import parse_line
from claude_top.sources.paths import Batch
from loggen import T0, iso

PRICES = PriceTable.builtin()
NOW = T0 + 3600
"""The clock: some lines fall in the headroom tracker's last minutes, most do not."""

settings.register_profile(
    "differential",
    max_examples=600,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# -- lines ---------------------------------------------------------------------------------

ints = st.one_of(
    st.integers(0, 5000),
    st.integers(-5, -1),
    st.integers(2**53 - 2, 2**53 + 2),
    st.integers(2**63 - 1, 2**64 - 1),
    st.sampled_from([0, 1, 255, 256, 257, 3_600_000, 3_600_001]),
    # The edges of core.schema.LIMITS: counts, latencies, statuses, header values.
    st.sampled_from([2**30 - 1, 2**30, 2**32 - 1, 2**32, 99, 100, 599, 600, 2**53, 2**53 + 1]),
)
numbers = st.one_of(
    ints,
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([1.0, 0.0, -0.0, 2.5, 1e300, -1e300, 1e16]),
)
odd_values = st.one_of(
    st.none(),
    st.booleans(),
    numbers,
    st.sampled_from(["", "lots", "12", " 7 ", "²", "١٢", "-3", "1e3", "nan", "inf", "0x10"]),
    st.text(max_size=6),
    st.just([1]),
    st.just({"a": 1}),
)


@st.composite
def timestamps(draw: st.DrawFn) -> Any:
    t = draw(
        st.one_of(
            st.floats(T0 - 86400, NOW + 120),
            st.integers(int(T0) - 86400, int(NOW) + 120),
            st.sampled_from([T0, NOW - 30, NOW - 179, NOW - 181, NOW + 59]),
        )
    )
    base = iso(float(t))  # 2026-11-20T00:00:00.000+00:00
    kind = draw(st.integers(0, 17))
    if kind == 0:
        return float(t)
    if kind == 1:
        return int(t) * 1000  # epoch milliseconds
    if kind == 2:
        return int(t)
    if kind == 3:
        return base.replace("T", " ")
    if kind == 4:
        return base[:-6]  # naive: UTC
    if kind == 5:
        return base[:-6] + "Z"
    if kind == 6:
        return base[:-6] + draw(st.sampled_from(["+01:00", "-05:30", "+00:00", "+0000", "+24:00"]))
    if kind == 7:
        return base[:17] + draw(st.sampled_from(["99", "60", "5", "0a", "٣٣"])) + base[19:]
    if kind == 8:
        return base[:19] + draw(st.sampled_from(["", ".1", ".12", ".123456", ".1234567", ",123"]))
    if kind == 9:
        return base[:19] + ".123456+00:00"
    if kind == 10:
        return draw(st.sampled_from(["2026-11-20 01:00:00+00:00", "2026-11-20T00:00:00+00:00"]))
    if kind == 11:
        return draw(
            st.sampled_from(
                [
                    "0001-01-01T00:00:00+00:00",
                    "9999-12-31T23:59:59+00:00",
                    "1969-12-31T23:59:59.999+00:00",
                    "2026-02-30T00:00:00+00:00",
                    "2026-11-20T24:00:00+00:00",
                    "2026-11-20T00:60:00+00:00",
                    "２０２６-11-20T00:00:00+00:00",
                    "20261120T000000+00:00",
                    "",
                    "yesterday",
                ]
            )
        )
    if kind == 12:
        return draw(st.sampled_from([-1, -1.5, 1e300, float(2**63), 1e15, 1e11 + 1, True]))
    if kind == 13:
        return base[:16] + ":00" + base[23:]  # whole seconds
    if kind == 14:
        return shaped(draw, float(t))
    return base


def shaped(draw: st.DrawFn, t: float) -> str:
    """``t`` as apps write it (``ingest.fast`` reads these itself): milliseconds, microseconds
    (``isoformat()``, whose fraction is gone on a whole second) or none, each with ``+00:00``,
    ``Z`` or no offset; now and then a shape it leaves to the reader (4 or 7 digits, an offset,
    a comma), with a fraction of any digits."""
    us = datetime.fromtimestamp(t, UTC).isoformat()[:-6]  # 2026-11-20T00:00:00.123456
    whole, frac = us[:19], us[19:]
    frac = draw(st.sampled_from([frac, frac[:4], "", ".000000", ".000"]))
    tz = draw(st.sampled_from(["+00:00", "Z", ""]))
    if draw(st.integers(0, 9)) == 0:
        frac = draw(st.sampled_from([frac[:5], frac[:3], frac + "7", frac.replace(".", ",")]))
        tz = draw(st.sampled_from([tz, "+01:00", "-00:00", "z"]))
    return whole + frac + tz


STRING_KEYS = ("request_id", "user_id", "feature", "model", "stop_reason")


@st.composite
def records(draw: st.DrawFn) -> dict[str, Any]:
    d: dict[str, Any] = {
        "timestamp": draw(timestamps()),
        "request_id": draw(st.sampled_from(["r1", "", "req_x"])),
        "user_id": draw(st.sampled_from(["u1", "u2", "", "batch_nightly"])),
        "feature": draw(st.sampled_from(["chat", "search", "Chat", ""])),
        "model": draw(
            st.sampled_from(
                ["claude-sonnet-4-6", "claude-sonnet-4-5", "claude-haiku-4-5", "mystery-model"]
            )
        ),
        "input_tokens": draw(st.one_of(st.integers(0, 300_000), st.just(2**30 - 1))),
        "output_tokens": draw(st.integers(0, 4000)),
        "cached_tokens": draw(st.sampled_from([0, 0, 1024, 60_000])),
        "latency_ms": draw(st.one_of(st.integers(0, 4_000_000), st.just(2**32 - 1))),
        "stop_reason": draw(st.sampled_from(["end_turn", "max_tokens", None, "error"])),
        "error": None,
        "error_status": None,
    }
    if draw(st.booleans()):
        d["cache_creation_tokens"] = draw(st.integers(0, 3000))
    if draw(st.integers(0, 5)) == 0:
        d["error"] = draw(st.sampled_from(["RateLimitError", "APIError", None]))
        d["error_status"] = draw(
            st.sampled_from([429, 529, 500, 400, 200, None, "429", 0, 99, 100, 599, 600, 429.0])
        )
    for key in draw(
        st.lists(
            st.sampled_from(
                [
                    "cache_creation_1h_tokens",
                    "api_request_id",
                    "ratelimit_requests_limit",
                    "ratelimit_requests_remaining",
                    "ratelimit_tokens_remaining",
                    "ratelimit_input_tokens_limit",
                    "ratelimit_input_tokens_remaining",
                    "ratelimit_output_tokens_limit",
                    "ratelimit_output_tokens_remaining",
                    "retry_after_s",
                    "batch",
                    "cache_read_input_tokens",
                    "cache_creation_input_tokens",
                    # the bill's dimensions, server tools, TTFT and the app's cost: the fast
                    # decoder leaves such lines to the reader, which must decide them alike
                    "service_tier",
                    "speed",
                    "inference_geo",
                    "web_search_requests",
                    "web_fetch_requests",
                    "ttft_ms",
                    "cost_usd",
                    "extra_key",
                    "log",
                    "stream",
                ]
            ),
            max_size=4,
        )
    ):
        d[key] = draw(st.one_of(st.integers(0, 5_000_000), st.booleans(), odd_values))
        if key == "retry_after_s" and draw(st.booleans()):  # mostly within its limits
            d[key] = draw(
                st.one_of(
                    st.integers(0, 90_000),
                    st.floats(0, 90_000),
                    st.sampled_from([-0.0, 0.5, 86_400, 86_400.0, 86_400.5, 86_401]),
                )
            )
    # Mutate some fields: any field may get any odd value, or go missing.
    for key in draw(st.lists(st.sampled_from(sorted(d)), max_size=3)):
        if draw(st.booleans()):
            d[key] = draw(odd_values)
        else:
            d.pop(key, None)
    return d


def _envelope(body: bytes, how: int) -> bytes:
    if how == 1:
        return b"INFO:root:" + body
    if how == 2:
        return b"\xef\xbb\xbf" + body
    if how == 3:
        return body + b"\r"
    if how == 4:
        return orjson.dumps({"log": body.decode("utf-8", "replace") + "\n", "stream": "stdout"})
    if how == 5:
        return b"  " + body + b"  "
    if how == 6:
        return body[: len(body) // 2]  # truncated JSON
    if how == 7:
        return body[:-2] + b"\xff\xfe" + body[-2:]  # invalid UTF-8
    if how == 8:
        return b"2026-11-20 00:00:00,123 INFO app " + body
    if how == 9:
        return body + b"\n"
    if how == 10:
        return b"[" + body + b"]"  # a record in an array: not a JSON object
    if how == 11:
        return b"[1, " + body + b"]"
    # Prefixes that start like another JSON value, or are blanks JSON does not know.
    if how == 12:
        return b'"x" ' + body
    if how == 13:
        return b"1 " + body
    if how == 14:
        return b'{"a": 1} ' + body
    if how == 15:
        return b"\x0b" + body
    if how == 16:
        return body + b"\x0c"
    if how == 17:
        return b"[1, " + body
    return body


@st.composite
def lines(draw: st.DrawFn) -> bytes:
    choice = draw(st.integers(0, 20))
    if choice == 0:
        return draw(st.binary(max_size=60))
    if choice == 1:
        return draw(st.sampled_from([b"", b"   ", b"Traceback (most recent call last):", b"[1]"]))
    d = draw(records())
    body = orjson.dumps(d)
    if choice == 2:
        body = body.replace(b'"timestamp"', b'"timestamp" ')  # same JSON, other spelling
    if choice == 3 and d:  # a key again, with another value: the last one wins
        key = draw(st.sampled_from(sorted(d)))
        again = orjson.dumps({key: draw(odd_values)})[1:-1]
        body = (
            body[:-1] + b"," + again + b"}"
            if draw(st.booleans())
            else b"{" + again + b"," + body[1:]
        )
    if choice == 4:  # numbers as no writer of ours spells them
        old = draw(st.sampled_from([b":0,", b":1,", b":100,"]))
        new = draw(
            st.sampled_from([b":-0,", b":0e0,", b":1e-400,", b":1E0,", b":1e400,", b":NaN,"])
        )
        body = body.replace(old, new)
    return _envelope(body, draw(st.integers(0, 20)))


# -- the whole engine state ----------------------------------------------------------------


def _rows(buckets: dict[int, dict[Any, list[Any]]]) -> dict[tuple[int, Any], list[Any]]:
    out = {}
    for bstart, bucket in buckets.items():
        for key, row in bucket.items():
            out[(bstart, key)] = [dict(v) if isinstance(v, dict) else v for v in row]
    return out


def _typed(rec: Record) -> tuple[tuple[str, Any], ...]:
    """A record's values with their types: ``1 == 1.0 == True`` must not hide a difference."""
    return tuple((type(v).__name__, v) for v in rec)


def state(e: Engine) -> dict[str, Any]:
    hr = e.headroom
    run = e.agg.running
    return {
        "groups": [_rows(t.buckets) for t in e.groups.tiers],
        "users": [_rows(t.buckets) for t in e.users.tiers],
        "live_edge": (e.groups.live_edge, e.users.live_edge),
        "settled": e.groups.settled,
        "running": None if run is None else (run.start, run.end, run.users, run.unpriced_models),
        "newest": e.newest_ts,
        "oldest": e.oldest_ts,
        "out_of_window": e.out_of_window,
        "lines": (e.lines.records, e.lines.foreign, e.lines.rejected, e.lines.by_reason),
        "examples": list(e.lines.examples),
        "events": [_typed(r) for r in e.rate_limit_events],
        "errors": {k: [_typed(r) for r in v] for k, v in e.recent_errors.items()},
        "headroom": (
            {s: (b.classes, b.users, b.features, b.models) for s, b in hr._seconds.items()},
            hr._header_limits,
            hr._header_remaining,
            hr._covered_from,
            list(hr.bursts),
        ),
        "since_compact": e.agg.since_compact,
        "side": [
            [_rows(t.buckets) for t in store.tiers]
            for store in (e.agg.streams, e.agg.app_costs, e.agg.tools)
        ],
    }


def engines(window: tuple[float | None, float | None]) -> tuple[Engine, Engine]:
    since, until = window
    return tuple(  # type: ignore[return-value]
        Engine(PRICES, FixedClock(NOW), since=since, until=until, fast_decoder=f)
        for f in (True, False)
    )


windows = st.sampled_from([(None, None), (T0 + 600, None), (None, NOW - 60), (T0, NOW - 100)])


@settings(settings.get_profile("differential"))
@given(st.lists(lines(), min_size=1, max_size=40), st.data(), windows)
def test_fast_and_reference_engines_agree(
    batch: list[bytes], data: st.DataObject, window: tuple[float | None, float | None]
) -> None:
    quick, ref = engines(window)
    quick.top_users(NOW, 5)  # running totals of today, kept by ingest from now on
    ref.top_users(NOW, 5)
    cuts = sorted(data.draw(st.sets(st.integers(1, len(batch)), max_size=4)))
    for a, b in zip([0, *cuts], [*cuts, len(batch)], strict=True):
        if a < b:
            quick.ingest(Batch("app.log", a + 1, batch[a:b]))
            ref.ingest(Batch("app.log", a + 1, batch[a:b]))
    before = state(ref)
    assert state(quick) == before
    quick.compact()
    ref.compact()
    assert state(quick) == state(ref)
    one = engines(window)[0]  # the same lines one by one: batches change nothing either
    one.top_users(NOW, 5)
    for i, raw in enumerate(batch):
        one.ingest(Batch("app.log", i + 1, [raw]))
    assert state(one) == before


@settings(settings.get_profile("differential"), max_examples=2400)
@given(lines())
def test_fast_decoder_gives_the_reference_values(raw: bytes) -> None:
    """Line by line: the fast decoder's record equals the reader's, value and type."""
    from claude_top.core.stats import LineStats

    got = fast.decode_batch([raw], "x", 1, LineStats())
    want = parse_line(raw.rstrip(b"\r\n"))
    if got:
        assert isinstance(want, Record)
        assert _typed(as_named(got[0])) == _typed(want)
        assert not any(isinstance(v, float) and math.isnan(v) for v in want)
    else:
        assert not isinstance(want, Record)


def test_known_divergences_stay_fixed() -> None:
    """The lines that showed the old fast path disagreeing with the reader."""
    good = orjson.loads(orjson.dumps({"timestamp": iso(T0), "request_id": "r", "user_id": "u",
                                      "feature": "f", "model": "claude-sonnet-4-6",
                                      "input_tokens": 1, "output_tokens": 1, "cached_tokens": 0,
                                      "latency_ms": 5, "stop_reason": None, "error": None,
                                      "error_status": None}))  # fmt: skip
    lots = {**good, "ratelimit_tokens_remaining": "lots", "api_request_id": "x"}
    sec99 = {**good, "timestamp": iso(T0)[:17] + "99" + iso(T0)[19:]}
    spaced = {**good, "timestamp": "2026-11-20 01:00:00+00:00"}
    batch = [orjson.dumps(good)] * 3 + [orjson.dumps(d) for d in (lots, sec99, spaced)]
    quick, ref = engines((None, None))
    quick.ingest_lines(batch)
    ref.ingest_lines(batch)
    assert state(quick) == state(ref)
    assert quick.lines.rejected == 2
    assert quick.newest_ts == T0 + 3600


# -- the block path (``engine.block``): common lines counted as they are decoded -----------


@st.composite
def common_lines(draw: st.DrawFn) -> bytes:
    """A line of the block path's shape (``fast.Common``), now and then one that just misses it
    (a header, an error, seconds of another shape), so blocks mix the two paths."""
    edges = [T0 + 90, T0 - 30, T0 - 86400 + 30, T0 + 600, NOW - 180]  # bounds, the horizon
    t = draw(
        st.one_of(
            st.floats(T0 - 3 * 86400, NOW + 120),
            st.sampled_from(edges).flatmap(lambda e: st.floats(e - 90, e + 90)),
        )
    )
    d: dict[str, Any] = {
        "timestamp": shaped(draw, t),
        "request_id": "r",
        "user_id": draw(st.sampled_from(["u1", "u2", "", "batch_nightly"])),
        "feature": draw(st.sampled_from(["chat", "search"])),
        "model": draw(st.sampled_from(["claude-sonnet-4-5", "claude-haiku-4-5", "mystery"])),
        "input_tokens": draw(st.one_of(st.integers(0, 3000), st.just(250_000))),
        "output_tokens": draw(st.integers(0, 4000)),
        "cached_tokens": draw(st.sampled_from([0, 1024])),
        "latency_ms": draw(st.one_of(st.integers(0, 5000), st.just(4_000_000), st.just(0))),
        "stop_reason": draw(st.sampled_from(["end_turn", "max_tokens", None])),
        "error": None,
        "error_status": None,
    }
    miss = draw(st.integers(0, 12))
    if miss == 1:
        d["ratelimit_requests_remaining"] = 5
    elif miss == 2:
        d["error"], d["error_status"] = "RateLimitError", 429
    elif miss == 3:
        d["timestamp"] = iso(t)[:19] + draw(st.sampled_from([".1234+00:00", ".123+01:00"]))
    elif miss == 4:
        d["timestamp"] = iso(t)[:17] + "61" + iso(t)[19:]
    elif miss == 5:
        d["cache_creation_tokens"] = draw(st.integers(0, 300))
    body = orjson.dumps(d)
    return b"INFO:root:" + body if miss == 6 else body


block_windows = st.sampled_from(
    [(None, None), (T0 + 90, None), (None, T0 - 30), (T0 - 86400 + 30, T0 + 600)]
)


@settings(settings.get_profile("differential"), max_examples=300)
@given(
    st.lists(st.one_of(common_lines(), common_lines(), lines()), min_size=1, max_size=300),
    block_windows,
    st.booleans(),
    st.booleans(),
    st.booleans(),
)
def test_block_path_and_reference_agree(
    batch: list[bytes],
    window: tuple[float | None, float | None],
    users: bool,
    running: bool,
    minutes: bool,
) -> None:
    """Blocks of mostly common lines, with and without users, today's running totals, bounds
    and minute rows (a one-shot read keeps quarter hours): the whole state equals the
    reference reader's, line by line or in one batch, and again after the same lines come
    late, into buckets the compaction moved or settled."""
    since, until = window
    quick, ref, one = (
        Engine(PRICES, FixedClock(NOW), since=since, until=until, track_users=users,
               whole_read=not minutes, fast_decoder=f)
        for f in (True, False, True)
    )  # fmt: skip
    for e in (quick, ref, one):
        if running and minutes:  # a whole read keeps no day of users apart
            e.top_users(NOW, 5)
    quick.ingest(Batch("app.log", 1, batch))
    ref.ingest(Batch("app.log", 1, batch))
    for i, raw in enumerate(batch):
        one.ingest(Batch("app.log", i + 1, [raw]))
    before = state(ref)
    assert state(quick) == before
    assert state(one) == before
    quick.compact()
    ref.compact()
    assert state(quick) == state(ref)
    quick.ingest(Batch("app.log", 1, batch))
    ref.ingest(Batch("app.log", 1, batch))
    assert state(quick) == state(ref)


def test_a_bad_line_does_not_spoil_its_block(monkeypatch: Any) -> None:
    """Only the lines that are not common take the per-line path; the others of their block
    are counted by the block path, and the state is the reference's."""
    common = {"timestamp": iso(T0), "request_id": "r", "user_id": "u", "feature": "f",
              "model": "claude-sonnet-4-6", "input_tokens": 1, "output_tokens": 1,
              "cached_tokens": 0, "latency_ms": 5, "stop_reason": "max_tokens", "error": None,
              "error_status": None}  # fmt: skip
    block = [orjson.dumps({**common, "latency_ms": 5 + i}) for i in range(40)]
    block[7] = orjson.dumps({**common, "timestamp": iso(T0)[:17] + "99" + iso(T0)[19:]})
    block[20] = orjson.dumps({**common, "error": "APIError", "error_status": 500})
    block[30] = b"not json"
    per_line: list[bytes] = []
    decode_batch = fast.decode_batch

    def counted(lines: list[bytes], *args: Any) -> list[Any]:
        per_line.extend(lines)
        return decode_batch(lines, *args)

    monkeypatch.setattr(fast, "decode_batch", counted)
    quick, ref = engines((None, None))
    quick.ingest(Batch("app.log", 1, block))
    ref.ingest(Batch("app.log", 1, block))
    assert per_line == [block[7], block[20], block[30]]
    assert state(quick) == state(ref)
    assert quick.lines.records == 38
    assert (quick.lines.rejected, quick.lines.foreign) == (1, 1)


def test_block_path_keys_rows_by_shared_strings() -> None:
    """User rows are keyed by interned strings, as ``accumulate`` keys them: a week of rows must
    not each hold a copy of its line's feature and model (equal state, but memory)."""
    lines_ = [
        orjson.dumps(
            {
                "timestamp": iso(T0 + i),
                "user_id": f"u{i}",
                "feature": "chat_x",
                "model": "claude-haiku-4-5",
                "input_tokens": 1,
                "output_tokens": 1,
                "latency_ms": 5,
            }
        )
        for i in range(50)
    ]
    quick = Engine(PRICES, FixedClock(NOW + 86400), fast_decoder=True)
    quick.ingest(Batch("app.log", 1, lines_))
    keys = [k for t in quick.users.tiers for b in t.buckets.values() for k in b]
    assert len(keys) == 50
    assert len({id(k[1]) for k in keys}) == 1
    assert len({id(k[2]) for k in keys}) == 1


@pytest.mark.parametrize(
    "times",
    [
        ["2026-11-19T22:00:06Z", "2026-11-19T22:00:06.500Z"],
        ["2026-11-19T22:00:06.149Z", "2026-11-19T22:00:06.149123Z"],
        ["2026-11-19T22:00:06.5", "2026-11-19T22:00:06.4+00:00", "2026-11-19T22:00:06.45Z"],
        ["2026-11-19T22:00:06.999999", "2026-11-19T22:00:07", "2026-11-19T22:00:06.999+00:00"],
    ],
)
def test_block_path_takes_the_newest_and_oldest_time_by_value(times: list[str]) -> None:
    """Times of different shapes do not sort as strings in the order of their values (``06Z``
    sorts after ``06.500Z``): the newest and oldest times of a block are a cold read's."""
    body = {"request_id": "r", "user_id": "u", "feature": "f", "model": "claude-haiku-4-5",
            "input_tokens": 1, "output_tokens": 1, "latency_ms": 5}  # fmt: skip
    for order in (times, times[::-1]):
        batch = [orjson.dumps({"timestamp": t, **body}) for t in order]
        quick, ref = (Engine(PRICES, FixedClock(NOW), fast_decoder=f) for f in (True, False))
        quick.ingest(Batch("app.log", 1, batch))
        ref.ingest(Batch("app.log", 1, batch))
        assert quick.lines.records == len(times)
        assert (quick.newest_ts, quick.oldest_ts) == (ref.newest_ts, ref.oldest_ts)
        assert state(quick) == state(ref)
