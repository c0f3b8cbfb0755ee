"""Window merges, cached: a window's numbers from its settled buckets plus the live tail.

A TUI refresh and the alert rules ask for a few dozen windows several times a second; merging a
day of buckets for each would cost more than the rest of a refresh. So the merge of a window's
settled buckets is kept (LRU) and only extended as the window's end moves, a rolling window
takes out the buckets its start left behind, and the live bucket is merged once per batch.
Costs are computed per bucket row here, at the prices of the row's date, not per line.

It sits over the ~400 lines we aim for: the one pricing of a row (which the state stores
too) and the folds that read it stay together, so no fold prices a row its own way; and the
three ways a merge starts from kept work (extended, slid, or begun from another window's,
``_reuse``) share one rule of when kept work is still exact (the store's version, the writes
since its seq), which is easier to keep true in one class.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, TypeVar

from msgspec import Struct
from msgspec.structs import replace

from claude_top.core.histogram import merge_into
from claude_top.core.stats import GroupStats, Summary
from claude_top.core.timeutil import utc_date
from claude_top.engine import store as B
from claude_top.engine.accumulate import COARSE, HOUR, MINUTE, Aggregates
from claude_top.engine.accumulators import (
    A_ERRT,
    A_HIST,
    A_UNPRICED_MODELS,
    COST_UNITS,
    acc_counts,
    acc_group,
    acc_user,
    add_acc,
    add_groups,
    fold_user_rows,
    group_stats,
    new_acc,
    unacc_counts,
    unacc_group,
    unacc_user,
)
from claude_top.engine.column_fold import fold_buckets
from claude_top.engine.pricing import ModelPrice, PriceTable
from claude_top.engine.store import Bucket, Row, TieredStore

_V = TypeVar("_V")

CACHED_WINDOWS = 128
"""Merged windows kept (LRU): a TUI refresh plus the alert rules ask for a few dozen."""


class Spec(Struct, frozen=True):
    """How to read one store's rows for one kind of query."""

    by: str
    store_name: str
    name_i: int
    feature_i: int
    model_i: int
    """Index of the model in the row key; the variant follows it."""
    text_keys: int
    """How many leading key parts a ``match`` text is searched in."""
    cost_slot: int
    slots: tuple[int, ...]
    acc: Any
    unacc: Any
    groups: bool = True
    """Fold per-group accumulators; False: the total alone (``GROUPS_COUNTS``)."""
    latency: bool = True
    """Merge the rows' latency histograms (group rows only); False: counters and cost."""


class Cached(Struct):
    accs: dict[str, list[Any]]
    total: list[Any]
    covered: float
    seq: int
    version: int
    aligned: float | None
    """The (minute-aligned) window start the merge begins at."""
    span: int | None
    """Window length in minutes when first asked: a rolling window keeps it as it slides."""


GROUP_SLOTS = (B.G_IN, B.G_CR, B.G_CW5, B.G_CW1, B.G_OUT)
USER_SLOTS = (B.U_IN, B.U_CR, B.U_CW5, B.U_CW1, B.U_OUT)
GROUPS_BY_FEATURE = Spec(
    "feature", "groups", 0, 0, 1, 2, B.G_COST, GROUP_SLOTS, acc_group, unacc_group
)
GROUPS_BY_MODEL = Spec("model", "groups", 1, 0, 1, 2, B.G_COST, GROUP_SLOTS, acc_group, unacc_group)
GROUPS_COUNTS = Spec(
    "counts", "groups", 0, 0, 1, 2, B.G_COST, GROUP_SLOTS, acc_counts, unacc_counts, False, False
)
"""All traffic's counters, without groups or latency: the totals a frame reads only for costs,
429s and calls without a user (``WindowCache.counts``)."""
FEATURE_COUNTS = Spec(
    "feature-counts",
    "groups",
    0,
    0,
    1,
    2,
    B.G_COST,
    GROUP_SLOTS,
    acc_counts,
    unacc_counts,
    True,
    False,
)
"""Per feature, without latency: the alert rules that read counters only."""
USERS_BY_USER = Spec("user", "users", 0, 1, 2, 3, B.U_COST, USER_SLOTS, acc_user, unacc_user)
USERS_BY_FEATURE = Spec("feature", "users", 1, 1, 2, 3, B.U_COST, USER_SLOTS, acc_user, unacc_user)
"""Per feature from the (daily) per-user rows: what a filter that names a user is answered from."""


def row_cost(
    prices: PriceTable, model: str, variant: int, bstart: int, row: Row, slots: tuple[int, ...]
) -> float | None:
    """A row's cost at the prices in force on its bucket's (UTC) date; None if unpriced."""
    price = prices.lookup(model, utc_date(bstart))
    return None if price is None else _priced(price, variant, row, slots)


def bucket_costs(
    prices: PriceTable, spec: Spec, bstart: int, bucket: dict[Any, Row]
) -> Iterator[tuple[Any, Row, float | None]]:
    """(key, row, ``row_cost``) of every row of a bucket, each model's price looked up once
    (the same prices, so the same costs: today's running user sums price ~20,000 rows)."""
    day = utc_date(bstart)
    found: dict[str, ModelPrice | None] = {}
    m, slots = spec.model_i, spec.slots
    for key, row in bucket.items():
        model = key[m]
        if model in found:
            price = found[model]
        else:
            price = found[model] = prices.lookup(model, day)
        yield key, row, None if price is None else _priced(price, key[m + 1], row, slots)


def _priced(price: ModelPrice, variant: int, row: Row, slots: tuple[int, ...]) -> float:
    i, cr, cw5, cw1, o = slots
    return price.cost(
        row[i], row[cr], row[cw5], row[cw1], row[o], tier=variant >> 1, batch=bool(variant & 1)
    )


def cached_cost(prices: PriceTable, spec: Spec, bstart: int, key: Any, row: Row) -> int:
    """A row's cost in whole nano-dollars (-1: unpriced), computed once and kept in the row.

    The one place a bucket row is priced, for every fold (windows, charts, the cost-only fold of
    ``span_costs``; ``price_bucket`` for a whole bucket): ingest and merges reset the kept cost
    when they change the row.
    """
    cost: int | None = row[spec.cost_slot]
    if cost is None:
        cost = row[spec.cost_slot] = row_units(prices, spec, bstart, key, row)
    return cost


def row_units(prices: PriceTable, spec: Spec, bstart: int, key: Any, row: Row) -> int:
    """What ``cached_cost`` keeps, computed afresh: also the cost a state stores with each
    row (``state.save``), so a sum of them in SQL is the sum the folds make."""
    m = spec.model_i
    return _units(row_cost(prices, key[m], key[m + 1], bstart, row, spec.slots))


def _units(cost: float | None) -> int:
    """A row's kept cost: whole nano-dollars, -1 when unpriced (the one rounding rule)."""
    return -1 if cost is None else round(cost * COST_UNITS)


def price_bucket(prices: PriceTable, spec: Spec, bstart: int, bucket: dict[Any, Row]) -> None:
    """``cached_cost`` for every row of a bucket not priced yet, each model's price looked up
    once: a ``check`` from a state prices every row it loaded, ~28,000 of them a week."""
    cost_slot, price = spec.cost_slot, _pricer(prices, spec, bstart)
    for key, row in bucket.items():
        if row[cost_slot] is None:
            price(key, row)


class WindowCache:
    """Merged windows over an ``Aggregates``' stores (callers hold the engine's lock)."""

    def __init__(self, agg: Aggregates) -> None:
        self.agg = agg
        self._cache: OrderedDict[tuple[Any, ...], Cached] = OrderedDict()
        self._tails: dict[tuple[Any, ...], Cached] = {}

    def summary(
        self,
        spec: Spec,
        start: float | None,
        end: float | None,
        match: str | None,
        feature: str | None,
    ) -> Summary:
        cached, tail = self.window(spec, start, end, match.lower() if match else None, feature)
        with_latency = spec.store_name == "groups" and spec.latency
        name = feature if feature is not None else "*"
        accs, tails = cached.accs, tail.accs
        groups = {
            n: group_stats(n, accs.get(n), tails.get(n), with_latency)
            for n in accs.keys() | tails.keys()
        }
        return Summary(
            start,
            end,
            spec.by,
            group_stats(name, cached.total, tail.total, with_latency),
            groups,
        )

    def total(self, start: float | None, end: float | None) -> GroupStats:
        cached, tail = self.window(GROUPS_BY_FEATURE, start, end, None, None)
        return group_stats("*", cached.total, tail.total, True)

    def counts(self, start: float | None, end: float | None) -> GroupStats:
        """``total`` without its latency (None): the same counters and cost, from a fold of
        the rows into the total alone, without per-group sums or histograms."""
        cached, tail = self.window(GROUPS_COUNTS, start, end, None, None)
        return group_stats("*", cached.total, tail.total, False)

    def window(
        self,
        spec: Spec,
        start: float | None,
        end: float | None,
        needle: str | None,
        feature: str | None,
    ) -> tuple[Cached, Cached]:
        """A window's merged accumulators, as a cached merge of its settled buckets plus a tail.

        Buckets older than the newest one being written are "settled": their merge is kept per
        (view, window start) and only extended as the window's end moves, so a 4 Hz refresh
        merges a minute of new data, not a day of old data. A batch that writes into a settled
        bucket (late lines), or a compaction, makes the cache start over. The tail (the live
        bucket) is merged into separate accumulators: nothing cached is copied or changed.
        """
        if spec.store_name == "groups" and not self.agg.track_groups:
            raise RuntimeError("this engine keeps no group rows (track_groups=False)")
        store: TieredStore = getattr(self.agg, spec.store_name)
        store.check_window(start, end)
        hists = self.agg.whole_hists if spec.store_name == "groups" and spec.latency else None
        if hists is not None:  # a whole read's: rows folded without, the keys' latency after
            self.agg.check_latency_window(start, end)
            spec = replace(spec, acc=acc_counts, unacc=unacc_counts, latency=False)
        aligned = None if start is None else -(-start // MINUTE) * MINUTE
        # A window that ends well inside settled data (yesterday, the same hours of an earlier
        # day) is cached under its end too, so it does not evict the open window with the same
        # start. "Well inside": a writer's clock a little ahead of ours must not turn the live
        # window into a new closed one at every refresh.
        closed = None
        if end is not None and end <= store.live_edge - HOUR:
            # One cache entry per quarter hour of end: within it a growing end (the same hours
            # of an earlier day, moving with the clock) extends the merge instead of redoing it.
            closed = -(-end // COARSE) * COARSE
        span = None if start is None or end is None else round((end - start) / MINUTE)
        key = (spec.by, spec.store_name, needle, feature, aligned, closed)
        c = self._cache.get(key)
        if c is None and aligned is not None and closed is None:
            c = self._slide(spec, store, key, aligned, span)
        if (
            c is None
            or c.version != store.version
            or (end is not None and end < c.covered)
            or store.oldest_touch_since(c.seq) < c.covered
        ):
            lo = float("-inf") if start is None else start
            c = Cached({}, new_acc(), lo, store.seq, store.version, aligned, span)
            self._reuse(spec, store, key, c, end, needle, feature)
            self._cache[key] = c
            if len(self._cache) > CACHED_WINDOWS:
                self._cache.popitem(last=False)  # least recently used
        else:
            self._cache.move_to_end(key)
        edge = store.live_edge
        older = store.older
        if older is not None:  # the older rows do not change: settled, whatever memory holds
            edge = max(edge, older.before)
        settled = edge if end is None else min(end, edge)
        if settled > c.covered:
            lo = c.covered
            summed = None
            if older is not None and lo < older.before:
                summed = older.rows(lo, min(settled, older.before))
                lo = older.before
            self._extend(spec, c, summed, store.buckets_in(lo, settled), needle, feature)
            c.covered = settled
        c.seq = store.seq
        # Every open window of one view shares the same tail (the live bucket up to now):
        # merge it once per batch of data, not once per window. An end past the newest bucket's
        # start takes in the same buckets as no end at all (no bucket starts later), so "all"
        # and the rolling windows ending now share one tail too.
        tail_end = None if end is None or end > edge else end
        tkey = (spec.by, spec.store_name, needle, feature, c.covered, tail_end, store.seq)
        tail = self._tails.get(tkey)
        if tail is None:
            tail = self._tail(spec, store, c.covered, tail_end, needle, feature)
            if len(self._tails) > 32:
                self._tails.clear()
            self._tails[tkey] = tail
        if hists is not None:
            _whole_latency(spec, hists, c, tail, needle, feature)
        return c, tail

    def _extend(
        self,
        spec: Spec,
        c: Cached,
        summed: Iterable[tuple[Any, Row]] | None,
        buckets: Iterable[tuple[int, Bucket]],
        needle: str | None,
        feature: str | None,
    ) -> None:
        """Fold the ``Older`` sums (already priced) and the buckets into a cached merge: each
        row into its group alone, then the new groups into the cached groups and total
        (``add_groups``). Folding every row twice, into its group and into the total, was half
        of a 500-feature query's time. Whole group buckets are folded a column at a time
        (``column_fold``); per-user rows (about a row per group, no histogram) row by row, into
        their group and the total."""
        whole = needle is None and feature is None and spec.acc in (acc_group, acc_counts)
        if spec.store_name != "groups" or not (spec.groups or whole):
            if summed is not None:
                self._fold(spec, 0, summed, c.accs, c.total, needle, feature)
            for bstart, bucket in buckets:
                self._fold(spec, bstart, bucket.items(), c.accs, c.total, needle, feature)
            return
        agg = self.agg
        part: dict[str, list[Any]] = {}
        if not spec.groups:  # the total alone (``GROUPS_COUNTS``): the groups' sums, added up
            if summed is not None:
                self._fold(spec, 0, summed, c.accs, c.total, needle, feature)
            fold_buckets(agg.prices, spec.slots, spec.name_i, spec.model_i, buckets, part,
                         agg.cache_costs, False)  # fmt: skip
            for acc in part.values():
                add_acc(c.total, acc)
            return
        scratch = new_acc()  # not written: ``total_hist`` is False
        if summed is not None:
            self._fold(spec, 0, summed, part, scratch, needle, feature, False)
        if whole:
            fold_buckets(agg.prices, spec.slots, spec.name_i, spec.model_i, buckets, part,
                         agg.cache_costs, spec.acc is acc_group)  # fmt: skip
        else:
            for bstart, bucket in buckets:
                self._fold(spec, bstart, bucket.items(), part, scratch, needle, feature, False)
        add_groups(c.accs, c.total, part)

    def _tail(
        self,
        spec: Spec,
        store: TieredStore,
        start: float,
        end: float | None,
        needle: str | None,
        feature: str | None,
    ) -> Cached:
        """The live part of a window: its groups folded row by row, its total from the groups.

        The total's latency histogram is left as the groups' histograms, merged only if a
        percentile of the total is asked for (the KPIs of the shown window; not the day's
        cost, the 429 counts or the line health that read other windows' totals): merging every
        row's histogram twice, into its group and into the total, was most of a refresh's work.
        """
        tail = Cached({}, new_acc(), start, store.seq, store.version, None, None)
        if not spec.groups:
            for bstart, bucket in store.buckets_in(start, end):
                self._fold(spec, bstart, bucket.items(), tail.accs, tail.total, needle, feature)
            return tail
        scratch = new_acc()
        for bstart, bucket in store.buckets_in(start, end):
            self._fold(
                spec, bstart, bucket.items(), tail.accs, scratch, needle, feature, total_hist=False
            )
        total = tail.total
        for acc in tail.accs.values():
            add_acc(total, acc)
        hists = [acc[A_HIST] for acc in tail.accs.values() if acc[A_HIST]]
        total[A_HIST] = _Merged(hists) if hists else None
        return tail

    def _reuse(
        self,
        spec: Spec,
        store: TieredStore,
        key: tuple[Any, ...],
        c: Cached,
        end: float | None,
        needle: str | None,
        feature: str | None,
    ) -> None:
        """Start a new merge from a kept one it contains: fold the buckets before that one's
        start, then add its sums (copied: both go on changing apart).

        Switching from "last 24 h" to "all" would otherwise fold the day again; the day's
        minute rows are a third of a week's rows. Only a merge of the same view that is still
        exact counts: the store's layout unchanged since it was made, nothing written since
        into a bucket it holds, and its buckets ([its start, what it covers)) all inside the
        new window's.
        """
        if store.older is not None or spec.store_name != "groups":
            # Rows summed per span: the plain fold. Per-user merges hold a sum per user (a
            # million, some days): copying them would cost about what folding their rows does.
            return
        settled = store.live_edge if end is None else min(end, store.live_edge)
        best: Cached | None = None
        best_from = float("inf")
        for old_key, o in self._cache.items():
            if (
                old_key[:4] != key[:4]
                or o.aligned is None
                or o.aligned < c.covered
                or o.covered <= o.aligned
                or o.covered > settled
                or o.version != store.version
                or store.oldest_touch_since(o.seq) < o.covered
            ):
                continue
            if best is None or o.aligned < best_from:
                best, best_from = o, o.aligned
        if best is None:
            return
        self._extend(spec, c, None, store.buckets_in(c.covered, best.aligned), needle, feature)
        part = {name: _copy_acc(acc) for name, acc in best.accs.items()}
        if spec.groups:
            add_groups(c.accs, c.total, part)
        else:
            add_acc(c.total, best.total)
        c.covered = best.covered

    def _slide(
        self,
        spec: Spec,
        store: TieredStore,
        key: tuple[Any, ...],
        aligned: float,
        span: int | None,
    ) -> Cached | None:
        """A rolling window whose start moved on: take the buckets it left out of the merge.

        "Last 24 h" gets a new start every minute; merging the day again each time would cost
        more than the rest of a refresh, while taking out the minute that left costs little.
        """
        if store.older is not None:
            return None  # its rows were summed per span, not per bucket: fold it again
        for old_key in reversed(self._cache):
            if old_key[:4] != key[:4] or old_key[5] is not None:
                continue
            c = self._cache[old_key]
            if (
                c.span != span  # only the same rolling window, never another one's merge
                or c.aligned is None
                or not c.aligned < aligned < c.covered
                or c.version != store.version
                or store.oldest_touch_since(c.seq) < c.covered
            ):
                continue
            for sums in (*c.accs.values(), c.total):  # copy on write (``add_groups``)
                if sums[A_HIST]:
                    sums[A_HIST] = dict(sums[A_HIST])
            name_i, model_i = spec.name_i, spec.model_i
            for bstart, bucket in store.buckets_in(c.aligned, aligned):
                for bkey, row in bucket.items():
                    if key[3] is not None and bkey[spec.feature_i] != key[3]:
                        continue
                    needle = key[2]
                    if needle is not None and not any(
                        needle in k.lower() for k in bkey[: spec.text_keys]
                    ):
                        continue
                    cost = row[spec.cost_slot]
                    if cost is None:  # folded without keeping it (``cache_costs``): the same price
                        cost = row_units(self.agg.prices, spec, bstart, bkey, row)
                    if not spec.groups:
                        spec.unacc(c.total, row, cost, bkey[model_i])
                        continue
                    acc = c.accs.get(bkey[name_i])
                    if acc is not None:
                        spec.unacc(acc, row, cost, bkey[model_i])
                        spec.unacc(c.total, row, cost, bkey[model_i])
                        if acc[B.G_CALLS] == 0 and not acc[A_HIST]:
                            del c.accs[bkey[name_i]]
                del bstart
            del self._cache[old_key]
            c.aligned = aligned
            self._cache[key] = c
            return c
        return None

    def _fold(
        self,
        spec: Spec,
        bstart: int,
        rows: Iterable[tuple[Any, Row]],
        accs: dict[str, list[Any]],
        total: list[Any],
        needle: str | None,
        feature: str | None,
        total_hist: bool = True,
    ) -> None:
        """Fold a bucket's rows (or ``Older`` sums, already priced) into their groups'
        accumulators and into ``total`` (with ``total_hist`` False, ``total`` is scratch: the
        caller sums the groups instead)."""
        name_i, model_i = spec.name_i, spec.model_i
        cost_slot, acc_fn, groups = spec.cost_slot, spec.acc, spec.groups
        if feature is not None or needle is not None:
            rows = _wanted(spec, rows, needle, feature)
        price = _pricer(self.agg.prices, spec, bstart, self.agg.cache_costs)
        if acc_fn is acc_user and groups:
            fold_user_rows(rows, accs, total, name_i, model_i, price)
            return
        for key, row in rows:
            cost = row[cost_slot]
            if cost is None:
                cost = price(key, row)
            if not groups:
                acc_fn(total, row, cost, key[model_i])
                continue
            name = key[name_i]
            acc = accs.get(name)
            if acc is None:
                acc = accs[name] = new_acc()
            acc_fn(acc, row, cost, key[model_i])
            if total_hist:
                acc_fn(total, row, cost, key[model_i])


def _whole_latency(
    spec: Spec,
    hists: Mapping[Any, dict[int, int]],
    c: Cached,
    tail: Cached,
    needle: str | None,
    feature: str | None,
) -> None:
    """A whole read's latency, into a window of all of it folded without: each group's
    histogram from its keys' (``Aggregates.whole_hists``), the total's from the groups'. Each
    is a new dict, held by the cached merge (or the tail, for a group only it holds)."""
    by_name: dict[str, dict[int, int]] = {}
    for key, h in _wanted(spec, hists.items(), needle, feature):
        name = key[spec.name_i]
        mine = by_name.get(name)
        if mine is None:
            by_name[name] = dict(h)
        else:
            merge_into(mine, h)
    total: dict[int, int] = {}
    for name, h in by_name.items():
        acc = c.accs.get(name) or tail.accs.get(name)
        if acc is not None:
            acc[A_HIST] = h
            merge_into(total, h)
    c.total[A_HIST] = total


def _wanted(
    spec: Spec, rows: Iterable[tuple[Any, _V]], needle: str | None, feature: str | None
) -> Iterator[tuple[Any, _V]]:
    """The rows (or any value by key) of ``feature`` whose text keys contain ``needle`` (either
    may be None)."""
    feat_i, text_keys = spec.feature_i, spec.text_keys
    for key, row in rows:
        if feature is not None and key[feat_i] != feature:
            continue
        if needle is not None and not any(needle in k.lower() for k in key[:text_keys]):
            continue
        yield key, row


def _pricer(
    prices: PriceTable, spec: Spec, bstart: int, keep: bool = True
) -> Callable[[Any, Row], int]:
    """``cached_cost`` for the rows of one bucket, each model's price on the bucket's date
    looked up once (the date when first needed); ``keep`` False leaves the rows as they were
    (``Aggregates.cache_costs``)."""
    found: dict[str, ModelPrice | None] = {}
    m, cost_slot, slots = spec.model_i, spec.cost_slot, spec.slots
    day: list[Any] = []

    def price(key: Any, row: Row) -> int:
        model = key[m]
        if model in found:
            p = found[model]
        else:
            if not day:
                day.append(utc_date(bstart))
            p = found[model] = prices.lookup(model, day[0])
        cost: int = _units(None if p is None else _priced(p, key[m + 1], row, slots))
        if keep:
            row[cost_slot] = cost
        return cost

    return price


def _copy_acc(acc: list[Any]) -> list[Any]:
    """An accumulator that can change apart from ``acc``: its dicts that are written in place
    copied (the histogram is copied on write wherever a kept merge changes, so it is shared)."""
    out = list(acc)
    if out[A_ERRT] is not None:
        out[A_ERRT] = dict(out[A_ERRT])
    if out[A_UNPRICED_MODELS] is not None:
        out[A_UNPRICED_MODELS] = dict(out[A_UNPRICED_MODELS])
    return out


class _Merged(Mapping[int, int]):
    """Histogram counts that are the sum of several, added up when first read.

    The parts are a tail's own group histograms, never changed once the tail is built, so the
    sum is the same whenever (and on whichever thread) it is first read.
    """

    __slots__ = ("_counts", "_parts")

    def __init__(self, parts: list[dict[int, int]]) -> None:
        self._parts = parts
        self._counts: dict[int, int] | None = None

    def _merged(self) -> dict[int, int]:
        if self._counts is None:
            counts = dict(self._parts[0])
            for part in self._parts[1:]:
                merge_into(counts, part)
            self._counts = counts
        return self._counts

    def __bool__(self) -> bool:
        return True  # built from non-empty parts only

    def __getitem__(self, k: int) -> int:
        return self._merged()[k]

    def __iter__(self) -> Iterator[int]:
        return iter(self._merged())

    def __len__(self) -> int:
        return len(self._merged())
