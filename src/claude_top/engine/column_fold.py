"""A window's fold of whole group buckets, a column at a time: the fast path of its merge.

A one-shot ``summary`` over 500 features folds about 730,000 group rows, most of them holding
a line or two, so the fold's per-row Python (a call to price the row, another to add its 13
counters, a loop over its latency histogram) was a quarter of the run. Here the rows are first
gathered per key (feature, model, variant) by C loops (``map`` over a ``defaultdict``'s
lists), and each key's rows are then summed a column at a time: ``sum`` of each counter's
column, the costs from ``ModelPrice.costs`` (the float operations of ``ModelPrice.cost``, row
by row, so every row costs what it costs on the slow path, rounded the same way), and the
histograms' (bucket, count) pairs counted by ``Counter`` before they are added.

Rows are gathered over buckets whose days all price alike (``PriceTable.price_epoch``), so a
key's rows share one price, looked up once. The result is exactly ``WindowCache._fold``'s with
``acc_group`` or ``acc_counts``: integer sums, whatever the order (``test_column_fold``).
"""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict, deque
from collections.abc import Iterable, Sequence
from itertools import chain, repeat, starmap
from operator import mul, setitem
from typing import Any, Final

from claude_top.core.histogram import merge_into
from claude_top.core.timeutil import utc_date
from claude_top.engine import store as B
from claude_top.engine.accumulators import (
    A_COST,
    A_ERRT,
    A_HIST,
    A_UNPRICED,
    A_UNPRICED_MODELS,
    COST_UNITS,
    new_acc,
)
from claude_top.engine.pricing import ModelPrice, PriceTable
from claude_top.engine.store import Bucket, Key, Row

GATHER_ROWS: Final = 1 << 17
"""Rows gathered before they are folded: enough that a key's list holds many rows (the work
saved is per row, the work added per list), few enough that the lists' references (8 bytes a
row, 1 MiB) add nothing to the peak a read reaches."""
CHUNK_ROWS: Final = 1 << 13
"""A key's rows are summed this many at a time: a column of each slot is made for them."""
ELEMENTS_PER_PAIR: Final = 4
"""Histogram pairs are counted call by call (in C) up to this many calls a pair; beyond it
(few lines of many calls each: five features) they are added pair by pair."""

_NUMERIC = range(B.G_NUMERIC)
_NONE: Final = -1
"""A row's kept cost when no price is in force (``window_cache._units``)."""


def fold_buckets(
    prices: PriceTable,
    slots: tuple[int, ...],
    name_i: int,
    model_i: int,
    buckets: Iterable[tuple[int, Bucket]],
    accs: dict[str, list[Any]],
    keep: bool,
    with_hist: bool,
) -> None:
    """Fold every group row of ``buckets`` ((start, rows by key)) into ``accs``, by the key
    part ``name_i``, as ``acc_group`` (``with_hist``) or ``acc_counts`` row by row would.

    A row whose cost is not kept is priced at its bucket's date; ``keep`` keeps the cost in
    the row, as ``window_cache.cached_cost`` does. ``slots`` are the token slots in the order
    ``ModelPrice.cost`` takes them (``Spec.slots``).
    """
    fold = _Fold(prices, slots, name_i, model_i, accs, keep, with_hist)
    gathered: defaultdict[Key, list[Row]] = defaultdict(list)
    epoch: int | None = None
    day = datetime.date.min
    held = 0
    for bstart, bucket in buckets:
        d = utc_date(bstart)
        e = prices.price_epoch(d)
        if e != epoch or held >= GATHER_ROWS:
            if held:
                fold.gathered(day, gathered)
                gathered = defaultdict(list)
            epoch, day, held = e, d, 0
        # Each row onto its key's list, in C: no bytecode runs per row.
        deque(map(list.append, map(gathered.__getitem__, bucket), bucket.values()), 0)
        held += len(bucket)
    if held:
        fold.gathered(day, gathered)
    fold.finish()


class _Fold:
    """What ``fold_buckets`` folds into: the groups' accumulators, and their histograms'
    counts as a ``Counter`` each until the end (``finish``)."""

    __slots__ = ("accs", "counts", "keep", "model_i", "name_i", "prices", "slots", "with_hist")

    def __init__(
        self,
        prices: PriceTable,
        slots: tuple[int, ...],
        name_i: int,
        model_i: int,
        accs: dict[str, list[Any]],
        keep: bool,
        with_hist: bool,
    ) -> None:
        self.prices, self.slots, self.name_i, self.model_i = prices, slots, name_i, model_i
        self.accs, self.keep, self.with_hist = accs, keep, with_hist
        self.counts: dict[str, Counter[int]] = {}

    def gathered(self, day: datetime.date, gathered: dict[Key, list[Row]]) -> None:
        """Each key's rows, all of buckets on days priced as ``day`` is, into its group."""
        found: dict[str, ModelPrice | None] = {}
        accs, model_i = self.accs, self.model_i
        for key, rows in gathered.items():
            name = key[self.name_i]
            acc = accs.get(name)
            if acc is None:
                acc = accs[name] = new_acc()
            model = key[model_i]
            for j in range(0, len(rows), CHUNK_ROWS):
                chunk = rows[j : j + CHUNK_ROWS] if len(rows) > CHUNK_ROWS else rows
                cols = list(zip(*chunk, strict=True))
                units: Sequence[Any] = cols[B.G_COST]  # ints, or None where not kept
                if None in units:  # looked up only then, as the slow path does
                    if model not in found:
                        found[model] = self.prices.lookup(model, day)
                    units = _priced(found[model], key[model_i + 1], cols, self.slots, units)
                    if self.keep:
                        deque(map(setitem, chunk, repeat(B.G_COST), units), 0)
                self._add(acc, name, cols, units, model)

    def _add(
        self,
        acc: list[Any],
        name: str,
        cols: list[tuple[Any, ...]],
        units: Sequence[int],
        model: str,
    ) -> None:
        """One key's rows (as columns, with their costs) into its group's accumulator."""
        for s in _NUMERIC:
            acc[s] += sum(cols[s])
        if min(units) >= 0:
            acc[A_COST] += sum(units)
        else:
            unpriced = 0
            for calls, cost in zip(cols[B.G_CALLS], units, strict=True):
                if cost < 0:
                    unpriced += calls
                else:
                    acc[A_COST] += cost
            acc[A_UNPRICED] += unpriced
            um = acc[A_UNPRICED_MODELS]
            if um is None:
                um = acc[A_UNPRICED_MODELS] = {}
            um[model] = um.get(model, 0) + unpriced
        errs = list(filter(None, cols[B.G_ERRTYPES]))
        if errs:
            e = acc[A_ERRT]
            if e is None:
                e = acc[A_ERRT] = {}
            for x in errs:
                merge_into(e, x)
        if self.with_hist:
            counts = self.counts.get(name)
            if counts is None:
                counts = self.counts[name] = Counter()
            count_hists(counts, sum(cols[B.G_CALLS]), cols[B.G_HIST])

    def finish(self) -> None:
        """The groups' histograms from their counts (a group folded before, from ``Older``
        sums, has one already)."""
        accs = self.accs
        for name, counts in self.counts.items():
            acc = accs[name]
            h = acc[A_HIST]
            if h is None:
                acc[A_HIST] = dict(counts)
            else:
                merge_into(h, counts)


def count_hists(counts: Counter[int], calls: int, hists: Sequence[Any]) -> None:
    """Add rows' latency histograms (dicts or ``Settled``) holding ``calls`` calls in all to
    ``counts``: the same counts as ``merge_into`` of each, with as little bytecode per pair
    as the rows allow (the window fold here, the charts' slots in ``series``)."""
    if calls > ELEMENTS_PER_PAIR * sum(map(len, hists)):
        for x in hists:  # many calls a (bucket, count) pair: add the pairs
            merge_into(counts, x)
        return
    if dict in map(type, hists):  # the fine tier's rows, or a settled row written again
        pairs = chain.from_iterable(x.items() for x in hists)
    else:
        pairs = chain.from_iterable(hists)  # ``Settled``: a tuple of its pairs
    # A call or two a pair (most rows of many features hold a line or two): each pair as its
    # bucket that many times, counted in C.
    counts.update(chain.from_iterable(starmap(repeat, pairs)))


def _priced(
    price: ModelPrice | None,
    variant: int,
    cols: list[tuple[Any, ...]],
    slots: tuple[int, ...],
    kept: Sequence[int | None],
) -> list[int]:
    """The rows' costs in whole nano-dollars (-1: unpriced): the kept one where a row has it,
    else ``round(cost * COST_UNITS)`` as ``window_cache._units`` rounds it."""
    if price is None:
        fresh: Iterable[int] = repeat(_NONE)
    else:
        i, cr, cw5, cw1, o = slots
        usd = price.costs(
            cols[i], cols[cr], cols[cw5], cols[cw1], cols[o],
            tier=variant >> 1, batch=bool(variant & 1),
        )  # fmt: skip
        fresh = map(float.__round__, map(mul, usd, repeat(COST_UNITS)))  # ``round``, unlooked-up
    if kept.count(None) == len(kept):
        return list(fresh) if price is not None else [_NONE] * len(kept)
    return [f if k is None else k for k, f in zip(kept, fresh, strict=False)]
