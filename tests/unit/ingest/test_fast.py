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


def _minute_by_datetime(prefix: str) -> int | None:
    """What a minute's prefix means, by ``datetime`` alone: the reader's own rule."""
    try:
        when = datetime.strptime(prefix, "%Y-%m-%dT%H:%M").replace(tzinfo=UTC)
    except ValueError:
        return None
    if (
        not (len(prefix) == 16 and prefix.isascii())
        or not prefix.replace("-", "").replace(":", "").replace("T", "").isdigit()
    ):
        return None  # strptime takes one-digit fields and blanks, which no ISO time has
    t = int(when.timestamp())
    return t * 1_000_000 if t >= fast.TS_MIN and t + 60 <= fast.TS_MAX else None


_DIGITS_OR_NOT = st.sampled_from("0123456789-:T 1٣x")


@given(
    st.one_of(
        st.datetimes(datetime(1, 1, 1), datetime(9999, 12, 31, 23, 59)).map(
            lambda d: d.strftime("%Y-%m-%dT%H:%M").rjust(16, "0")
        ),
        st.text(_DIGITS_OR_NOT, min_size=15, max_size=17),
        st.builds(
            "{:04d}-{:02d}-{:02d}T{:02d}:{:02d}".format,
            *map(st.integers, (0, 0, 0, 0, 0), (9999, 13, 32, 25, 61)),
        ),
    )
)
def test_a_minute_is_read_as_datetime_reads_it(prefix: str) -> None:
    """The cached days and the time-of-day table give what ``datetime`` gives, ``None`` for
    every string that is not a valid minute of the reader's range."""
    assert fast.minute_us(prefix) == _minute_by_datetime(prefix)
