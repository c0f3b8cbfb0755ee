"""The fast decoder's own shortcuts: the common time shapes it decodes itself, to the reader's bit."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
from hypothesis import given
from hypothesis import strategies as st

from claude_top.core.record import Record, as_named
from claude_top.core.stats import LineStats
from claude_top.ingest import fast
from claude_top.ingest.reader import parse_line
from loggen import base_call

SHAPES = ("seconds", "milliseconds", "microseconds")


def decoded(stamp: str) -> tuple[list[object], Record | object]:
    raw = orjson.dumps({**base_call(0.0), "timestamp": stamp})
    return fast.decode_batch([raw], "x", 1, LineStats()), parse_line(raw)


@given(
    st.datetimes(datetime(1, 1, 3), datetime(9999, 12, 29)),
    st.sampled_from(SHAPES),
)
def test_a_utc_time_of_any_year_is_the_readers_float(when: datetime, shape: str) -> None:
    """Exact float sums hold only for times near ours; the rest must not come out rounded."""
    stamp = when.replace(tzinfo=UTC).isoformat(timespec=shape)
    got, want = decoded(stamp)
    assert isinstance(want, Record)
    assert as_named(got[0]).ts.hex() == want.ts.hex()


@given(st.datetimes(datetime(1971, 1, 1), datetime(2200, 1, 1)), st.sampled_from(SHAPES))
def test_the_common_shapes_are_decoded_here(when: datetime, shape: str) -> None:
    """Not handed to the reader: the reader's records are ``Record``s, the fast ones tuples."""
    got, _ = decoded(when.replace(tzinfo=UTC).isoformat(timespec=shape))
    assert type(got[0]) is tuple


def test_a_minute_bound_does_not_leak_into_the_next_line() -> None:
    """The next line of another minute, or an invalid one after a valid one, is judged anew."""
    lines = [
        orjson.dumps({**base_call(0.0), "timestamp": stamp})
        for stamp in (
            "2026-11-20T00:09:59.999+00:00",
            "2026-11-20T00:0::59.999+00:00",
            "2026-11-20T00:08:30.000+00:00",
            "2026-11-20T00:09:60.000+00:00",
            "2026-11-20T00:09+00:00",
            "2026-11-20T00:10:00.000+00:00",
            "2026-11-20T00:09:59.999Z",
        )
    ]
    stats = LineStats()
    got = [as_named(r).ts for r in fast.decode_batch(lines, "x", 1, stats)]
    want = [r.ts for r in map(parse_line, lines) if isinstance(r, Record)]
    assert got == want
    assert (stats.records, stats.rejected) == (5, 2)
