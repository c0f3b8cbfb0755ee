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

import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

import orjson

from claude_top import buckets as B
from claude_top.buckets import Row, TieredStore
from claude_top.clock import Clock, SystemClock
from claude_top.histogram import HIGHEST_MS, LOWEST_MS, LatencyHistogram, merge_into
from claude_top.prices import PriceTable
from claude_top.reader import R_TOO_LONG, Rejected, parse_line, parse_timestamp
from claude_top.record import Record
from claude_top.snapshot import GroupStats, Summary
from claude_top.sources import Batch

MINUTE = 60
HOUR = 3600
DAY = 86400
COARSE = 900
"""15 minutes: every real time zone's midnight falls on a multiple of it."""

GROUP_TIERS = [(MINUTE, 26 * HOUR), (COARSE, float("inf"))]
USER_TIERS = [(MINUTE, 65 * MINUTE), (HOUR, 26 * HOUR), (B.ARCHIVE, float("inf"))]
"""Users are many, so their rows coarsen faster: minutes for the last hour, hours for the last
day, then one archive bucket. Per-user windows older than a day (``summary --by user --day``)
are served by filtering at ingest instead."""
COMPACT_EVERY = 20_000
"""Records between compactions: keeps the fine tier bounded while history loads."""

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
    ) -> None:
        self.prices = prices or PriceTable.builtin()
        self.clock = clock or SystemClock()
        self.tz = tz
        self.since = since
        """Records before this time are counted as lines but not aggregated (``--since``)."""
        self.until = until
        self.lock = threading.RLock()
        self.lines = LineStats()
        self.groups = TieredStore(GROUP_TIERS, B.new_group_row, B.merge_group_row)
        self.users = TieredStore(USER_TIERS, B.new_user_row, B.merge_user_row)
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

    # -- ingest ------------------------------------------------------------------------------

    def ingest(self, batch: Batch) -> None:
        """Classify and aggregate a batch of raw lines."""
        with self.lock:
            self._ingest(batch.source, batch.first_lineno, batch.lines)
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
        minute_cache = self._minute_cache
        gfine = self.groups.fine
        ufine = self.users.fine
        thresholds = self._tier_thresholds
        since, until = self.since, self.until
        new_group_row, new_user_row = B.new_group_row, B.new_user_row
        newest = self.newest_ts if self.newest_ts is not None else float("-inf")
        oldest = self.oldest_ts if self.oldest_ts is not None else float("inf")
        fast = 0
        slow: list[int] = []
        for i, line in enumerate(lines):
            # The fast path: only the shape the article writes, for a successful call.
            try:
                d = loads(line)
                n = len(d)
                if n == 12:
                    cw5 = 0
                elif n == 13:
                    cw5 = d["cache_creation_tokens"]
                else:
                    slow.append(i)
                    continue
                ts = d["timestamp"]
                feature = d["feature"]
                model = d["model"]
                user = d["user_id"]
                inp = d["input_tokens"]
                out = d["output_tokens"]
                cr = d["cached_tokens"]
                lat = d["latency_ms"]
                stop = d["stop_reason"]
                if (
                    d["error"] is not None
                    or d["error_status"] is not None
                    or type(d["request_id"]) is not str
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
                ):
                    slow.append(i)
                    continue
                mkey = ts[:16]
                minute = minute_cache.get(mkey) if ts[-6:] == "+00:00" else None
                if minute is None:
                    t = parse_timestamp(ts)
                    if t is None:
                        slow.append(i)
                        continue
                    if ts[-6:] == "+00:00" and ts[16] == ":":
                        if len(minute_cache) > 50_000:
                            minute_cache.clear()
                        minute_cache[mkey] = int(t // 60) * 60
                    t = float(t)
                else:
                    t = float(minute + int(ts[17:19]))
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, IndexError):
                slow.append(i)
                continue
            if (since is not None and t < since) or (until is not None and t >= until):
                self.out_of_window += 1
                fast += 1
                continue
            if t > newest:
                newest = t
            if t < oldest:
                oldest = t
            thr = thresholds.get(model, -1)
            if thr == -1:
                thr = thresholds[model] = self.prices.tier_threshold(model)
            variant = 2 if thr is not None and inp + cr + cw5 > thr else 0
            mstart = int(t // 60) * 60
            bucket = gfine.get(mstart)
            if bucket is None:
                bucket = gfine[mstart] = {}
            key = (feature, model, variant)
            row = bucket.get(key)
            if row is None:
                row = bucket[key] = new_group_row()
            row[0] += 1
            row[4] += inp
            row[5] += out
            row[6] += cr
            row[7] += cw5
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
            ubucket = ufine.get(mstart)
            if ubucket is None:
                ubucket = ufine[mstart] = {}
            ukey = (user, feature, model, variant)
            urow = ubucket.get(ukey)
            if urow is None:
                urow = ubucket[ukey] = new_user_row()
            urow[0] += 1
            urow[3] += inp
            urow[4] += out
            urow[5] += cr
            urow[6] += cw5
            urow[8] = None
            fast += 1
        if newest != float("-inf"):
            self.newest_ts = newest
        if oldest != float("inf"):
            self.oldest_ts = oldest
        self.lines.records += fast
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
        ubucket = self.users.fine.setdefault(mstart, {})
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
        price = self.prices.lookup(model, _utc_date(bstart))
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
        """Every group of ``by`` (feature, model or user) over [start, end)."""
        with self.lock:
            if by == "user":
                return self._query_users(start, end, match, None)
            return self._query_groups(start, end, by, match)

    def _query_groups(
        self, start: float | None, end: float | None, by: str, match: str | None
    ) -> Summary:
        idx = 0 if by == "feature" else 1
        accs: dict[str, list[Any]] = {}
        total = _new_acc()
        needle = match.lower() if match else None
        slots = (B.G_IN, B.G_CR, B.G_CW5, B.G_CW1, B.G_OUT)
        for bstart, bucket in self.groups.buckets_in(start, end):
            for key, row in bucket.items():
                if (
                    needle is not None
                    and needle not in key[0].lower()
                    and needle not in key[1].lower()
                ):
                    continue
                cost = row[B.G_COST]
                if cost is None:
                    c = self._row_cost(key[1], key[2], bstart, row, slots)
                    cost = row[B.G_COST] = c if c is not None else -1.0
                name = key[idx]
                acc = accs.get(name)
                if acc is None:
                    acc = accs[name] = _new_acc()
                for a in (acc, total):
                    _acc_group(a, row, cost, key[1])
        return Summary(
            start,
            end,
            by,
            _group_stats("*", total),
            {name: _group_stats(name, a) for name, a in accs.items()},
        )

    def _query_users(
        self, start: float | None, end: float | None, match: str | None, feature: str | None
    ) -> Summary:
        accs: dict[str, list[Any]] = {}
        total = _new_acc()
        needle = match.lower() if match else None
        slots = (B.U_IN, B.U_CR, B.U_CW5, B.U_CW1, B.U_OUT)
        for bstart, bucket in self.users.buckets_in(start, end):
            for key, row in bucket.items():
                if feature is not None and key[1] != feature:
                    continue
                if needle is not None and not any(needle in k.lower() for k in key[:3]):
                    continue
                cost = row[B.U_COST]
                if cost is None:
                    c = self._row_cost(key[2], key[3], bstart, row, slots)
                    cost = row[B.U_COST] = c if c is not None else -1.0
                name = key[0]
                acc = accs.get(name)
                if acc is None:
                    acc = accs[name] = _new_acc()
                for a in (acc, total):
                    _acc_user(a, row, cost, key[2])
        return Summary(
            start,
            end,
            "user",
            _group_stats("*", total, with_latency=False),
            {name: _group_stats(name, a, with_latency=False) for name, a in accs.items()},
        )

    def users_of_feature(self, feature: str, start: float | None, end: float | None) -> Summary:
        """Per-user numbers of one feature, for the feature's detail screen."""
        with self.lock:
            return self._query_users(start, end, None, feature)

    def models_of_feature(self, feature: str, start: float | None, end: float | None) -> Summary:
        with self.lock:
            accs: dict[str, list[Any]] = {}
            slots = (B.G_IN, B.G_CR, B.G_CW5, B.G_CW1, B.G_OUT)
            total = _new_acc()
            for bstart, bucket in self.groups.buckets_in(start, end):
                for key, row in bucket.items():
                    if key[0] != feature:
                        continue
                    cost = row[B.G_COST]
                    if cost is None:
                        c = self._row_cost(key[1], key[2], bstart, row, slots)
                        cost = row[B.G_COST] = c if c is not None else -1.0
                    acc = accs.setdefault(key[1], _new_acc())
                    _acc_group(acc, row, cost, key[1])
                    _acc_group(total, row, cost, key[1])
            return Summary(
                start,
                end,
                "model",
                _group_stats(feature, total),
                {m: _group_stats(m, a) for m, a in accs.items()},
            )

    def series(
        self, start: float, end: float, step: int, by: str = "feature", metric: str = "calls"
    ) -> dict[str, list[float]]:
        """Per-group values in ``step``-second slots over [start, end), for sparklines."""
        n = max(1, int((end - start + step - 1) // step))
        idx = 0 if by == "feature" else 1
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

    def cost_between(self, start: float, end: float) -> float:
        return self.query(start, end, by="feature").total.cost_usd

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


def _utc_date(ts: float) -> date:
    return (datetime(1970, 1, 1) + timedelta(seconds=ts)).date()


# An accumulator: the numeric slots of a group row, then hist, error types, cost, unpriced.
A_HIST, A_ERRT, A_COST, A_UNPRICED, A_UNPRICED_MODELS = 13, 14, 15, 16, 17


def _new_acc() -> list[Any]:
    return [0] * B.G_NUMERIC + [{}, {}, 0.0, 0, set()]


def _acc_group(a: list[Any], row: Row, cost: float, model: str) -> None:
    for i in range(B.G_NUMERIC):
        a[i] += row[i]
    merge_into(a[A_HIST], row[B.G_HIST])
    if row[B.G_ERRTYPES]:
        merge_into(a[A_ERRT], row[B.G_ERRTYPES])
    if cost < 0:
        a[A_UNPRICED] += row[B.G_CALLS]
        a[A_UNPRICED_MODELS].add(model)
    else:
        a[A_COST] += cost


_USER_TO_GROUP = (
    (B.U_CALLS, B.G_CALLS),
    (B.U_ERRORS, B.G_ERRORS),
    (B.U_429, B.G_429),
    (B.U_IN, B.G_IN),
    (B.U_OUT, B.G_OUT),
    (B.U_CR, B.G_CR),
    (B.U_CW5, B.G_CW5),
    (B.U_CW1, B.G_CW1),
)


def _acc_user(a: list[Any], row: Row, cost: float, model: str) -> None:
    for u, g in _USER_TO_GROUP:
        a[g] += row[u]
    if cost < 0:
        a[A_UNPRICED] += row[B.U_CALLS]
        a[A_UNPRICED_MODELS].add(model)
    else:
        a[A_COST] += cost


def _group_stats(name: str, a: list[Any], with_latency: bool = True) -> GroupStats:
    return GroupStats(
        name=name,
        calls=a[B.G_CALLS],
        errors=a[B.G_ERRORS],
        rate_limited=a[B.G_429],
        overloaded=a[B.G_529],
        errors_by_type=dict(a[A_ERRT]),
        input_tokens=a[B.G_IN],
        output_tokens=a[B.G_OUT],
        cache_read_tokens=a[B.G_CR],
        cache_write_5m_tokens=a[B.G_CW5],
        cache_write_1h_tokens=a[B.G_CW1],
        latency_sum_ms=a[B.G_LATSUM],
        latency_clamped=a[B.G_CLAMPED],
        max_tokens_stops=a[B.G_MAXTOK],
        no_user_calls=a[B.G_NOUSER],
        cost_usd=a[A_COST],
        unpriced_calls=a[A_UNPRICED],
        unpriced_models=tuple(sorted(a[A_UNPRICED_MODELS])),
        latency=LatencyHistogram(a[A_HIST]) if with_latency else None,
    )
