"""The ingest hot path's bucket table is ``bucket_of`` itself, for every value it holds; a
histogram built from several parts (a window's cached merge and its live tail) is the histogram
of all their values at once."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from claude_top.core.histogram import (
    BUCKET_TABLE,
    BUCKET_TABLE_LIMIT,
    LOWEST_MS,
    LatencyHistogram,
    bucket_of,
    settle,
)


def test_the_bucket_table_is_bucket_of_at_every_index() -> None:
    assert len(BUCKET_TABLE) == BUCKET_TABLE_LIMIT
    assert BUCKET_TABLE[0] == LOWEST_MS  # a clamped 0 ms
    assert all(BUCKET_TABLE[ms] == bucket_of(ms) for ms in range(1, BUCKET_TABLE_LIMIT))
    # each bucket's low value is one shared object, so the table stays small
    assert len({id(b) for b in BUCKET_TABLE}) == len(set(BUCKET_TABLE))


@settings(max_examples=80, deadline=None)
@given(st.lists(st.lists(st.integers(0, 4_000_000), max_size=200), min_size=1, max_size=4))
def test_parts_merge_to_the_histogram_of_all_values(parts: list[list[int]]) -> None:
    """Same counts and percentiles whichever part is the largest and however many are empty;
    the parts are the caller's, read and never changed."""
    whole = LatencyHistogram.of(v for p in parts for v in p)
    given_parts = [LatencyHistogram.of(p).counts for p in parts]
    before = [dict(p) for p in given_parts]
    h = LatencyHistogram(parts=given_parts)
    assert h.counts == whole.counts
    assert h.total == whole.total
    for p in (50, 95, 99, 100):
        assert h.percentile(p) == whole.percentile(p)
    assert given_parts == before


def test_equal_counts_settle_into_equal_tuples_whatever_their_order() -> None:
    """The block path and the reference reader count a bucket's lines in different orders; the
    whole-state comparisons of the differential tests see settled rows as tuples."""
    a = settle({3588096: 1, 1: 1, 40: 300})
    b = settle({40: 300, 1: 1, 3588096: 1})
    assert a == b
    assert list(a) == [(1, 1), (40, 300), (3588096, 1)]
