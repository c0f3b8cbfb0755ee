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
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from claude_top.engine import store as B
from claude_top.engine.accumulate import Aggregates
from claude_top.engine.accumulators import COST_UNITS
from claude_top.engine.window_cache import GROUPS_BY_FEATURE, price_bucket

KEPT_FILTERS = 4
"""Filters whose bucket sums are kept (none and the TUI's current one, with room to spare)."""


@dataclass(frozen=True, slots=True)
class CostSum:
    """Calls and priced cost of one scope over a span; unpriced calls add no cost, as in
    ``GroupStats.cost_usd``."""

    calls: int = 0
    cost_units: int = 0
    """Whole nano-dollars (``accumulators.COST_UNITS``)."""

    @property
    def cost_usd(self) -> float:
        return self.cost_units / COST_UNITS


@dataclass(frozen=True, slots=True)
class SpanCost:
    """A span's calls and cost: over all (matching) traffic, and per feature."""

    total: CostSum
    features: dict[str, CostSum] = field(default_factory=dict)


_Sums = dict[str, list[int]]
"""Per feature: [calls, cost units]."""


class _Kept:
    """Bucket sums of one filter, valid for the store's layout ``version`` as of ``seq``."""

    __slots__ = ("buckets", "seq", "version")

    def __init__(self, version: int, seq: int) -> None:
        self.version, self.seq = version, seq
        self.buckets: dict[tuple[int, int], _Sums] = {}
        """By (tier index, bucket start): a late line makes a fine bucket beside a coarse one
        of the same start."""


class SpanCosts:
    """The cost-only fold over an ``Aggregates``' group rows (callers hold the engine's lock)."""

    def __init__(self, agg: Aggregates) -> None:
        self.agg = agg
        self._kept: dict[str | None, _Kept] = {}

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
        k.seq = store.seq
        edge = store.live_edge
        kept = k.buckets
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
                acc = per.get(name)
                if acc is None:
                    per[name] = [calls, cost]
                else:
                    acc[0] += calls
                    acc[1] += cost
            lo = older.before
        for ti, tier in enumerate(store.tiers):
            for bstart, bucket in tier.buckets.items():
                if not lo <= bstart < hi:
                    continue
                sums = kept.get((ti, bstart))
                if sums is None:
                    sums = self._bucket(bstart, bucket, needle)
                    if bstart < edge:  # settled: only a late line changes it (``touched``)
                        kept[(ti, bstart)] = sums
                for name, (calls, cost) in sums.items():
                    acc = per.get(name)
                    if acc is None:
                        per[name] = [calls, cost]
                    else:
                        acc[0] += calls
                        acc[1] += cost
        features = {name: CostSum(calls, cost) for name, (calls, cost) in per.items()}
        total = CostSum(
            sum(c.calls for c in features.values()), sum(c.cost_units for c in features.values())
        )
        return SpanCost(total, features)

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
