"""Counters held in time buckets, so any window is answered from memory.

Recent data sits in one-minute buckets (windows of 5 or 10 minutes need them); older data is
merged into coarser buckets as it ages, so memory grows with the time span and the number of
distinct keys, not with the number of lines. Each record lives in exactly one bucket of one tier,
so summing the buckets a window covers counts every call once.

Rows are plain lists with fixed slots: the ingest hot path increments them in place, and plain
lists are the cheapest mutable thing CPython has.

Over 400 lines: the row layouts, the functions that merge and settle rows of each layout and
the tiered store that applies them change together (a slot added to a row is added to its
merge, its settled form and the store's compaction), so they are kept in one module.
"""

from __future__ import annotations

import math
import operator
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol

from claude_top.core.histogram import Settled, merge_into, settle

Row = list[Any]
Key = tuple[Any, ...]
Bucket = dict[Key, Row]

# Group rows: key (feature, model, variant).
G_CALLS, G_ERRORS, G_429, G_529 = 0, 1, 2, 3
G_IN, G_OUT, G_CR, G_CW5, G_CW1 = 4, 5, 6, 7, 8
G_LATSUM, G_MAXTOK, G_CLAMPED, G_NOUSER = 9, 10, 11, 12
G_HIST, G_ERRTYPES, G_COST = 13, 14, 15
G_NUMERIC = 13
"""Slots 0..12 are summed when rows merge; the histogram and error types are merged as dicts.
``merge_group_row`` and ``accumulators.acc_group`` add them one by one (checked at import)."""


def new_group_row() -> Row:
    return [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, {}, None, None]


# User rows: key (user, feature, model, variant).
U_CALLS, U_ERRORS, U_429 = 0, 1, 2
U_IN, U_OUT, U_CR, U_CW5, U_CW1 = 3, 4, 5, 6, 7
U_COST = 8
U_NUMERIC = 8


def new_user_row() -> Row:
    return [0, 0, 0, 0, 0, 0, 0, 0, None]


def merge_group_row(acc: Row, row: Row) -> None:
    # Slots 0..12 unrolled (half the cost of a loop): a compaction merges many rows.
    acc[0] += row[0]
    acc[1] += row[1]
    acc[2] += row[2]
    acc[3] += row[3]
    acc[4] += row[4]
    acc[5] += row[5]
    acc[6] += row[6]
    acc[7] += row[7]
    acc[8] += row[8]
    acc[9] += row[9]
    acc[10] += row[10]
    acc[11] += row[11]
    acc[12] += row[12]
    add_hist(acc, row[G_HIST])
    if row[G_ERRTYPES]:
        if acc[G_ERRTYPES] is None:
            acc[G_ERRTYPES] = {}
        merge_into(acc[G_ERRTYPES], row[G_ERRTYPES])
    acc[G_COST] = None


def merge_whole_group_row(acc: Row, row: Row) -> None:
    """``merge_group_row`` for a whole read's rows, whose histogram is their key's one over the
    whole read (``Aggregates.whole_hists``): the counters and error types only. A merge of two
    engines' rows merges the two keys' histograms once (``Engine.absorb_state``), not once per
    day the two share."""
    for i in range(G_NUMERIC):
        acc[i] += row[i]
    if row[G_ERRTYPES]:
        if acc[G_ERRTYPES] is None:
            acc[G_ERRTYPES] = {}
        merge_into(acc[G_ERRTYPES], row[G_ERRTYPES])
    acc[G_COST] = None


def add_hist(row: Row, counts: dict[int, int] | Settled) -> None:
    """Add latency bucket counts to a group row's histogram, a dict again if it was settled."""
    h = row[G_HIST]
    if type(h) is not dict:
        h = row[G_HIST] = dict(h)
    merge_into(h, counts)


SHARED_BELOW = 1 << 16
"""Counter values from 0 below this are shared by settled rows: one int object of each, made once per
process on the first settle (``shared_ints``: 2.5 MiB). A 500-feature week's coarse counters
are below it in 99.2 to 100% of rows, slot by slot; a larger value keeps its own object. A
fixed table indexed by value costs a third of the time of a dict that learns the values
(``setdefault``: hashing, probing, a call), and needs no rule for when it has grown too big."""

_SHARED: list[int] = []


def shared_ints() -> list[int]:
    """The int object of each value below ``SHARED_BELOW``, by value (made on first use)."""
    if not _SHARED:
        _SHARED.extend(range(SHARED_BELOW))
    return _SHARED


def settle_group_rows(rows: Iterable[Row], ints: list[int]) -> None:
    """Group rows that have moved up a tier keep their histograms as ``Settled``, and their
    token and latency counters as the one int object of each value (``share_counters``).

    With 500 features most coarse rows hold a line or two, so their counters are a line's: each
    a 32-byte int object of its own, 56 MiB over 573,000 rows, while the distinct values were
    124,000. The same value is the same number, so every reader reads the same row, and a row
    that takes more counts gets a dict histogram and new ints, as before. A row whose histogram
    is already settled was settled before and not written since: it is left as it is. A
    bucket's rows at a time: a call per row was a tenth of a 500-feature compaction.
    """
    fresh = [row for row in rows if type(row[G_HIST]) is dict]
    for row in fresh:
        row[G_HIST] = settle(row[G_HIST])
    share_counters(fresh, ints)


def share_counters(rows: Iterable[Row], ints: list[int]) -> None:
    """Rows' token and latency counters as the one int object of each value (``ints``, from
    ``shared_ints``); the same numbers, so a row may be written after as before.

    Unrolled, the slots past the small ints: the 1-hour cache writes, call and flag counts are
    mostly small ints, which CPython shares already."""
    lim, g_in, g_out, g_cr, g_cw5, g_lat = SHARED_BELOW, G_IN, G_OUT, G_CR, G_CW5, G_LATSUM
    for row in rows:
        v = row[g_in]
        if 0 <= v < lim:
            row[g_in] = ints[v]
        v = row[g_out]
        if 0 <= v < lim:
            row[g_out] = ints[v]
        v = row[g_cr]
        if 0 <= v < lim:
            row[g_cr] = ints[v]
        v = row[g_cw5]
        if 0 <= v < lim:
            row[g_cw5] = ints[v]
        v = row[g_lat]
        if 0 <= v < lim:
            row[g_lat] = ints[v]


def merge_user_row(acc: Row, row: Row) -> None:
    for i in range(U_NUMERIC):
        acc[i] += row[i]
    acc[U_COST] = None


def unsettle_group_rows(rows: Iterable[Row]) -> None:
    """Settled group rows made writable in place again: each histogram a dict (the counters
    are ints either way). For a single-tier store's bucket that takes a late line."""
    for row in rows:
        h = row[G_HIST]
        if type(h) is not dict:
            row[G_HIST] = dict(h)


def _no_histograms(rows: Iterable[Row]) -> None:
    """A whole read's rows have no histogram of their own to make writable again."""


SETTLE: dict[Callable[[Row, Row], None], Callable[[Iterable[Row], list[int]], None]] = {
    merge_group_row: settle_group_rows,
    merge_whole_group_row: share_counters,  # the histogram is the key's, written in place
}
"""The settled form of the rows a store merges with each merge function (``TieredStore``): only
group rows have one; the other stores' rows are few or hold no histogram."""
UNSETTLE: dict[Callable[[Row, Row], None], Callable[[Iterable[Row]], None]] = {
    merge_group_row: unsettle_group_rows,
    merge_whole_group_row: _no_histograms,
}

DAY = 0
"""Tier width of calendar days in the store's time zone (a day is not always 86,400 s)."""
ARCHIVE = -1
"""Tier width of a single catch-all bucket (start 0): answers "all", no dated window."""


class Older(Protocol):
    """The group rows of every bucket that starts before ``before``, kept outside memory.

    A one-shot ``check`` from a state loads only its newest buckets and has the older ones
    summed where they are (``state.older``, SQL over the file it just committed), instead of
    building a Python row for each of a week's rows. The folds that read a span below
    ``before`` (``window_cache``, ``span_costs``) take these sums in place of the buckets.
    """

    @property
    def before(self) -> float: ...

    def rows(self, start: float, end: float) -> Iterable[tuple[Key, Row]]:
        """Rows summed per key over the buckets starting in [start, end) (``end`` at most
        ``before``), their cost slot set; a key may come twice (priced and unpriced days)."""
        ...

    def costs(
        self, start: float, end: float, by_model: bool
    ) -> Iterable[tuple[str, str, int, int]]:
        """(feature, model or "", calls, priced cost units) over the same buckets: per
        feature, or per feature and model (``by_model``, for a filter)."""
        ...


class Tier:
    """Buckets of one width; ``keep`` is how long a bucket stays before it moves up a tier."""

    __slots__ = ("buckets", "keep", "width")

    def __init__(self, width: int, keep: float) -> None:
        self.width = width
        """Seconds, ``DAY`` for calendar days, or ``ARCHIVE``."""
        self.keep = keep
        self.buckets: dict[int, Bucket] = {}


class TieredStore:
    """A stack of tiers from fine to coarse, with rows of one layout."""

    def __init__(
        self,
        tiers: list[tuple[int, float]],
        new_row: Callable[[], Row],
        merge_row: Callable[[Row, Row], None],
        day_start: Callable[[float], int] | None = None,
        whole: bool = False,
    ) -> None:
        self.tiers = [Tier(w, k) for w, k in tiers]
        self.whole = whole
        """Built to answer whole windows only (a one-shot read's day rows): a window
        whose bound cuts a bucket is refused (``check_window``), not counted as the whole
        bucket."""
        self.fine = self.tiers[0].buckets
        self.new_row = new_row
        self.merge_row = merge_row
        self.settle_row = SETTLE.get(merge_row)
        """What the rows that moved up a tier are made into (group rows: ``settle_group_rows``;
        None: rows stay as they are, and so do the fine tier's counters)."""
        self.unsettle_row = UNSETTLE.get(merge_row)
        self.settled: set[int] = set()
        """A single-tier store's buckets whose rows are settled in place (``settle_closed``):
        a writer that opens one of them calls ``reopen`` first, and a merge of another store's
        buckets (``Engine.absorb_state``) takes in its set. A store of several tiers settles
        only the buckets that moved up, which nothing but a merge writes, so this stays
        empty."""
        self._keys: dict[Key, Key] = {}
        """One key object per distinct key of the settled tiers (``settle``)."""
        self._shared_to = -(2**62)
        """The newest fine bucket whose counters were shared (``share_fine``)."""
        self.day_start = day_start
        self.version = 0
        """Bumped by compaction, so caches of merged windows know to start over."""
        self.older: Older | None = None
        """Where the buckets before ``older.before`` are answered from, instead of memory
        (``Engine.answer_older``); None: memory holds everything."""
        self.seq = 0
        """Counts flushed ingest batches; window caches remember the seq they were built at."""
        self.live_edge = float("-inf")
        """Start of the newest fine bucket ever written: older buckets count as settled."""
        self._pending_min = float("inf")
        self._touches: deque[tuple[int, float]] = deque(maxlen=4096)

    def note(self, bucket_start: float) -> None:
        """Record that a fine bucket was written (called per bucket change, not per line)."""
        if bucket_start < self._pending_min:
            self._pending_min = bucket_start
        if bucket_start > self.live_edge:
            self.live_edge = bucket_start

    def flush(self) -> None:
        """Close an ingest batch: remember the oldest bucket it touched."""
        if self._pending_min != float("inf"):
            self.seq += 1
            self._touches.append((self.seq, self._pending_min))
            self._pending_min = float("inf")

    def oldest_touch_since(self, seq: int) -> float:
        """The oldest bucket start written after ``seq``; -inf when that is no longer known."""
        if self._touches and self._touches[0][0] > seq + 1:
            return float("-inf")
        return min((m for s, m in self._touches if s > seq), default=float("inf"))

    def floor(self, tier: Tier, ts: float) -> int:
        if tier.width == DAY:
            assert self.day_start is not None
            return self.day_start(ts)
        if tier.width == ARCHIVE:
            return 0
        return int(ts // tier.width) * tier.width

    def compact(self, ref: float, slack: float = 3600.0) -> None:
        """Move buckets that have aged past their tier's ``keep`` (relative to ``ref``) up a tier.

        Nothing moves until the oldest bucket is ``slack`` past its time, so a live session
        compacts about once an hour instead of every minute (each compaction resets caches).
        """
        if self.settle_row is not None:
            if len(self.tiers) == 1:
                self.settle_closed(ref - slack)
                return
            self.share_fine()
        for lower, upper in zip(self.tiers, self.tiers[1:], strict=False):
            limit = ref - lower.keep
            span = _span(lower)
            if not lower.buckets or not self.moves(min(lower.buckets), ref, slack, lower):
                continue
            old = [b for b in lower.buckets if b + span <= limit]
            if not old:
                continue
            self.version += 1
            moved_to = set()
            for start in old:
                bucket = lower.buckets.pop(start)
                dest_start = self.floor(upper, start)
                moved_to.add(dest_start)
                dest = upper.buckets.get(dest_start)
                if dest is None:
                    upper.buckets[dest_start] = bucket  # reuse: no copy needed
                    continue
                self.merge_bucket(dest, bucket)
            if self.settle_row is not None:
                for dest_start in moved_to:
                    self.settle(upper.buckets[dest_start])

    def settle_closed(self, before: float) -> None:
        """Settle, in place, the buckets of a single-tier store that end before ``before``.

        Such a store (a one-shot read's, ``Aggregates(whole_read=True)``) has nothing to move
        up, but its old buckets are as many as a coarse tier's, and as costly unsettled: with
        500 features a week's rows took 387 MB unsettled, 238 MB settled. In a log written in
        time order a bucket an hour old takes no more lines; one that does is ``reopen``-ed.
        """
        span = _span(self.tiers[0])
        done = self.settled
        fine = self.fine
        for b in [b for b in fine if b + span <= before and b not in done]:
            self.settle(fine[b])
            done.add(b)

    def reopen(self, start: int) -> None:
        """Make a settled bucket of a single-tier store writable again (a late line): the
        ingest paths write a row's histogram in place, which a settled row's is not."""
        assert self.unsettle_row is not None
        self.unsettle_row(self.fine[start].values())
        self.settled.discard(start)

    def share_fine(self) -> None:
        """Share the counters of the fine buckets written since the last compaction
        (``share_counters``): their rows stay the dicts and lists ingest writes in place.

        With 500 features nearly every minute row is a single line's, each counter an int of
        its own: 14.6 MiB over the 26 hours the fine tier holds, of a 305 MiB peak. Only such
        rows are shared: with 5 features sharing every row cost a third of a compaction's time
        and saved nothing measurable. A bucket written again after (a late line, the live
        minute) takes new ints, as any row does."""
        edge = self._shared_to
        fresh = [b for b in self.fine if b > edge]
        if not fresh:
            return
        ints, fine = shared_ints(), self.fine
        for b in fresh:  # a line's rows: a sum of many lines is seldom a value another has
            share_counters([r for r in fine[b].values() if r[G_CALLS] == 1], ints)
        self._shared_to = max(fresh)

    def settle(self, bucket: Bucket) -> None:
        """Make the rows of a bucket that moved up a tier compact, in place (same dict, same
        order): each row as ``settle_row`` makes it, each key the one object of its value.

        A coarse row is written again only when a later compaction or a merge adds to it, and
        with many distinct keys (500 features) most coarse rows hold a line or two, so what a
        row costs beside its counters is most of the memory: a dict histogram and its own key
        tuple were 290 of a row's ~600 bytes. The fine tier keeps plain dicts, which the ingest
        path writes in place.
        """
        settle_row = self.settle_row
        assert settle_row is not None
        settle_row(bucket.values(), shared_ints())  # rows change in place, the dict does not
        keys = self._keys
        if not all(map(operator.is_, map(keys.setdefault, bucket, bucket), bucket)):
            # A key of its own (a merged engine's, a state's): the bucket takes the shared
            # objects, rebuilt in the same order.
            items = list(bucket.items())
            bucket.clear()
            shared = keys.setdefault  # ``all`` stopped at the first: not all keys are in yet
            for key, row in items:
                bucket[shared(key, key)] = row

    def moves(
        self, oldest: float, ref: float, slack: float = 3600.0, tier: Tier | None = None
    ) -> bool:
        """Whether ``compact(ref)`` moves buckets up from ``tier`` (the finest by default)
        when its oldest bucket starts at ``oldest``: a state that left its oldest minutes in
        the file loads them only then (``state.session``)."""
        tier = tier or self.tiers[0]
        if tier.width == DAY:
            slack = 0.0  # days move once a day anyway; so which are kept is ``kept_from``'s
        return oldest + _span(tier) <= ref - tier.keep - slack

    def kept_from(self, ref: float) -> int:
        """The earliest day start the day tier (the finest) keeps after ``compact(ref)``.

        Days move without slack, so a day bucket is kept exactly when it starts after
        ``ref - keep - 25 h``, whatever compactions ran before: a warm start loads by day the
        days a cold read of the same logs keeps by day (``state.session``), and sums only the
        others into the archive, so every per-user window gives a cold read's numbers.
        """
        tier = self.tiers[0]
        assert tier.width == DAY
        if tier.keep == float("inf"):
            return -(2**62)
        return math.floor(ref - tier.keep - _span(tier)) + 1

    def merge_bucket(self, dest: Bucket, src: Bucket) -> None:
        """Add ``src``'s rows into ``dest``: a key ``dest`` lacks takes ``src``'s row as it is.

        The one merge of two buckets, for compaction, for joining engines (hosts, the two-core
        split) and for the state's rows loaded after the first screen.
        """
        merge_row = self.merge_row
        for key, row in src.items():
            acc = dest.get(key)
            if acc is None:
                dest[key] = row
            else:
                merge_row(acc, row)

    def check_window(self, start: float | None, end: float | None) -> None:
        """Raise when a ``whole`` store is asked for a window that cuts its finest buckets."""
        if self.whole:
            width = self.tiers[0].width  # seconds; a day or the archive: no bound at all
            if any(t is not None and (width <= 0 or t % width) for t in (start, end)):
                raise RuntimeError(
                    f"this engine answers the whole read only: the window {start}..{end} cuts "
                    "its rows"
                )

    def buckets_in(self, start: float | None, end: float | None) -> Iterator[tuple[int, Bucket]]:
        """Every bucket whose start lies in [start, end)."""
        for tier in self.tiers:
            for b, bucket in tier.buckets.items():
                if (start is None or b >= start) and (end is None or b < end):
                    yield b, bucket

    def span(self) -> tuple[int, int] | None:
        starts = [b for t in self.tiers for b in t.buckets]
        return (min(starts), max(starts)) if starts else None

    def row_count(self) -> int:
        return sum(len(bucket) for t in self.tiers for bucket in t.buckets.values())


def _span(tier: Tier) -> int:
    """How long a bucket of ``tier`` lasts at most (a day is at most 25 h)."""
    return tier.width if tier.width > 0 else 25 * 3600
