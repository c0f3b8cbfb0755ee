"""The ingest hot path's bucket table is ``bucket_of`` itself, for every value it holds."""

from __future__ import annotations

from claude_top.core.histogram import BUCKET_TABLE, BUCKET_TABLE_LIMIT, LOWEST_MS, bucket_of


def test_the_bucket_table_is_bucket_of_at_every_index() -> None:
    assert len(BUCKET_TABLE) == BUCKET_TABLE_LIMIT
    assert BUCKET_TABLE[0] == LOWEST_MS  # a clamped 0 ms
    assert all(BUCKET_TABLE[ms] == bucket_of(ms) for ms in range(1, BUCKET_TABLE_LIMIT))
    # each bucket's low value is one shared object, so the table stays small
    assert len({id(b) for b in BUCKET_TABLE}) == len(set(BUCKET_TABLE))
