"""Sparkline series: per-group values in fixed slots over a span, for the TUI's trend columns.

Counts (calls, errors) of settled buckets are cached per (start, step) and only extended as the
span's end moves, as window merges are (``window_cache``); p95 series merge histograms per slot.
"""

from __future__ import annotations

from typing import Any

from claude_top.core.histogram import LatencyHistogram, merge_into
from claude_top.engine import store as B
from claude_top.engine.accumulate import Aggregates
from claude_top.engine.window_cache import Cached


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
