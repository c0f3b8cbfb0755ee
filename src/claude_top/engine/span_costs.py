"""The cost-only fold: calls and priced cost of a span, all traffic and per feature.

The 7-day cost baseline (``rules.baseline``) asks for the cost of each of the 7 days before
today, again up to today's time of day, and per feature for each scope; the dashboard's KPI,
the cost rules and the metrics all ask it. Folding those spans as full windows merged every
row's latency histogram and error types that the baseline never reads, and evicted the shown
windows from the window cache. This fold sums only what the baseline reads: calls and cost.

Each settled bucket's sums (per feature) are kept, so the ~100 spans of a baseline add up a few
sums per bucket instead of folding its rows again; the kept sums of a bucket are dropped when
a batch writes into it (a late line) and all of them when compaction moves buckets
(``TieredStore.version``). A row's cost is the one ``window_cache.cached_cost`` gives every fold
(``price_bucket``: a bucket's rows at once), summed in the same whole nano-dollars, so a span's
cost here is exactly the cost the full fold gives (a property test checks it on arbitrary
stores).

The baseline asks the same settled day spans at every refresh, so a span's in-memory sums are
kept too once every bucket in it is settled (it ends at or before the live edge), dropped like a
bucket's when a batch writes at or before its end. An open span (today so far: the same start,
a later end at every ask) keeps the sums of its settled part per start, extended as the live edge
moves and dropped like a settled span's (``_open``). A span finds its buckets by bisecting each
tier's sorted starts instead of testing every bucket of the store (``_Starts``).
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable

from msgspec import Struct, field

from claude_top.engine import store as B
from claude_top.engine.accumulate import Aggregates
from claude_top.engine.accumulators import COST_UNITS
from claude_top.engine.window_cache import GROUPS_BY_FEATURE, price_bucket

KEPT_FILTERS = 4
"""Filters whose bucket sums are kept (none and the TUI's current one, with room to spare)."""
KEPT_SPANS = 256
"""Settled spans kept per filter: the baseline's 7 days per scope, and whatever else asks."""


class CostSum(Struct, frozen=True):
    """Calls and priced cost of one scope over a span; unpriced calls add no cost, as in
    ``GroupStats.cost_usd``."""

    calls: int = 0
    cost_units: int = 0
    """Whole nano-dollars (``accumulators.COST_UNITS``)."""

    @property
    def cost_usd(self) -> float:
        return self.cost_units / COST_UNITS


class SpanCost(Struct, frozen=True):
    """A span's calls and cost: over all (matching) traffic, and per feature."""

    total: CostSum
    features: dict[str, CostSum] = field(default_factory=dict)


_Sums = dict[str, list[int]]
"""Per feature: [calls, cost units]."""


class _Kept:
    """Bucket sums of one filter, valid for the store's layout ``version`` as of ``seq``."""

    __slots__ = ("buckets", "prefixes", "seq", "spans", "version")

    def __init__(self, version: int, seq: int) -> None:
        self.version, self.seq = version, seq
        self.buckets: dict[tuple[int, int], _Sums] = {}
        """By (tier index, bucket start): a late line makes a fine bucket beside a coarse one
        of the same start."""
        self.spans: dict[tuple[float, float], _Sums] = {}
        """By [lo, hi) in memory: settled spans' sums (not to be changed by a reader)."""
        self.prefixes: dict[float, tuple[float, _Sums]] = {}
        """By lo: (upto, sums) of an open span's settled part [lo, upto) (``_open``)."""


class _Starts:
    """Each tier's bucket starts, sorted, kept up to date with the store's layout ``version``.

    A bucket leaves a tier only with a version bump (compaction, an engine cleared or joined);
    until then buckets are only added, and a dict keeps its keys in insertion order, so the
    starts added since the last look are the last ones of the tier's dict.
    """

    __slots__ = ("sorted", "version")

    def __init__(self) -> None:
        self.version = -1
        self.sorted: list[list[int]] = []

    def of(self, store: B.TieredStore) -> list[list[int]]:
        if self.version != store.version or len(self.sorted) != len(store.tiers):
            self.version = store.version
            self.sorted = [sorted(t.buckets) for t in store.tiers]
            return self.sorted
        for starts, tier in zip(self.sorted, store.tiers, strict=True):
            new = len(tier.buckets) - len(starts)
            if new < 0:  # a bucket left without a version bump: start over
                self.version = -1
                return self.of(store)
            if new:
                it = reversed(tier.buckets)
                for _ in range(new):
                    insort(starts, next(it))
        return self.sorted


class SpanCosts:
    """The cost-only fold over an ``Aggregates``' group rows (callers hold the engine's lock)."""

    def __init__(self, agg: Aggregates) -> None:
        self.agg = agg
        self._kept: dict[str | None, _Kept] = {}
        self._starts = _Starts()

    def span(self, start: float | None, end: float | None, needle: str | None) -> SpanCost:
        """Calls and cost over the buckets whose start lies in [start, end), as every window
        counts them; ``needle`` (lower case) keeps rows whose feature or model contains it."""
        store = self.agg.groups
        k = self._kept.get(needle)
        if k is None or k.version != store.version:
            k = _Kept(store.version, store.seq)
            if len(self._kept) >= KEPT_FILTERS:
                self._kept.clear()
            self._kept[needle] = k
        else:
            touched = store.oldest_touch_since(k.seq)
            if touched != float("inf"):
                k.buckets = {tb: v for tb, v in k.buckets.items() if tb[1] < touched}
                k.spans = {sp: v for sp, v in k.spans.items() if sp[1] <= touched}
                k.prefixes = {lo: v for lo, v in k.prefixes.items() if v[0] <= touched}
        k.seq = store.seq
        lo = float("-inf") if start is None else start
        hi = float("inf") if end is None else end
        per: _Sums = {}
        older = store.older
        if older is not None and lo < older.before:  # summed outside memory (``store.Older``)
            for name, model, calls, cost in older.costs(lo, min(hi, older.before), bool(needle)):
                if (
                    needle is not None
                    and needle not in name.lower()
                    and needle not in model.lower()
                ):
                    continue
                _add_one(per, name, calls, cost)
            lo = older.before
        if lo < hi:
            mem = k.spans.get((lo, hi))
            if mem is None and hi <= store.live_edge:  # every bucket in it settled
                mem = self._memory(k, lo, hi, needle)
                if len(k.spans) >= KEPT_SPANS:
                    k.spans.clear()
                k.spans[(lo, hi)] = mem
            elif mem is None:
                mem = self._open(k, lo, hi, needle)
            _add_sums(per, mem)
        features = {name: CostSum(calls, cost) for name, (calls, cost) in per.items()}
        total = CostSum(
            sum(c.calls for c in features.values()), sum(c.cost_units for c in features.values())
        )
        return SpanCost(total, features)

    def _open(self, k: _Kept, lo: float, hi: float, needle: str | None) -> _Sums:
        """An open span's sums (it reaches past the live edge): its settled part [lo, edge)
        kept per start and extended as the edge moves, then the buckets from the edge on.

        Why: today's cost is asked at every 30 s step of an idle log (the KPI, the cost
        rules per feature) with the same start and a later end; adding up every settled bucket
        of the day again was most of the rules' time then.
        """
        edge = self.agg.groups.live_edge
        kept = k.prefixes.get(lo)
        if kept is None or not lo <= kept[0] <= edge:
            settled = self._memory(k, lo, edge, needle) if lo < edge else {}
        elif kept[0] < edge:
            settled = {}
            _add_sums(settled, kept[1])
            _add_sums(settled, self._memory(k, kept[0], edge, needle))
        else:
            settled = kept[1]
        if kept is None or kept[0] != edge:
            if len(k.prefixes) >= KEPT_SPANS:
                k.prefixes.clear()
            k.prefixes[lo] = (max(lo, edge), settled)
        per: _Sums = {}
        _add_sums(per, settled)
        _add_sums(per, self._memory(k, max(lo, edge), hi, needle))
        return per

    def _memory(self, k: _Kept, lo: float, hi: float, needle: str | None) -> _Sums:
        """Calls and cost per feature over the buckets in memory whose start lies in [lo, hi)."""
        store = self.agg.groups
        edge = store.live_edge
        kept = k.buckets
        per: _Sums = {}
        for ti, (tier, starts) in enumerate(zip(store.tiers, self._starts.of(store), strict=True)):
            buckets = tier.buckets
            i = 0 if lo == float("-inf") else bisect_left(starts, lo)
            j = len(starts) if hi == float("inf") else bisect_left(starts, hi)
            for bstart in starts[i:j]:
                sums = kept.get((ti, bstart))
                if sums is None:
                    sums = self._bucket(bstart, buckets[bstart], needle)
                    if bstart < edge:  # settled: only a late line changes it (``touched``)
                        kept[(ti, bstart)] = sums
                _add_sums(per, sums)
        return per

    def _bucket(self, bstart: int, bucket: B.Bucket, needle: str | None) -> _Sums:
        """One bucket's calls and priced cost per feature, over the rows the filter keeps."""
        price_bucket(self.agg.prices, GROUPS_BY_FEATURE, bstart, bucket)
        return self._sums(bucket.items(), needle)

    @staticmethod
    def _sums(rows: Iterable[tuple[B.Key, B.Row]], needle: str | None) -> _Sums:
        """Calls and cost per feature of priced rows the filter keeps."""
        spec = GROUPS_BY_FEATURE
        text_keys, name_i, cost_slot = spec.text_keys, spec.name_i, spec.cost_slot
        sums: _Sums = {}
        for key, row in rows:
            if needle is not None and not any(needle in k.lower() for k in key[:text_keys]):
                continue
            acc = sums.get(key[name_i])
            if acc is None:
                acc = sums[key[name_i]] = [0, 0]
            acc[0] += row[B.G_CALLS]
            cost = row[cost_slot]
            if cost >= 0:
                acc[1] += cost
        return sums


def _add_one(per: _Sums, name: str, calls: int, cost: int) -> None:
    """Add one feature's calls and cost to ``per`` (a new list: kept sums are never aliased)."""
    acc = per.get(name)
    if acc is None:
        per[name] = [calls, cost]
    else:
        acc[0] += calls
        acc[1] += cost


def _add_sums(per: _Sums, sums: _Sums) -> None:
    """Add a bucket's or a span's per-feature sums to ``per``, leaving ``sums`` as it was."""
    for name, (calls, cost) in sums.items():
        _add_one(per, name, calls, cost)
