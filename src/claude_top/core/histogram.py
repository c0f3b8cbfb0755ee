"""Latency histograms with HdrHistogram's bucket layout, cheap enough for the ingest hot path.

``hdrh.HdrHistogram.record_value`` is pure Python and costs more than parsing a log line, and one
full HDR array per (minute, feature, model) would not fit the memory budget. So the hot path only
rounds a latency down to the lowest value of its HDR bucket (two significant figures, 1 ms .. 1 h)
and counts it in a small dict. Percentiles walk those buckets exactly as HdrHistogram does, and
``to_hdr`` rebuilds a real ``HdrHistogram`` when a view wants the whole distribution.
Relative error of any percentile: below 1/128 (0.8 %).
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Mapping
from itertools import accumulate, chain, repeat

LOWEST_MS = 1
HIGHEST_MS = 3_600_000
SIGNIFICANT_FIGURES = 2
SUB_BUCKET_BITS = 8
"""2 significant figures: HDR's 256 sub-buckets, unit resolution below 256 ms."""


def bucket_of(ms: int) -> int:
    """The lowest value of the HDR bucket holding ``ms`` (already clamped to the range)."""
    if ms < 256:
        return ms
    shift = ms.bit_length() - SUB_BUCKET_BITS
    return ms >> shift << shift


def _shared_buckets(limit: int) -> list[int]:
    """``bucket_of`` of each value from ``LOWEST_MS`` below ``limit``, each bucket's low one
    shared object: values below 256 are their own buckets, and from each power of two on a
    bucket holds the next ``2 ** shift`` values (made by ``repeat``, a tenth of the calls)."""
    out = list(range(LOWEST_MS, min(limit, 1 << SUB_BUCKET_BITS)))
    shift = 1
    while (1 << (SUB_BUCKET_BITS + shift - 1)) < limit:
        lo, hi = 1 << (SUB_BUCKET_BITS + shift - 1), min(limit, 1 << (SUB_BUCKET_BITS + shift))
        step = 1 << shift
        out.extend(chain.from_iterable(repeat(b, step) for b in range(lo, hi, step)))
        shift += 1
    return out[: limit - LOWEST_MS]


BUCKET_TABLE_LIMIT = 1 << 14
"""Latencies below this (16 s: nearly every call) find their bucket in ``BUCKET_TABLE``."""
BUCKET_TABLE = [LOWEST_MS, *_shared_buckets(BUCKET_TABLE_LIMIT)]
"""``bucket_of(ms)`` at index ``ms``, for the ingest hot path: an index costs a tenth of the
call. Slot 0 holds ``LOWEST_MS``, the bucket a clamped 0 ms falls in. The table is small (128
KiB of references to about a thousand shared ints), so it stays in the CPU caches."""


def highest_equivalent(low: int) -> int:
    """The largest value that shares ``low``'s bucket, as HdrHistogram reports percentiles."""
    if low < 256:
        return low
    shift = low.bit_length() - SUB_BUCKET_BITS
    return low + (1 << shift) - 1


def clamp(ms: int) -> int:
    if ms < LOWEST_MS:
        return LOWEST_MS
    if ms > HIGHEST_MS:
        return HIGHEST_MS
    return ms


def merge_into(acc: dict[int, int], other: Mapping[int, int] | Settled) -> None:
    """Add ``other``'s bucket counts (a dict or a ``Settled``) to ``acc``."""
    get = acc.get
    for k, v in other.items():
        acc[k] = get(k, 0) + v


class Settled(tuple[tuple[int, int], ...]):
    """The bucket counts of a settled row, as (bucket, count) pairs: a fifth of a dict's bytes.

    Rows of the coarse tiers are read far more often than written, and there are many of them
    (500 features make most 15-minute rows hold a line or two): a dict of one entry costs 224
    bytes, this tuple 48, nothing at all when it is the shared one of its single pair, and its
    pairs are shared too (``settle``). It reads as a dict does where histograms are read:
    ``items()``, ``len``, truth, and ``dict(s)`` (pairs) gives the counts back; it is never
    written: a row that takes more counts gets a dict again (``store.add_hist``).
    """

    __slots__ = ()

    def items(self) -> Settled:
        return self

    def values(self) -> list[int]:
        return [c for _, c in self]


_PAIRS: dict[tuple[int, int], tuple[int, int]] = {}
_ONES: dict[tuple[int, int], Settled] = {}
EMPTY = Settled()
PAIRS_SHARED_BELOW = 1 << 8
"""Pairs whose count is below this are shared (their count is one of CPython's cached ints, so
the pair is the only object); their number is bounded by the HDR buckets times 256."""


def settle(counts: Mapping[int, int] | Settled) -> Settled:
    """``counts`` as a ``Settled`` (the same counts), its pairs shared where they are small.

    The pairs are in bucket order, so equal counts settle into equal tuples whatever order
    their buckets were first counted in (the block path counts a block's common lines before
    the others; the reference reader counts them in line order)."""
    if type(counts) is Settled:
        return counts
    if len(counts) == 1:  # most rows of 500 features: the shared one, no sort, no list
        [p] = counts.items()
        if p[1] < PAIRS_SHARED_BELOW:
            one = _ONES.get(p)
            if one is None:
                p = _PAIRS.setdefault(p, p)
                one = _ONES[p] = Settled((p,))
            return one
    elif not counts:
        return EMPTY
    pairs = _PAIRS
    ordered = sorted(counts.items())
    if max(counts.values()) < PAIRS_SHARED_BELOW:  # nearly always: every pair shared, in C
        return Settled(map(pairs.setdefault, ordered, ordered))
    out = []
    for p in ordered:
        if p[1] < PAIRS_SHARED_BELOW:
            q = pairs.get(p)
            if q is None:
                q = pairs[p] = p
            p = q
        out.append(p)
    if len(out) == 1 and out[0][1] < PAIRS_SHARED_BELOW:
        one = _ONES.get(out[0])
        if one is None:
            one = _ONES[out[0]] = Settled(out)
        return one
    return Settled(out)


class LatencyHistogram:
    """Bucket counts over a window; answers percentiles the way HdrHistogram does.

    It may be built from several count dicts (a cached merge and the live tail of a window):
    they are merged only when a percentile is first asked for, so a view that never shows a
    group's latency never pays for merging its histogram. The parts are read, never written,
    and must not change once given (a single dict part becomes ``counts`` as it is).
    """

    __slots__ = ("_counts", "_parts", "_sorted", "_total")

    def __init__(
        self, counts: Mapping[int, int] | None = None, parts: Iterable[Mapping[int, int]] = ()
    ) -> None:
        self._parts = [p for p in (counts, *parts) if p]
        self._counts: dict[int, int] | None = None
        self._total: int | None = None
        self._sorted: tuple[list[int], array[int]] | None = None

    @property
    def counts(self) -> dict[int, int]:
        if self._counts is None:
            # The largest part is copied (a C-speed dict copy) and only the others are added
            # to it key by key: a window's cached merge is much larger than its live tail.
            parts = self._parts
            if len(parts) == 1 and type(parts[0]) is dict:
                # One part is read as it is: parts are never changed once given (a window's
                # copy, a tail's own sums), and a copy of each of 500 groups' was 9 MiB.
                self._counts = parts[0]
            else:
                big = max(parts, key=len) if parts else {}
                self._counts = dict(big)
                for part in parts:
                    if part is not big:
                        merge_into(self._counts, part)
            self._parts = []
        return self._counts

    @property
    def total(self) -> int:
        if self._total is None:
            self._total = sum(self.counts.values())
        return self._total

    @classmethod
    def of(cls, values: Iterable[int]) -> LatencyHistogram:
        counts: dict[int, int] = {}
        for v in values:
            b = bucket_of(clamp(int(v)))
            counts[b] = counts.get(b, 0) + 1
        return cls(counts)

    def _cumulative(self) -> tuple[list[int], array[int]]:
        """Sorted bucket values and running counts, built once (sort, accumulate: C loops).

        The running counts are an ``array``: most are past the small ints CPython shares, so
        as a list each would be an int object of 32 bytes; 500 groups' were 9 MiB."""
        if self._sorted is None:
            counts = self.counts
            keys = sorted(counts)
            self._sorted = (keys, array("q", accumulate(map(counts.__getitem__, keys))))
        return self._sorted

    def _items(self) -> list[tuple[int, int]]:
        counts = self.counts
        return [(k, counts[k]) for k in self._cumulative()[0]]

    def percentile(self, p: float) -> int | None:
        """Nearest-rank percentile (0 < p <= 100): the smallest value with at least p% of calls
        at or below it, reported as the top of its bucket, as HdrHistogram reports values."""
        if self.total == 0:
            return None
        keys, cum = self._cumulative()
        want = max(1, math.ceil(p / 100.0 * self.total - 1e-9))
        i = bisect_left(cum, want)
        return highest_equivalent(keys[min(i, len(keys) - 1)])

    def percentiles(self, ps: Iterable[float]) -> dict[float, int | None]:
        return {p: self.percentile(p) for p in ps}

    def max(self) -> int | None:
        return highest_equivalent(self._cumulative()[0][-1]) if self.total else None

    def min(self) -> int | None:
        return self._cumulative()[0][0] if self.total else None

    def distribution(self, edges: list[int]) -> list[int]:
        """Counts between consecutive ``edges`` (the last bin is open-ended), for bar charts."""
        out = [0] * len(edges)
        for low, n in self._items():
            i = len(edges) - 1
            while i > 0 and low < edges[i]:
                i -= 1
            out[i] += n
        return out

    def to_hdr(self) -> object:
        """A real ``hdrh.histogram.HdrHistogram`` with the same counts (for export and detail)."""
        from hdrh.histogram import HdrHistogram

        h = HdrHistogram(LOWEST_MS, HIGHEST_MS, SIGNIFICANT_FIGURES)
        for low, n in self._items():
            h.record_value(low, n)
        return h
