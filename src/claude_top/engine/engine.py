"""The in-memory aggregation engine: lines in, windows of numbers out.

One engine serves every view. It takes batches of raw lines (from a one-shot read or from the
follower thread), classifies each line, and adds each call to time-bucketed counters per
(feature, model) and per user. Any window -- the last 5 minutes, today, one of the 7 days before
today, the whole input -- is then answered from memory.

The ingest loop has a fast path for the common line (a bare JSON object with the article's
twelve fields, a successful call, a UTC timestamp) that builds no objects besides the parsed
dict; every other line goes through ``reader.parse_line``. Cost is computed per bucket row when a
window is asked for, not per line, because a row holds many calls of one model at one price.
"""

from __future__ import annotations

import heapq
import threading
from collections import OrderedDict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from operator import itemgetter
from sys import intern
from typing import Any

import orjson

from claude_top.core.clock import Clock, SystemClock
from claude_top.core.histogram import HIGHEST_MS, LOWEST_MS, LatencyHistogram, merge_into
from claude_top.core.record import Record
from claude_top.core.schema import ARTICLE_FIELDS
from claude_top.core.stats import GroupStats, Summary
from claude_top.core.timeutil import parse_timestamp, utc_date
from claude_top.engine import store as B
from claude_top.engine.accumulators import (
    A_HIST,
    acc_group,
    acc_user,
    group_stats,
    new_acc,
    unacc_group,
    unacc_user,
)
from claude_top.engine.headroom import HORIZON_S, Headroom
from claude_top.engine.pricing import PriceTable
from claude_top.engine.store import Row, TieredStore
from claude_top.engine.users_today import R_COST, R_TOKENS, RunningDay, running_stats
from claude_top.ingest.reader import R_TOO_LONG, Rejected, parse_line
from claude_top.sources.paths import Batch

MINUTE = 60
HOUR = 3600
DAY = 86400
COARSE = 900
"""15 minutes: every real time zone's midnight falls on a multiple of it."""

GROUP_TIERS = [(MINUTE, 26 * HOUR), (COARSE, float("inf"))]
USER_TIERS = [(B.DAY, 2 * DAY), (B.ARCHIVE, float("inf"))]
"""Users are many (thousands, each with a few features and models), so their rows are kept per
calendar day for the last two days, then in one archive bucket: per-user numbers answer
"today", "yesterday" or "all". Today's top users come from running totals (``top_users``);
other per-user windows (``summary --by user --day/--since``) filter at ingest instead."""
COMPACT_EVERY = 20_000
"""Records between compactions: keeps the fine tier bounded while history loads."""

CACHED_WINDOWS = 128
"""Merged windows kept (LRU): a TUI refresh plus the alert rules ask for a few dozen."""
EXAMPLES_KEPT = 20
EVENTS_KEPT = 2000
ERRORS_KEPT_PER_FEATURE = 20


@dataclass
class LineStats:
    """What became of every line read: a record, a foreign line, or a rejection with a reason."""

    records: int = 0
    foreign: int = 0
    rejected: int = 0
    by_reason: dict[str, int] = field(default_factory=dict)
    examples: deque[tuple[str, int, str, str]] = field(
        default_factory=lambda: deque(maxlen=EXAMPLES_KEPT)
    )
    """(source, line number, reason, start of the line) of the most recent rejections."""

    @property
    def lines(self) -> int:
        return self.records + self.foreign + self.rejected

    def reject(self, source: str, lineno: int, reason: str, raw: bytes) -> None:
        self.rejected += 1
        self.by_reason[reason] = self.by_reason.get(reason, 0) + 1
        self.examples.append((source, lineno, reason, raw[:200].decode("utf-8", "replace")))

    def copy(self) -> LineStats:
        out = LineStats(self.records, self.foreign, self.rejected, dict(self.by_reason))
        out.examples.extend(self.examples)
        return out


def _err_key(error: str | None, status: int | None) -> str:
    if status is None:
        return error or "error"
    return f"{error or 'HTTP'} {status}"


class Engine:
    """Aggregates call records; thread-safe (one lock around ingest and queries)."""

    def __init__(
        self,
        prices: PriceTable | None = None,
        clock: Clock | None = None,
        tz: tzinfo = UTC,
        since: float | None = None,
        until: float | None = None,
        headroom: Headroom | None = None,
        track_users: bool = True,
    ) -> None:
        self.prices = prices or PriceTable.builtin()
        self.clock = clock or SystemClock()
        self.tz = tz
        self.track_users = track_users
        """Keep per-user rows; a one-shot command that shows no user can skip their cost."""
        self.since = since
        """Records before this time are counted as lines but not aggregated (``--since``)."""
        self.until = until
        self.lock = threading.RLock()
        self.lines = LineStats()
        self.groups = TieredStore(GROUP_TIERS, B.new_group_row, B.merge_group_row)
        self.users = TieredStore(USER_TIERS, B.new_user_row, B.merge_user_row, self.day_start)
        self._day_cache: dict[int, int] = {}
        self._running: RunningDay | None = None
        self.newest_ts: float | None = None
        self.oldest_ts: float | None = None
        self.out_of_window = 0
        self.rate_limit_events: deque[Record] = deque(maxlen=EVENTS_KEPT)
        self.recent_errors: dict[str, deque[Record]] = {}
        self.version = 0
        """Bumped by every ingest: views skip recomputing when nothing changed."""
        self._minute_cache: dict[str, int] = {}
        self._tier_thresholds: dict[str, int | None] = {}
        self._since_compact = 0
        self._cache: OrderedDict[tuple[Any, ...], _Cached] = OrderedDict()
        self._tails: dict[tuple[Any, ...], _Cached] = {}
        self._series: dict[tuple[Any, ...], _Cached] = {}
        self.headroom = headroom or Headroom()
        """Rate-limit headroom over the last minutes (``claude_top.engine.headroom``); fed below."""

    def day_start(self, ts: float) -> int:
        """Epoch seconds of local midnight (in ``tz``) of the day holding ``ts``."""
        q = int(ts // COARSE)
        d = self._day_cache.get(q)
        if d is None:
            local = datetime.fromtimestamp(q * COARSE, self.tz)
            d = int(local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp())
            if len(self._day_cache) > 100_000:
                self._day_cache.clear()
            self._day_cache[q] = d
        return d

    def top_users(
        self, now: float, n: int, by: str = "tokens", match: str | None = None
    ) -> list[GroupStats]:
        """The ``n`` heaviest users of the local day holding ``now``, by tokens or cost.

        Kept as running per-user totals of that day, updated by ingest, so a refresh sorts
        users instead of merging every (user, feature, model) row of the day again.
        """
        with self.lock:
            day = self.day_start(now)
            run = self._running
            if run is None or run.start != day:
                run = self._running = self._build_running(day)
            if match:
                # A filter may name a feature or model: per-user running totals do not know
                # them, so ask the day's (user, feature, model) rows instead.
                groups = self._summary(_USERS_BY_USER, day, now, match.lower(), None).groups
                stats = list(groups.values())

                def rank(g: GroupStats) -> tuple[float, str]:
                    return (-(g.cost_usd if by == "cost" else g.total_tokens), g.name)

                return heapq.nsmallest(n, stats, key=rank)
            slot = R_COST if by == "cost" else R_TOKENS
            top = heapq.nsmallest(n, run.users.items(), key=lambda kv: (-kv[1][slot], kv[0]))
            return [running_stats(u, r) for u, r in top]

    def _build_running(self, day: int) -> RunningDay:
        end = self.day_start(day + 30 * HOUR)
        run = RunningDay(day, end, self.prices)
        for bstart, bucket in self.users.buckets_in(day, end):
            for (user, _feature, model, variant), row in bucket.items():
                cost = self._row_cost(model, variant, bstart, row, _USER_SLOTS)
                run.add_row(user, row, cost, model)
        return run

    # -- ingest ------------------------------------------------------------------------------

    def ingest(self, batch: Batch) -> None:
        """Classify and aggregate a batch of raw lines."""
        with self.lock:
            self._ingest(batch.source, batch.first_lineno, batch.lines)
            self.groups.flush()
            self.users.flush()
            self.version += 1
            if self._since_compact >= COMPACT_EVERY:
                self.compact()

    def ingest_lines(self, lines: Iterable[bytes | str], source: str = "<lines>") -> None:
        raw = [ln.encode() if isinstance(ln, str) else ln for ln in lines]
        self.ingest(Batch(source, 1, [ln.rstrip(b"\r\n") for ln in raw]))

    def count_overlong(self, source: str, lineno: int, length: int) -> None:
        """The follower skipped a line longer than its limit: still counted, as rejected."""
        with self.lock:
            self.lines.reject(source, lineno, R_TOO_LONG, f"<{length} bytes>".encode())
            self.version += 1

    def _ingest(self, source: str, first_lineno: int, lines: list[bytes]) -> None:
        loads = orjson.loads
        get12 = _GET12
        minute_cache = self._minute_cache
        gfine = self.groups.fine
        ufine = self.users.fine
        thresholds = self._tier_thresholds
        since, until = self.since, self.until
        new_group_row, new_user_row = B.new_group_row, B.new_user_row
        newest_iso = ""  # fast-path timestamps share one format, so strings compare as times
        oldest_iso = "~"
        fast = 0
        skipped = 0
        slow: list[int] = []
        last_m = last_h = -1
        gmin = umin = float("inf")
        gmax = umax = float("-inf")
        bucket: dict[Any, Row] = {}
        ubucket: dict[Any, Row] = {}
        # Headroom: only calls of the last HORIZON_S seconds matter to it. One comparison of the
        # line's minute per line; the few recent ones are handed over after the loop.
        now = self.clock.now()
        horizon = now - HORIZON_S - MINUTE
        recent: list[tuple[str, str, str, str, int, int, int, int]] = []
        headers: dict[Any, int] = {}
        run = self._running
        track_users = self.track_users
        for i, line in enumerate(lines):
            # The fast path: only the shape the article writes, for a successful call with a
            # UTC timestamp. Anything else -- errors included -- goes to reader.parse_line.
            try:
                d = loads(line)
                n = len(d)
                if n == 12:
                    cw5 = cw1 = 0
                elif n == 13:
                    cw5 = d["cache_creation_tokens"]
                    cw1 = 0
                else:
                    # More fields: what the instrument wrapper writes (1h cache writes, the
                    # API's request id, rate-limit headers). Spellings the fast path does not
                    # read (aliases, batch, a docker envelope) go the general way.
                    if not FAST_EXTRA.issuperset(d.keys() - ARTICLE_KEYS):
                        slow.append(i)
                        continue
                    cw5 = d.get("cache_creation_tokens", 0)
                    cw1 = d.get("cache_creation_1h_tokens", 0)
                    if type(cw1) is not int or cw1 < 0:
                        slow.append(i)
                        continue
                    if "ratelimit_requests_limit" in d or "ratelimit_input_tokens_limit" in d:
                        headers[d["model"]] = i  # the newest of each model, for headroom
                ts, rid, user, feature, model, inp, out, cr, lat, stop, err, status = get12(d)
                if (
                    err is not None
                    or status is not None
                    or type(rid) is not str
                    or type(ts) is not str
                    or type(feature) is not str
                    or type(model) is not str
                    or type(user) is not str
                    or type(inp) is not int
                    or type(out) is not int
                    or type(cr) is not int
                    or type(cw5) is not int
                    or type(lat) is not int
                    or (stop is not None and type(stop) is not str)
                    or inp < 0
                    or out < 0
                    or cr < 0
                    or cw5 < 0
                    or lat < 0
                    or not user
                    or ts[-6:] != "+00:00"
                ):
                    slow.append(i)
                    continue
                mkey = ts[:16]
                minute = minute_cache.get(mkey)
                if minute is None:
                    t = parse_timestamp(ts)
                    if t is None or ts[16] != ":":
                        slow.append(i)
                        continue
                    if len(minute_cache) > 50_000:
                        minute_cache.clear()
                    minute = minute_cache[mkey] = int(t // 60) * 60
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, IndexError):
                slow.append(i)
                continue
            fast += 1
            if since is not None or until is not None:
                t = parse_timestamp(ts) or 0.0
                if (since is not None and t < since) or (until is not None and t >= until):
                    skipped += 1
                    continue
            if minute >= horizon:
                recent.append((ts, user, feature, model, inp, out, cr, cw5 + cw1))
            if ts > newest_iso:
                newest_iso = ts
            if ts < oldest_iso:
                oldest_iso = ts
            thr = thresholds.get(model, -1)
            if thr == -1:
                thr = thresholds[model] = self.prices.tier_threshold(model)
            variant = 2 if thr is not None and inp + cr + cw5 + cw1 > thr else 0
            if minute != last_m:
                last_m = minute
                if minute < gmin:
                    gmin = minute
                if minute > gmax:
                    gmax = minute
                bucket = gfine.get(minute)  # type: ignore[assignment]
                if bucket is None:
                    bucket = gfine[minute] = {}
                hour = minute - minute % 900
                if hour != last_h:
                    last_h = hour
                    day = self.day_start(hour)
                    if day < umin:
                        umin = day
                    if day > umax:
                        umax = day
                    ubucket = ufine.get(day)  # type: ignore[assignment]
                    if ubucket is None:
                        ubucket = ufine[day] = {}
            key = (feature, model, variant)
            row = bucket.get(key)
            if row is None:
                # Interned: every line brings its own copies of these strings, and a key
                # kept for days should not pin one of them per bucket.
                key = (intern(feature), intern(model), variant)
                row = bucket[key] = new_group_row()
            row[0] += 1
            row[4] += inp
            row[5] += out
            row[6] += cr
            row[7] += cw5
            row[8] += cw1
            row[9] += lat
            if stop == "max_tokens":
                row[10] += 1
            if lat < 256:
                if lat < 1:
                    lat = 1
                    row[11] += 1
            else:
                if lat > 3_600_000:
                    lat = 3_600_000
                    row[11] += 1
                s = lat.bit_length() - 8
                lat = lat >> s << s
            h = row[13]
            h[lat] = h.get(lat, 0) + 1
            row[15] = None
            if not track_users:
                continue
            ukey = (user, feature, model, variant)
            urow = ubucket.get(ukey)
            if urow is None:
                ukey = (intern(user), intern(feature), intern(model), variant)
                urow = ubucket[ukey] = new_user_row()
            urow[0] += 1
            urow[3] += inp
            urow[4] += out
            urow[5] += cr
            urow[6] += cw5
            urow[7] += cw1
            urow[8] = None
            if run is not None and run.start <= minute < run.end:
                run.add(user, model, variant, inp, out, cr, cw5, cw1, False, None)
        if newest_iso:
            t = parse_timestamp(newest_iso)
            if t is not None and (self.newest_ts is None or t > self.newest_ts):
                self.newest_ts = t
            t = parse_timestamp(oldest_iso)
            if t is not None and (self.oldest_ts is None or t < self.oldest_ts):
                self.oldest_ts = t
        if gmax != float("-inf"):
            self.groups.note(gmin)
            self.groups.note(gmax)
            self.users.note(umin)
            self.users.note(umax)
        for i in headers.values():
            r = parse_line(lines[i])
            if isinstance(r, Record):
                self.headroom.note_headers(r)
        if recent:
            self.headroom.add_fast(recent, now)
        self.lines.records += fast
        self.out_of_window += skipped
        self._since_compact += fast
        for i in slow:
            raw = lines[i]
            r = parse_line(raw)
            if r is None:
                self.lines.foreign += 1
            elif isinstance(r, Rejected):
                self.lines.reject(source, first_lineno + i, r.reason, raw)
            else:
                self.lines.records += 1
                self.add(r)

    def add(self, r: Record) -> None:
        """Aggregate one validated record (the general path; the fast path mirrors it)."""
        t = r.ts
        if (self.since is not None and t < self.since) or (
            self.until is not None and t >= self.until
        ):
            self.out_of_window += 1
            return
        if self.newest_ts is None or t > self.newest_ts:
            self.newest_ts = t
        if self.oldest_ts is None or t < self.oldest_ts:
            self.oldest_ts = t
        self._since_compact += 1
        model = r.model
        thr = self._tier_thresholds.get(model, -1)
        if thr == -1:
            thr = self._tier_thresholds[model] = self.prices.tier_threshold(model)
        variant = (2 if thr is not None and r.prompt_tokens > thr else 0) | (1 if r.batch else 0)
        mstart = int(t // 60) * 60
        hstart = mstart - mstart % COARSE
        self.groups.note(mstart)
        self.users.note(self.day_start(hstart))
        bucket = self.groups.fine.setdefault(mstart, {})
        key = (r.feature, model, variant)
        row = bucket.get(key)
        if row is None:
            row = bucket[key] = B.new_group_row()
        row[B.G_CALLS] += 1
        row[B.G_IN] += r.input_tokens
        row[B.G_OUT] += r.output_tokens
        row[B.G_CR] += r.cache_read_tokens
        row[B.G_CW5] += r.cache_write_5m_tokens
        row[B.G_CW1] += r.cache_write_1h_tokens
        lat = r.latency_ms
        row[B.G_LATSUM] += lat
        if r.stop_reason == "max_tokens":
            row[B.G_MAXTOK] += 1
        if lat < LOWEST_MS or lat > HIGHEST_MS:
            row[B.G_CLAMPED] += 1
            lat = LOWEST_MS if lat < LOWEST_MS else HIGHEST_MS
        if lat >= 256:
            s = lat.bit_length() - 8
            lat = lat >> s << s
        h = row[B.G_HIST]
        h[lat] = h.get(lat, 0) + 1
        if not r.user_id:
            row[B.G_NOUSER] += 1
        is_error = r.error is not None
        if is_error:
            row[B.G_ERRORS] += 1
            if r.error_status == 429:
                row[B.G_429] += 1
                self.rate_limit_events.append(r)
            elif r.error_status == 529:
                row[B.G_529] += 1
            et = row[B.G_ERRTYPES]
            if et is None:
                et = row[B.G_ERRTYPES] = {}
            k = _err_key(r.error, r.error_status)
            et[k] = et.get(k, 0) + 1
            q = self.recent_errors.get(r.feature)
            if q is None:
                q = self.recent_errors[r.feature] = deque(maxlen=ERRORS_KEPT_PER_FEATURE)
            q.append(r)
        row[B.G_COST] = None
        # Headroom: header limits of any age, the call itself if recent, 429 bursts.
        self.headroom.offer(r, self.clock.now())
        if not self.track_users:
            return
        ubucket = self.users.fine.setdefault(self.day_start(hstart), {})
        ukey = (r.user_id, r.feature, model, variant)
        urow = ubucket.get(ukey)
        if urow is None:
            urow = ubucket[ukey] = B.new_user_row()
        urow[B.U_CALLS] += 1
        if is_error:
            urow[B.U_ERRORS] += 1
            if r.error_status == 429:
                urow[B.U_429] += 1
        urow[B.U_IN] += r.input_tokens
        urow[B.U_OUT] += r.output_tokens
        urow[B.U_CR] += r.cache_read_tokens
        urow[B.U_CW5] += r.cache_write_5m_tokens
        urow[B.U_CW1] += r.cache_write_1h_tokens
        urow[B.U_COST] = None
        run = self._running
        if run is not None and run.start <= t < run.end:
            run.add(
                r.user_id,
                model,
                variant,
                r.input_tokens,
                r.output_tokens,
                r.cache_read_tokens,
                r.cache_write_5m_tokens,
                r.cache_write_1h_tokens,
                is_error,
                r.error_status,
            )

    def export_state(self) -> dict[str, Any]:
        """Everything a merge needs, picklable (for ``parallel``: a worker's half of a file)."""
        with self.lock:
            return {
                "groups": [t.buckets for t in self.groups.tiers],
                "users": [t.buckets for t in self.users.tiers],
                "lines": self.lines,
                "newest": self.newest_ts,
                "oldest": self.oldest_ts,
                "out_of_window": self.out_of_window,
                "rate_limit_events": list(self.rate_limit_events),
                "recent_errors": {k: list(v) for k, v in self.recent_errors.items()},
            }

    def absorb_state(self, state: dict[str, Any], lineno_offset: int = 0) -> None:
        """Add another engine's exported counts to this one (same prices, zone and tiers)."""
        with self.lock:
            for store, tiers in ((self.groups, state["groups"]), (self.users, state["users"])):
                for tier, buckets in zip(store.tiers, tiers, strict=True):
                    for bstart, bucket in buckets.items():
                        mine = tier.buckets.get(bstart)
                        if mine is None:
                            tier.buckets[bstart] = bucket
                        else:
                            for key, row in bucket.items():
                                acc = mine.get(key)
                                if acc is None:
                                    mine[key] = row
                                else:
                                    store.merge_row(acc, row)
                        store.note(bstart)
                store.flush()
                store.version += 1
            other: LineStats = state["lines"]
            self.lines.records += other.records
            self.lines.foreign += other.foreign
            self.lines.rejected += other.rejected
            for reason, n in other.by_reason.items():
                self.lines.by_reason[reason] = self.lines.by_reason.get(reason, 0) + n
            for source, lineno, reason, text in other.examples:
                self.lines.examples.append((source, lineno + lineno_offset, reason, text))
            for t in (state["newest"], state["oldest"]):
                if t is not None:
                    self.newest_ts = t if self.newest_ts is None else max(self.newest_ts, t)
                    self.oldest_ts = t if self.oldest_ts is None else min(self.oldest_ts, t)
            self.out_of_window += state["out_of_window"]
            self.rate_limit_events.extend(state["rate_limit_events"])
            for feature, records in state["recent_errors"].items():
                q = self.recent_errors.get(feature)
                if q is None:
                    q = self.recent_errors[feature] = deque(maxlen=ERRORS_KEPT_PER_FEATURE)
                q.extend(records)
            self.version += 1

    def compact(self) -> None:
        """Age buckets into coarser tiers, relative to the clock (or the newest event in replay)."""
        with self.lock:
            ref = self.clock.now()
            if self.newest_ts is not None:
                ref = min(ref, self.newest_ts)
            self.groups.compact(ref)
            self.users.compact(ref)
            self._since_compact = 0

    # -- queries -----------------------------------------------------------------------------

    def _row_cost(
        self, model: str, variant: int, bstart: int, row: Row, slots: tuple[int, ...]
    ) -> float | None:
        """A row's cost at the prices in force on its bucket's (UTC) date; None if unpriced."""
        price = self.prices.lookup(model, utc_date(bstart))
        if price is None:
            return None
        i, cr, cw5, cw1, o = slots
        return price.cost(
            row[i], row[cr], row[cw5], row[cw1], row[o], tier=variant >> 1, batch=bool(variant & 1)
        )

    def query(
        self,
        start: float | None = None,
        end: float | None = None,
        by: str = "feature",
        match: str | None = None,
    ) -> Summary:
        """Every group of ``by`` (feature, model or user) over [start, end).

        A bucket belongs to the window when its start lies in it, so windows are aligned to
        bucket edges (a minute for recent data). ``match`` keeps rows whose feature or model
        (and user, for ``by="user"``) contains it, case-insensitively.
        """
        with self.lock:
            if by == "user":
                return self._summary(_USERS_BY_USER, start, end, match, None)
            if by == "model":
                return self._summary(_GROUPS_BY_MODEL, start, end, match, None)
            return self._summary(_GROUPS_BY_FEATURE, start, end, match, None)

    def users_of_feature(self, feature: str, start: float | None, end: float | None) -> Summary:
        """Per-user numbers of one feature (hour-aligned), for the feature's detail screen."""
        with self.lock:
            return self._summary(_USERS_BY_USER, start, end, None, feature)

    def models_of_feature(self, feature: str, start: float | None, end: float | None) -> Summary:
        with self.lock:
            return self._summary(_GROUPS_BY_MODEL, start, end, None, feature)

    def _summary(
        self,
        spec: _Spec,
        start: float | None,
        end: float | None,
        match: str | None,
        feature: str | None,
    ) -> Summary:
        cached, tail = self._window(spec, start, end, match.lower() if match else None, feature)
        with_latency = spec.store_name == "groups"
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
        """All traffic over [start, end) (cheaper than ``query``: no per-group objects)."""
        with self.lock:
            cached, tail = self._window(_GROUPS_BY_FEATURE, start, end, None, None)
            return group_stats("*", cached.total, tail.total, True)

    def _window(
        self,
        spec: _Spec,
        start: float | None,
        end: float | None,
        needle: str | None,
        feature: str | None,
    ) -> tuple[_Cached, _Cached]:
        """A window's merged accumulators, as a cached merge of its settled buckets plus a tail.

        Buckets older than the newest one being written are "settled": their merge is kept per
        (view, window start) and only extended as the window's end moves, so a 4 Hz refresh
        merges a minute of new data, not a day of old data. A batch that writes into a settled
        bucket (late lines), or a compaction, makes the cache start over. The tail (the live
        bucket) is merged into separate accumulators: nothing cached is copied or changed.
        """
        store: TieredStore = getattr(self, spec.store_name)
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
            c = _Cached({}, new_acc(), lo, store.seq, store.version, aligned, span)
            self._cache[key] = c
            if len(self._cache) > CACHED_WINDOWS:
                self._cache.popitem(last=False)  # least recently used
        else:
            self._cache.move_to_end(key)
        settled = store.live_edge if end is None else min(end, store.live_edge)
        if settled > c.covered:
            for bstart, bucket in store.buckets_in(c.covered, settled):
                self._fold(spec, bstart, bucket, c.accs, c.total, needle, feature)
            c.covered = settled
        c.seq = store.seq
        # Every open window of one view shares the same tail (the live bucket up to now):
        # merge it once per batch of data, not once per window.
        tkey = (spec.by, spec.store_name, needle, feature, c.covered, end, store.seq)
        tail = self._tails.get(tkey)
        if tail is None:
            tail = _Cached({}, new_acc(), c.covered, store.seq, store.version, None, None)
            for bstart, bucket in store.buckets_in(c.covered, end):
                self._fold(spec, bstart, bucket, tail.accs, tail.total, needle, feature)
            if len(self._tails) > 32:
                self._tails.clear()
            self._tails[tkey] = tail
        return c, tail

    def _slide(
        self,
        spec: _Spec,
        store: TieredStore,
        key: tuple[Any, ...],
        aligned: float,
        span: int | None,
    ) -> _Cached | None:
        """A rolling window whose start moved on: take the buckets it left out of the merge.

        "Last 24 h" gets a new start every minute; merging the day again each time would cost
        more than the rest of a refresh, while taking out the minute that left costs little.
        """
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
                    if cost is None:  # pragma: no cover - folded rows always have a cost
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
        spec: _Spec,
        bstart: int,
        bucket: dict[Any, Row],
        accs: dict[str, list[Any]],
        total: list[Any],
        needle: str | None,
        feature: str | None,
    ) -> None:
        name_i, model_i, feat_i = spec.name_i, spec.model_i, spec.feature_i
        cost_slot, slots, acc_fn = spec.cost_slot, spec.slots, spec.acc
        for key, row in bucket.items():
            if feature is not None and key[feat_i] != feature:
                continue
            if needle is not None and not any(needle in k.lower() for k in key[: spec.text_keys]):
                continue
            cost = row[cost_slot]
            if cost is None:
                c = self._row_cost(key[model_i], key[model_i + 1], bstart, row, slots)
                cost = row[cost_slot] = c if c is not None else -1.0
            name = key[name_i]
            acc = accs.get(name)
            if acc is None:
                acc = accs[name] = new_acc()
            acc_fn(acc, row, cost, key[model_i])
            acc_fn(total, row, cost, key[model_i])

    def series(
        self, start: float, end: float, step: int, by: str = "feature", metric: str = "calls"
    ) -> dict[str, list[float]]:
        """Per-group values in ``step``-second slots over [start, end), for sparklines."""
        n = max(1, int((end - start + step - 1) // step))
        idx = 0 if by == "feature" else 1
        if metric in ("calls", "errors"):
            with self.lock:
                return self._summed_series(start, end, step, n, idx, metric)
        out: dict[str, list[float]] = {}
        hists: dict[str, list[dict[int, int]]] = {}
        with self.lock:
            for bstart, bucket in self.groups.buckets_in(start, end):
                slot = int((bstart - start) // step)
                if not 0 <= slot < n:
                    continue
                for key, row in bucket.items():
                    name = key[idx]
                    vals = out.get(name)
                    if vals is None:
                        vals = out[name] = [0.0] * n
                    if metric == "calls":
                        vals[slot] += row[B.G_CALLS]
                    elif metric == "errors":
                        vals[slot] += row[B.G_ERRORS]
                    elif metric == "p95":
                        hs = hists.get(name)
                        if hs is None:
                            hs = hists[name] = [{} for _ in range(n)]
                        merge_into(hs[slot], row[B.G_HIST])
        if metric == "p95":
            for name, hs in hists.items():
                out[name] = [float(LatencyHistogram(h).percentile(95) or 0) for h in hs]
        return out

    def _summed_series(
        self, start: float, end: float, step: int, n: int, idx: int, metric: str
    ) -> dict[str, list[float]]:
        """Counts per slot, with the settled buckets' part cached like a window's merge."""
        store = self.groups
        slot_of = B.G_CALLS if metric == "calls" else B.G_ERRORS
        key = ("series", start, step, idx, slot_of)
        c = self._series.get(key)
        if (
            c is None
            or c.version != store.version
            or end < c.covered
            or store.oldest_touch_since(c.seq) < c.covered
        ):
            c = _Cached({}, [], start, store.seq, store.version, None, None)
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

    def cost_between(self, start: float, end: float) -> float:
        return self.total(start, end).cost_usd

    def events_429(self, start: float | None = None, end: float | None = None) -> list[Record]:
        with self.lock:
            return [
                r
                for r in self.rate_limit_events
                if (start is None or r.ts >= start) and (end is None or r.ts < end)
            ]

    def errors_of(self, feature: str) -> list[Record]:
        with self.lock:
            return list(self.recent_errors.get(feature, ()))

    def memory_rows(self) -> int:
        return self.groups.row_count() + self.users.row_count()


@dataclass(frozen=True, slots=True)
class _Spec:
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


@dataclass(slots=True)
class _Cached:
    accs: dict[str, list[Any]]
    total: list[Any]
    covered: float
    seq: int
    version: int
    aligned: float | None
    """The (minute-aligned) window start the merge begins at."""
    span: int | None
    """Window length in minutes when first asked: a rolling window keeps it as it slides."""


ARTICLE_KEYS = frozenset(ARTICLE_FIELDS)
FAST_EXTRA = frozenset(
    (
        "cache_creation_tokens",
        "cache_creation_1h_tokens",
        "api_request_id",
        "ratelimit_requests_limit",
        "ratelimit_requests_remaining",
        "ratelimit_input_tokens_limit",
        "ratelimit_input_tokens_remaining",
        "ratelimit_output_tokens_limit",
        "ratelimit_output_tokens_remaining",
        "ratelimit_tokens_remaining",
    )
)
"""Fields besides the article's twelve that the fast path accepts: none changes how a
successful call is counted except the cache writes, which it adds."""

_GET12 = itemgetter(*ARTICLE_FIELDS)


_GROUP_SLOTS = (B.G_IN, B.G_CR, B.G_CW5, B.G_CW1, B.G_OUT)
_USER_SLOTS = (B.U_IN, B.U_CR, B.U_CW5, B.U_CW1, B.U_OUT)
_GROUPS_BY_FEATURE = _Spec(
    "feature", "groups", 0, 0, 1, 2, B.G_COST, _GROUP_SLOTS, acc_group, unacc_group
)
_GROUPS_BY_MODEL = _Spec(
    "model", "groups", 1, 0, 1, 2, B.G_COST, _GROUP_SLOTS, acc_group, unacc_group
)
_USERS_BY_USER = _Spec("user", "users", 0, 1, 2, 3, B.U_COST, _USER_SLOTS, acc_user, unacc_user)
