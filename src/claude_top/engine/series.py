"""Sparkline series: per-group values in fixed slots over a span, for the TUI's trend columns.

Counts (calls, errors) of settled buckets are cached per (start, step) and only extended as the
span's end moves, as window merges are (``window_cache``); p95 series merge histograms per slot.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from operator import itemgetter
from typing import Any

from claude_top.core.histogram import LatencyHistogram, merge_into
from claude_top.engine import store as B
from claude_top.engine.accumulate import Aggregates
from claude_top.engine.accumulators import COST_UNITS
from claude_top.engine.column_fold import count_hists
from claude_top.engine.store import Bucket, Row
from claude_top.engine.window_cache import GROUPS_BY_FEATURE, Cached, cached_cost


class Series:
    """Sparkline series over an ``Aggregates``' group rows (callers hold the engine's lock)."""

    def __init__(self, agg: Aggregates) -> None:
        self.agg = agg
        self._series: dict[tuple[Any, ...], Cached] = {}

    def series(
        self, start: float, end: float, step: int, by: str = "feature", metric: str = "calls"
    ) -> dict[str, list[float]]:
        """Per-group values in ``step``-second slots over [start, end), for sparklines."""
        n = max(1, int((end - start + step - 1) // step))
        idx = 0 if by == "feature" else 1
        if metric in ("calls", "errors"):
            return self._summed_series(start, end, step, n, idx, metric)
        return self._p95_series(start, end, step, n, idx) if metric == "p95" else {}

    def _p95_series(
        self, start: float, end: float, step: int, n: int, idx: int
    ) -> dict[str, list[float]]:
        hists: dict[str, list[dict[int, int]]] = {}
        for bstart, bucket in self.agg.groups.buckets_in(start, end):
            slot = int((bstart - start) // step)
            if not 0 <= slot < n:
                continue
            for key, row in bucket.items():
                hs = hists.get(key[idx])
                if hs is None:
                    hs = hists[key[idx]] = [{} for _ in range(n)]
                merge_into(hs[slot], row[B.G_HIST])
        return {
            name: [float(LatencyHistogram(h).percentile(95) or 0) for h in hs]
            for name, hs in hists.items()
        }

    def _summed_series(
        self, start: float, end: float, step: int, n: int, idx: int, metric: str
    ) -> dict[str, list[float]]:
        """Counts per slot, with the settled buckets' part cached like a window's merge."""
        store = self.agg.groups
        slot_of = B.G_CALLS if metric == "calls" else B.G_ERRORS
        key = ("series", start, step, idx, slot_of)
        c = self._series.get(key)
        if (
            c is None
            or c.version != store.version
            or end < c.covered
            or store.oldest_touch_since(c.seq) < c.covered
        ):
            c = Cached({}, [], start, store.seq, store.version, None, None)
            if len(self._series) > 16:
                self._series.clear()
            self._series[key] = c

        def fold(into: dict[str, Any], lo: float, hi: float) -> None:
            for bstart, bucket in store.buckets_in(lo, hi):
                slot = int((bstart - start) // step)
                for k, row in bucket.items():
                    per = into.get(k[idx])
                    if per is None:
                        per = into[k[idx]] = {}
                    per[slot] = per.get(slot, 0) + row[slot_of]

        settled = min(end, store.live_edge)
        if settled > c.covered:
            fold(c.accs, c.covered, settled)
            c.covered = settled
        c.seq = store.seq
        tail: dict[str, Any] = {}
        fold(tail, c.covered, end)
        cached: dict[str, Any] = c.accs
        out: dict[str, list[float]] = {}
        for name in cached.keys() | tail.keys():
            vals = [0.0] * n
            for part in (cached.get(name), tail.get(name)):
                if part:
                    for slot, v in part.items():
                        if 0 <= slot < n:
                            vals[slot] += v
            out[name] = vals
        return out


SlotStats = tuple[int, int, float, int | None]
"""(calls, errors, cost in USD, p95 in ms or None) of one chart slot."""


class TrafficSeries:
    """Calls, errors, cost and p95 per slot over a window, all traffic or one feature, for charts.

    Slots lie on a fixed grid (multiples of ``step`` since the epoch), so a rolling window that
    moves on by a minute keeps every whole slot it had: a slot whose buckets are all settled
    (older than the live bucket) is computed once and kept until a late write or a compaction
    touches it. Such a slot is folded from its buckets' rows at once, a column at a time: each
    counter's column summed in C and the histograms counted as the window fold counts them
    (``column_fold.count_hists``), so a week's chart costs a fraction of merging row by row.
    The slots the window's start cuts or the live bucket is in are merged again at each call,
    but from each settled bucket's own sums (kept too), so only the live bucket's rows are
    folded. A bucket counts where its start lies, as in window merges, so the slots of a window
    add up to the window's own numbers (a test checks it against ``query``); costs are summed
    in whole nano-dollars and divided once per slot, as a window's are.
    """

    def __init__(self, agg: Aggregates) -> None:
        self.agg = agg
        self._kept: dict[tuple[Any, ...], _Kept] = {}
        """Whole settled slots, per (feature, filter, step)."""
        self._sums: dict[tuple[Any, ...], _Kept] = {}
        """Settled buckets' sums, per (feature, filter)."""

    def traffic(
        self,
        start: float,
        end: float,
        step: int,
        feature: str | None = None,
        match: str | None = None,
    ) -> list[tuple[float, SlotStats]]:
        """(slot start, stats) for each slot of the grid overlapping [start, end), oldest first."""
        store = self.agg.groups
        first = int(start // step) * step
        grid = list(range(first, math.ceil(end / step) * step, step)) or [first]
        needle = match.lower() if match else None
        k = self._held(self._kept, (feature, needle, step), step)
        # Bucket sums are the same whatever the slots' width: shared by every step, so "all"
        # takes the live minutes' sums the last 24 h chart made (at 1,000 lines/s, the most
        # costly buckets of the week).
        sums_of = self._held(self._sums, (feature, needle), 0).buckets
        edge = store.live_edge
        whole_to = min(edge, end)
        # A slot that ends by then is whole: its buckets all settled, none past ``end``.
        todo = {g for g in grid if g not in k.slots or g < start or g + step > whole_to}
        acc: dict[int, list[Any]] = {g: [0, 0, 0, Counter()] for g in todo}
        whole: dict[int, list[tuple[int, Bucket]]] = {
            g: [] for g in todo if g >= start and g + step <= whole_to
        }
        if todo:
            for bstart, bucket in store.buckets_in(max(start, min(todo)), end):
                g = int(bstart // step) * step
                rows = whole.get(g)
                if rows is not None:  # settled all through: folded below, with its neighbours
                    rows.append((bstart, bucket))
                    continue
                a = acc.get(g)
                if a is None:
                    continue
                held = sums_of.get(bstart)
                if held is not None and held[0] is bucket:
                    sums = held[1]
                else:  # (a late line's minute may start where a coarse bucket does: not it)
                    sums = self._fold([(bstart, bucket)], feature, needle)
                    if bstart < edge and held is None:
                        sums_of[bstart] = (bucket, sums)
                a[0] += sums[0]
                a[1] += sums[1]
                a[2] += sums[2]
                merge_into(a[3], sums[3])
            for g, buckets in whole.items():
                acc[g] = self._fold(buckets, feature, needle)
        out: list[tuple[float, SlotStats]] = []
        for g in grid:
            if g in acc:
                calls, errors, units, hist = acc[g]
                p95 = LatencyHistogram(hist).percentile(95) if hist else None
                stats: SlotStats = (calls, errors, units / COST_UNITS, p95)
                if g >= start and g + step <= whole_to:
                    k.slots[g] = stats
            else:
                stats = k.slots[g]
            out.append((float(max(g, start)), stats))
        lo = first - step
        k.slots = {g: v for g, v in k.slots.items() if g >= lo}
        shared = self._sums[(feature, needle)]
        shared.buckets = {b: v for b, v in shared.buckets.items() if b >= lo}
        return out

    def _held(self, held: dict[tuple[Any, ...], _Kept], key: tuple[Any, ...], step: int) -> _Kept:
        """What ``held`` keeps under ``key``, less what a write or a compaction since made
        stale (slots ``step`` wide)."""
        store = self.agg.groups
        k = held.get(key)
        if k is None or k.version != store.version:
            k = _Kept(store.version, store.seq)
            if len(held) > 16:
                held.clear()
            held[key] = k
        else:
            touched = store.oldest_touch_since(k.seq)
            if touched != float("inf"):
                k.slots = {g: v for g, v in k.slots.items() if g + step <= touched}
                k.buckets = {b: v for b, v in k.buckets.items() if b < touched}
        k.seq = store.seq
        return k

    def _fold(
        self, buckets: list[tuple[int, Bucket]], feature: str | None, needle: str | None
    ) -> list[Any]:
        """[calls, errors, cost in nano-dollars, latency counts] of the rows that count in
        ``buckets``; a row whose cost is not kept yet is priced as every fold prices it."""
        rows: list[Row] = []
        prices = self.agg.prices
        for bstart, bucket in buckets:
            if feature is None and needle is None:
                got: Iterable[Row] = bucket.values()
            else:
                got = [
                    row
                    for key, row in bucket.items()
                    if (feature is None or key[0] == feature)
                    and (needle is None or needle in key[0].lower() or needle in key[1].lower())
                ]
            start = len(rows)
            rows.extend(got)
            if None in map(_COST, rows[start:]):
                for bkey, row in bucket.items():
                    if row[B.G_COST] is None:
                        cached_cost(prices, GROUPS_BY_FEATURE, bstart, bkey, row)
        calls = sum(map(_CALLS, rows))
        units = sum(filter(_POSITIVE, map(_COST, rows)))
        hist: Counter[int] = Counter()
        count_hists(hist, calls, list(map(_HIST, rows)))
        return [calls, sum(map(_ERRORS, rows)), units, hist]


_CALLS, _ERRORS = itemgetter(B.G_CALLS), itemgetter(B.G_ERRORS)
_COST, _HIST = itemgetter(B.G_COST), itemgetter(B.G_HIST)
_POSITIVE = (0).__lt__
"""A kept cost that counts (-1: unpriced; 0 adds nothing)."""


class _Kept:
    """What a series keeps between calls: whole settled slots (per step) or settled buckets'
    sums (shared by the steps), valid for the store's layout ``version`` as of ``seq``."""

    __slots__ = ("buckets", "seq", "slots", "version")

    def __init__(self, version: int, seq: int) -> None:
        self.version, self.seq = version, seq
        self.slots: dict[int, SlotStats] = {}
        self.buckets: dict[int, tuple[Bucket, list[Any]]] = {}
        """A settled bucket (by its start) and its [calls, errors, cost in nano-dollars,
        latency counts]."""
