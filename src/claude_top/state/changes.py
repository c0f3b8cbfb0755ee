"""Which buckets of a tiered store changed since the last capture: the one walk that the group
rows (``state.save``) and the side stores (``state.side``) both take.

A capture runs under the engine's lock before every commit, so it must not look at every bucket:
while the store's version is unchanged (no compaction since), only the finest tier's buckets
touched since the capture's sequence mark can have changed. A bucket object that is not the one
last seen was rebuilt by compaction: its old rows are dropped from the file and it is written
whole. A bucket the file holds but memory did not load (before a command's horizon) is merged in
from the file first, so writing it does not lose the file's rows. After a full walk, buckets
gone from the store (moved to a coarser tier) are forgotten and dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from claude_top.engine import store as B

BucketId = tuple[int, int]
"""(width, start)."""
Known = dict[BucketId, tuple[B.Bucket, dict[tuple[Any, ...], int]]]
"""Per bucket: the bucket object last seen and each row's call count when it was saved."""


def changed_buckets(
    store: B.TieredStore,
    mark: tuple[int, int],
    known: Known,
    unloaded: set[BucketId],
    drop: Callable[[BucketId], None],
    fetch: Callable[[BucketId, B.Bucket], None],
) -> Iterator[tuple[BucketId, B.Bucket, dict[tuple[Any, ...], int]]]:
    """Each bucket that may have changed since ``mark`` (the store's (version, seq) at the last
    capture), with the saved call counts of its rows for the caller to compare and update.

    Exhaust the iterator: the buckets gone from the store are dropped at its end.
    """
    version, seq = mark
    full = store.version != version
    oldest = float("-inf") if full else store.oldest_touch_since(seq)
    for tier in store.tiers if full else store.tiers[:1]:
        width = tier.width
        for start, bucket in tier.buckets.items():
            if start < oldest:
                continue
            k = (width, start)
            mine = known.get(k)
            if mine is None or mine[0] is not bucket:
                if mine is not None:
                    drop(k)
                elif k in unloaded:
                    fetch(k, bucket)
                mine = known[k] = (bucket, {})
            yield k, bucket, mine[1]
    if full:
        present = {(t.width, s) for t in store.tiers for s in t.buckets}
        for k in [k for k in known if k not in present]:
            del known[k]
            drop(k)
