"""The one accumulate step: every accepted record, whichever decoder produced it, goes through it.

A record (a ``Record``, or a plain tuple in its layout from ``ingest.fast``, maybe short:
``core.record.SHORT``) is counted here and
nowhere else: the time filter (``--since``/``--until``), newest and oldest times, the minute row
of its (feature, model, price variant) with the latency histogram and error counts, its user's
day row, today's running per-user totals, the recent errors and 429 events, and the headroom
tracker. Keeping one step is what lets the fast decoder exist: the two decoders can only differ
in what they decode, and a differential test compares that.

``Aggregates`` holds the state the step writes; the engine's queries read it under its lock.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from sys import intern
from typing import Any

from claude_top.core.histogram import (
    BUCKET_TABLE,
    BUCKET_TABLE_LIMIT,
    HIGHEST_MS,
    LOWEST_MS,
    bucket_of,
    clamp,
)
from claude_top.core.record import LONG, SHORT, Record, as_named
from claude_top.core.stats import LineStats
from claude_top.engine import app_cost, server_tools, streaming
from claude_top.engine import store as B
from claude_top.engine.headroom import HORIZON_S, Headroom
from claude_top.engine.pricing import PriceTable
from claude_top.engine.store import (
    G_429,
    G_529,
    G_CALLS,
    G_CLAMPED,
    G_COST,
    G_CR,
    G_CW1,
    G_CW5,
    G_ERRORS,
    G_ERRTYPES,
    G_HIST,
    G_IN,
    G_LATSUM,
    G_MAXTOK,
    G_NOUSER,
    G_OUT,
    U_429,
    U_CALLS,
    U_COST,
    U_CR,
    U_CW1,
    U_CW5,
    U_ERRORS,
    U_IN,
    U_OUT,
    Key,
    TieredStore,
)
from claude_top.engine.users_today import RunningDay
from claude_top.ingest.reader import R_INTERNAL

MINUTE = 60
HOUR = 3600
DAY = 86400
COARSE = 900
"""15 minutes: every real time zone's midnight falls on a multiple of it."""

GROUP_TIERS = [(MINUTE, 26 * HOUR), (COARSE, float("inf"))]
WHOLE_TIERS = [(DAY, float("inf"))]
"""The group stores of a read that is asked about the whole read only (``whole_read``: a
one-shot ``summary``, whose bounds filter at ingest): rows per UTC day from the start. Such a
read is answered over all of it, and the only thing a row's time still decides is its price,
which is looked up by UTC date (``window_cache._pricer``); a day's row is the sum of its
minutes' rows, priced alike. No minute row is made only to be merged later (that merge was a
sixth of a ``summary --jobs 1`` read), nor a quarter hour's: with 500 features most lines of a
quarter hour opened a row of their own, and day rows took that read from 3.4 s and 225 MB to
2.3 s and 76 MB. Every window such a store answers starts and ends on a UTC midnight
(``TieredStore.check_window`` refuses any other)."""
USER_TIERS = [(B.DAY, 2 * DAY), (B.ARCHIVE, float("inf"))]
"""Users are many (thousands, each with a few features and models), so their rows are kept per
calendar day while the day starts after ``ref - 2 days - 25 h`` (``ref``: the time compacted to;
the exact rule is ``TieredStore.kept_from``, 25 h being the longest day), then summed into one
archive bucket: per-user numbers answer "today", "yesterday" or "all". Today's top users come from running totals (``top_users``);
other per-user windows (``summary --by user --day/--since``) filter at ingest instead."""
WHOLE_USER_TIERS = [(B.ARCHIVE, float("inf"))]
"""The user store of a whole read: one bucket from the start, so no day's rows are merged into
the archive, nor folded one day at a time by the query (``summary --by user``)."""

EVENTS_KEPT = 2000
ERRORS_KEPT_PER_FEATURE = 20


def err_key(error: str | None, status: int | None) -> str:
    """How an error is named in a row's error types: ``"RateLimitError 429"``."""
    if status is None:
        return error or "error"
    return f"{error or 'HTTP'} {status}"


class Aggregates:
    """Everything ingest writes: the tiered stores and the counters kept beside them."""

    def __init__(
        self,
        prices: PriceTable,
        day_start: Callable[[float], int],
        headroom: Headroom,
        since: float | None,
        until: float | None,
        track_users: bool,
        track_groups: bool = True,
        whole_read: bool = False,
    ) -> None:
        self.prices = prices
        self.day_start = day_start
        self.headroom = headroom
        self.since = since
        self.until = until
        self.track_users = track_users
        self.track_groups = track_groups
        """False: no (minute, feature, model) rows are kept, for a one-shot ``summary --by
        user``, which answers from the user rows alone; a window query of group rows raises
        (``window_cache``). Errors, 429 events and the side stores are kept as ever."""
        self.whole_read = whole_read
        """Asked about the whole read only: the group stores keep a row per UTC day from the start
        (``WHOLE_TIERS``) and the user store one bucket (``WHOLE_USER_TIERS``)."""
        self.group_width = DAY if whole_read else MINUTE
        """Seconds of the group stores' finest buckets: a minute's rows go to the bucket of
        ``minute - minute % group_width``."""
        self.cache_costs = True
        """Whether a query keeps each row's cost in the row for the next (``window_cache``).
        A one-shot ``summary`` queries its rows once: with 500 features the kept costs were
        22 MiB of int objects, the last of its peak."""
        self.lines = LineStats()
        whole = whole_read
        tiers, user_tiers = (WHOLE_TIERS, WHOLE_USER_TIERS) if whole else (GROUP_TIERS, USER_TIERS)
        self.whole_hists: dict[Key, dict[int, int]] | None = {} if whole and track_groups else None
        """A whole read's latency counts, one histogram per (feature, model, variant) over the
        whole read, which each of the key's rows holds as its own (``group_row``): the ingest
        paths write a row's histogram in place as ever, and nothing merges a key's histogram
        per day, at compaction or in the query (``window_cache`` takes these, and
        refuses a latency window of less than the whole read). None: each row has its own."""
        merge_row = B.merge_whole_group_row if whole else B.merge_group_row
        self.groups = TieredStore(tiers, B.new_group_row, merge_row, whole=whole)
        self.users = TieredStore(
            user_tiers, B.new_user_row, B.merge_user_row, day_start, whole=whole
        )
        self.user_bucket_of: Callable[[float], int] = (lambda _: 0) if whole else day_start
        """The user store's bucket of a quarter hour's start: its local day, or the one."""
        self.streams = TieredStore(
            tiers, streaming.new_stream_row, streaming.merge_stream_row, whole=whole
        )
        """Streamed calls' TTFT and output rate per (feature, model) (``engine.streaming``)."""
        self.app_costs = TieredStore(tiers, app_cost.new_row, app_cost.merge_row, whole=whole)
        """The app's own cost of the calls that log one, beside their tokens (``app_cost``)."""
        self.tools = TieredStore(tiers, server_tools.new_row, server_tools.merge_row, whole=whole)
        """Server tool requests of the calls that made any (``server_tools``)."""
        self.running: RunningDay | None = None
        self.newest_ts: float | None = None
        self.oldest_ts: float | None = None
        self.out_of_window = 0
        self.rate_limit_events: deque[Record] = deque(maxlen=EVENTS_KEPT)
        self.recent_errors: dict[str, deque[Record]] = {}
        self.since_compact = 0
        """Records aggregated since the last compaction."""
        self.tier_thresholds: dict[str, int | None] = {}
        self.group_keys: dict[tuple[str, str, int], tuple[str, str, int]] = {}
        """Each group row key once (see ``accumulate``); as many as distinct keys ever seen."""

    def group_row(self, key: Key) -> B.Row:
        """A new group row for ``key``: with its own histogram, or its key's whole one."""
        row = B.new_group_row()
        hists = self.whole_hists
        if hists is not None:
            h = hists.get(key)
            if h is None:
                h = hists[key] = {}
            row[B.G_HIST] = h
        return row

    def check_latency_window(self, start: float | None, end: float | None) -> None:
        """Raise when a whole read's engine is asked for latency over less than all of it."""
        if self.whole_hists is not None and (start is not None or end is not None):
            raise RuntimeError(
                f"this engine answers the whole read only: latency over {start}..{end} is "
                "not kept apart from the rest"
            )

    def accumulate(self, records: list[Any], now: float) -> None:
        """Aggregate decoded records, in order (``now``: the clock, for the headroom tracker)."""
        since, until = self.since, self.until
        bounded = since is not None or until is not None
        first = -math.inf if since is None else since
        end = math.inf if until is None else until
        gfine, ufine = self.groups.fine, self.users.fine
        gwidth, gsettled = self.group_width, self.groups.settled
        gkeys = self.group_keys
        thresholds = self.tier_thresholds
        run = self.running
        track_users = self.track_users
        track_groups = self.track_groups
        # Without group rows (``track_groups``), the rows this call counts go here and are
        # dropped: for the few lines of this path that costs less than a test at each slot.
        dropped: B.Bucket = {}
        horizon = now - HORIZON_S
        for_headroom: list[Any] = []
        newest, oldest = -math.inf, math.inf
        m_lo = m_hi = 0.0
        hour = -1
        gbucket: B.Bucket = {}
        ubucket: B.Bucket = {}
        skipped = 0
        gmin = umin = float("inf")
        gmax = umax = float("-inf")
        failed = 0
        # A reader's record with slots the fast decoder never fills (set for that record only).
        extra: Record | None = None
        # The row slots as locals: a local costs less to load than a module global, per line.
        g_calls, g_in, g_out, g_cr, g_cw5, g_cw1 = G_CALLS, G_IN, G_OUT, G_CR, G_CW5, G_CW1
        g_latsum, g_maxtok, g_hist, g_nouser, g_cost = G_LATSUM, G_MAXTOK, G_HIST, G_NOUSER, G_COST
        u_calls, u_in, u_out, u_cr, u_cw5, u_cw1 = U_CALLS, U_IN, U_OUT, U_CR, U_CW5, U_CW1
        u_cost, short = U_COST, SHORT
        table, table_limit, lowest = BUCKET_TABLE, BUCKET_TABLE_LIMIT, LOWEST_MS
        new_group_row, new_user_row = self.group_row, B.new_user_row
        for rec in records:
            try:
                if len(rec) == short:
                    ts, _rid, user, feature, model, inp, out, cr, cw5, cw1, lat, stop = rec
                    err = status = None
                    batch = for_headroom_anyway = False
                else:
                    if len(rec) != LONG:  # a reader's Record: its streaming and app-cost slots
                        extra = rec
                        rec = rec[:LONG]
                    (ts, _rid, user, feature, model, inp, out, cr, cw5, cw1, lat, stop, err, status,
                     batch, rl_req, _rl_tok, _retry, rl_req_limit, rl_in_limit, rl_in, rl_out_limit,
                     rl_out) = rec  # fmt: skip
                    for_headroom_anyway = status == 429 or not (
                        rl_req is None
                        and rl_req_limit is None
                        and rl_in_limit is None
                        and rl_in is None
                        and rl_out_limit is None
                        and rl_out is None
                    )
                if bounded and not first <= ts < end:
                    skipped += 1
                    extra = None
                    continue
                if ts > newest:
                    newest = ts
                if ts < oldest:
                    oldest = ts
                thr = thresholds.get(model, -1)
                if thr is not None and thr == -1:  # None == -1 would take a slow path
                    thr = thresholds[model] = self.prices.tier_threshold(model)
                variant = 2 if thr is not None and inp + cr + cw5 + cw1 > thr else 0
                if batch:
                    variant |= 1
                if ts >= m_hi or ts < m_lo:
                    minute = int(ts // MINUTE) * MINUTE
                    # Floats: comparing a float with a float costs less than with an int.
                    m_lo, m_hi = float(minute), float(minute + MINUTE)
                    gq = minute - minute % gwidth
                    gmin, gmax = min(gmin, gq), max(gmax, gq)
                    gbucket = gfine.get(gq) if track_groups else dropped  # type: ignore[assignment]
                    if gbucket is None:
                        gbucket = gfine[gq] = {}
                    elif gq in gsettled:
                        self.groups.reopen(gq)
                    if minute - minute % COARSE != hour:
                        hour = minute - minute % COARSE
                        day = self.user_bucket_of(hour)
                        umin, umax = min(umin, day), max(umax, day)
                        ubucket = ufine.get(day)  # type: ignore[assignment]
                        if ubucket is None:
                            ubucket = ufine[day] = {}
                key = (feature, model, variant)
                row = gbucket.get(key)
                if row is None:
                    # One key tuple per (feature, model, variant), of interned strings, shared by
                    # every bucket: a line's own strings are not pinned for days, and 500
                    # features' rows over a week do not each hold a copy of their key.
                    shared = gkeys.get(key)
                    if shared is None:
                        shared = (intern(feature), intern(model), variant)
                        gkeys[shared] = shared
                    key = shared
                    row = gbucket[key] = new_group_row(key)
                row[g_calls] += 1
                row[g_in] += inp
                row[g_out] += out
                row[g_cr] += cr
                row[g_cw5] += cw5
                row[g_cw1] += cw1
                row[g_latsum] += lat
                if stop == "max_tokens":
                    row[g_maxtok] += 1
                if lat < table_limit and lat >= lowest:
                    hb = table[lat]
                elif LOWEST_MS <= lat <= HIGHEST_MS:
                    hb = bucket_of(lat)
                else:
                    row[G_CLAMPED] += 1
                    hb = bucket_of(clamp(lat))
                h = row[g_hist]
                h[hb] = h.get(hb, 0) + 1
                if not user:
                    row[g_nouser] += 1
                if err is not None:
                    self._error(row, rec, err, status, feature)
                row[g_cost] = None
                if extra is not None:  # one test a record: the default format never has them
                    self._extras(extra, int(m_lo), key)
                    extra = None
                if ts >= horizon or for_headroom_anyway:
                    for_headroom.append(rec)
                if not track_users:
                    continue
                ukey = (user, feature, model, variant)
                urow = ubucket.get(ukey)
                if urow is None:
                    ukey = (intern(user), intern(feature), intern(model), variant)
                    urow = ubucket[ukey] = new_user_row()
                urow[u_calls] += 1
                if err is not None:
                    urow[U_ERRORS] += 1
                    if status == 429:
                        urow[U_429] += 1
                urow[u_in] += inp
                urow[u_out] += out
                urow[u_cr] += cr
                urow[u_cw5] += cw5
                urow[u_cw1] += cw1
                urow[u_cost] = None
                if run is not None and run.start <= ts < run.end:
                    run.add(user, model, variant, inp, out, cr, cw5, cw1, err is not None, status)
            except Exception as exc:  # a bug must not stop reading: this record alone is lost
                extra = None
                failed += 1
                self._internal_error(rec, exc)
        self.out_of_window += skipped
        self.since_compact += len(records) - skipped - failed
        if newest != -math.inf:
            if self.newest_ts is None or newest > self.newest_ts:
                self.newest_ts = newest
            if self.oldest_ts is None or oldest < self.oldest_ts:
                self.oldest_ts = oldest
            if track_groups:
                self.groups.note(gmin)
                self.groups.note(gmax)
            self.users.note(umin)
            self.users.note(umax)
        if for_headroom:
            self.headroom.add_fast([as_named(r) for r in for_headroom], now)

    def _extras(self, rec: Record, minute: int, key: tuple[str, str, int]) -> None:
        """A reader's record's slots past the fast decoder's: TTFT, the app's own cost and the
        server tool requests."""
        if rec.ttft_ms is not None:
            self._stream(minute, rec.feature, rec.model, rec.ttft_ms, rec.output_tokens,
                         rec.latency_ms)  # fmt: skip
        if rec.app_cost_usd is not None:
            bucket = self._fine(self.app_costs, minute)
            app_cost.add(bucket, key, rec.app_cost_usd, rec.input_tokens, rec.output_tokens,
                         rec.cache_read_tokens, rec.cache_write_5m_tokens,
                         rec.cache_write_1h_tokens)  # fmt: skip
        if rec.web_search_requests or rec.web_fetch_requests:
            bucket = self._fine(self.tools, minute)
            server_tools.add(bucket, key, rec.web_search_requests, rec.web_fetch_requests)

    def _stream(self, minute: int, feature: str, model: str, ttft: int, out: int, lat: int) -> None:
        """A streamed call's TTFT and output rate, in its minute (streamed calls only)."""
        bucket = self._fine(self.streams, minute)
        streaming.add(bucket, intern(feature), intern(model), ttft, out, lat)

    @staticmethod
    def _fine(store: TieredStore, minute: int) -> B.Bucket:
        """The finest bucket of ``store`` that holds ``minute`` (its own, or its day's)."""
        start = minute - minute % store.tiers[0].width
        bucket = store.fine.get(start)
        if bucket is None:
            bucket = store.fine[start] = {}
        store.note(start)
        return bucket

    def _internal_error(self, rec: Any, exc: Exception) -> None:
        """A record the accumulate step failed on: counted as rejected ("internal error"), not as
        a record, with what it held as the example (its counts may be partly added)."""
        self.lines.records -= 1
        text = f"{type(exc).__name__}: {rec!r}"
        self.lines.reject("<engine>", 0, R_INTERNAL, text.encode("utf-8", "replace"))

    def _error(self, row: B.Row, rec: Any, err: str, status: int | None, feature: str) -> None:
        """A failed call: error counts and types, the 429 events, the feature's recent errors."""
        row[G_ERRORS] += 1
        kept = as_named(rec)
        if status == 429:
            row[G_429] += 1
            self.rate_limit_events.append(kept)
        elif status == 529:
            row[G_529] += 1
        types = row[G_ERRTYPES]
        if types is None:
            types = row[G_ERRTYPES] = {}
        k = err_key(err, status)
        types[k] = types.get(k, 0) + 1
        q = self.recent_errors.get(feature)
        if q is None:
            q = self.recent_errors[feature] = deque(maxlen=ERRORS_KEPT_PER_FEATURE)
        q.append(kept)
