"""The state's latency histograms are HdrHistogram's own bytes: read back by ``hdrh`` itself
they give the engine's counts and the engine's percentiles."""

from __future__ import annotations

import base64

import pytest
from hdrh.histogram import HdrHistogram
from hypothesis import given, settings
from hypothesis import strategies as st

from claude_top.core.histogram import HIGHEST_MS, LOWEST_MS, LatencyHistogram, bucket_of, clamp
from claude_top.state.hdr import Codec, HdrError, read_with_hdrh

latencies = st.lists(
    st.one_of(st.integers(0, 300), st.integers(0, 20_000), st.integers(0, 4_000_000)),
    min_size=1,
    max_size=300,
)
PERCENTILES = (1.0, 10.0, 50.0, 90.0, 95.0, 99.0, 99.9, 100.0)


def _counts(values: list[int]) -> dict[int, int]:
    return LatencyHistogram.of(values).counts


@settings(max_examples=200, deadline=None)
@given(latencies, st.integers(1, 1000))
def test_hdrh_reads_the_engine_counts_and_percentiles(values: list[int], weight: int) -> None:
    """``hdrh`` reading the state's bytes sees what it would have recorded from the raw
    latencies itself (its percentiles, min, max, counts), and the engine's own percentiles
    (nearest rank, which rounds differently from hdrh's) come back unchanged."""
    counts = {low: n * weight for low, n in _counts(values).items()}
    raw = HdrHistogram(LOWEST_MS, HIGHEST_MS, 2)
    for v in values:
        raw.record_value(clamp(v), weight)
    codec = Codec()
    h = read_with_hdrh(codec.encode(counts))
    assert h.get_total_count() == raw.get_total_count()
    assert (h.get_min_value(), h.get_max_value()) == (raw.get_min_value(), raw.get_max_value())
    for low, n in counts.items():
        assert h.get_count_at_value(low) == n
    assert h.get_percentile_to_value_dict(list(PERCENTILES)) == raw.get_percentile_to_value_dict(
        list(PERCENTILES)
    )
    back = LatencyHistogram(codec.decode(codec.encode(counts)))
    mine = LatencyHistogram(counts)
    assert [back.percentile(p) for p in PERCENTILES] == [mine.percentile(p) for p in PERCENTILES]


@settings(max_examples=200, deadline=None)
@given(st.lists(latencies, min_size=1, max_size=5))
def test_decode_returns_exactly_what_was_encoded(rows: list[list[int]]) -> None:
    codec = Codec()  # one codec for many rows: its reused buffers must not leak between rows
    blobs = [codec.encode(_counts(r)) for r in rows]
    assert [codec.decode(b) for b in blobs] == [_counts(r) for r in rows]


def test_a_histogram_recorded_by_hdrh_is_decoded() -> None:
    """The other direction: bytes written by the package's own ``record_value``."""
    h = HdrHistogram(LOWEST_MS, HIGHEST_MS, 2)
    values = [1, 2, 255, 256, 257, 1000, 15_999, 3_600_000]
    for v in values:
        h.record_value(v)
    got = Codec().decode(base64.b64decode(h.encode()))
    assert got == _counts(values)
    assert all(bucket_of(clamp(v)) in got for v in values)


def test_an_empty_histogram_round_trips() -> None:
    codec = Codec()
    assert codec.decode(codec.encode({})) == {}


@pytest.mark.parametrize(
    "blob",
    [b"", b"\x1c\x84\x93\x14\x00\x00\x00\x04junk", b"\x00" * 100],
)
def test_bytes_that_are_not_a_histogram_are_an_error(blob: bytes) -> None:
    with pytest.raises(HdrError):
        Codec().decode(blob)


def test_a_histogram_of_another_layout_is_an_error() -> None:
    h = HdrHistogram(1, 60_000, 3)
    h.record_value(100)
    with pytest.raises(HdrError):
        Codec().decode(base64.b64decode(h.encode()))


def test_a_value_that_is_not_a_bucket_low_is_refused() -> None:
    with pytest.raises(HdrError):
        Codec().encode({257: 1})  # 256..257 share a bucket whose low is 256
