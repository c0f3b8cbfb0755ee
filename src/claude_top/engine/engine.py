"""The in-memory aggregation engine: lines in, windows of numbers out.

One engine serves every view. It takes batches of raw lines (from a one-shot read or from the
follower thread), has them decoded (``ingest.fast``, or ``ingest.reader`` alone), and hands the
records to the one accumulate step (``engine.accumulate``). Any window -- the last 5 minutes,
today, one of the 7 days before today, the whole input -- is then answered from memory
(``engine.window_cache``, ``engine.series``). This module is the facade: the lock, ingest and
the queries, each delegated.

Its length (over the ~400 lines we aim for) is one short method per query a view asks, each
taking the lock the same way; split across modules, that discipline would be repeated in each.
"""

from __future__ import annotations

import heapq
import threading
from collections import deque
from collections.abc import Callable, Iterable
from datetime import UTC, tzinfo
from typing import TYPE_CHECKING, Any

from claude_top.core.clock import Clock, SystemClock
from claude_top.core.histogram import merge_into
from claude_top.core.record import Record
from claude_top.core.stats import GroupStats, LineStats, Summary
from claude_top.core.timeutil import local_midnight
from claude_top.engine import app_cost, server_tools, streaming
from claude_top.engine import store as B
from claude_top.engine.accumulate import (
    COARSE,
    ERRORS_KEPT_PER_FEATURE,
    HOUR,
    Aggregates,
)
from claude_top.engine.app_cost import AppCost
from claude_top.engine.block import take_block
from claude_top.engine.headroom import Headroom
from claude_top.engine.pricing import PriceTable
from claude_top.engine.server_tools import ToolUse
from claude_top.engine.span_costs import SpanCost, SpanCosts
from claude_top.engine.store import Older, TieredStore
from claude_top.engine.streaming import StreamStats
from claude_top.engine.users_today import R_COST, R_TOKENS, RunningDay, running_stats
from claude_top.engine.window_cache import (
    FEATURE_COUNTS,
    GROUPS_BY_FEATURE,
    GROUPS_BY_MODEL,
    USERS_BY_FEATURE,
    USERS_BY_USER,
    WindowCache,
    bucket_costs,
)
from claude_top.ingest import fast, reader
from claude_top.ingest.detect import detect
from claude_top.ingest.mapping import LogFormat, Mapping
from claude_top.ingest.presets import NATIVE
from claude_top.ingest.reader import R_TOO_LONG
from claude_top.sources.paths import Batch

if TYPE_CHECKING:  # built on first use: a one-shot command (``check``) draws no chart
    from claude_top.engine.series import Series, SlotStats, TrafficSeries

__all__ = ["Engine", "LineStats"]

COMPACT_EVERY = 20_000
"""Records between compactions: keeps the fine tier bounded while history loads."""
DAY_CACHE_MAX = 100_000
DECODE_CHUNK = 256
"""Lines decoded before their records are aggregated. Fewer than the garbage collector's
first threshold (700 new objects): records freed before it counts them cost no collection,
which would otherwise cost as much as a tenth of a line's whole decoding."""


class Engine:
    """Aggregates call records; thread-safe (one re-entrant lock around ingest and queries)."""

    def __init__(
        self,
        prices: PriceTable | None = None,
        clock: Clock | None = None,
        tz: tzinfo = UTC,
        since: float | None = None,
        until: float | None = None,
        headroom: Headroom | None = None,
        track_users: bool = True,
        track_groups: bool = True,
        cache_costs: bool = True,
        whole_read: bool = False,
        fast_decoder: bool = True,
        log_format: LogFormat | None = None,
    ) -> None:
        self.prices = prices or PriceTable.builtin()
        self.clock = clock or SystemClock()
        self.tz = tz
        self.lock = threading.RLock()
        """Guards every state change; a view may hold it across several queries (one frame)."""
        self._fast_decoder = fast_decoder
        self._decode = fast.decode_batch if fast_decoder else reader.decode_batch
        """``fast_decoder=False`` decodes every line by the reference reader alone (the
        differential test compares the two; both feed the same accumulate step)."""
        self.log_format = log_format or LogFormat()
        """The ``[log]`` choice: a preset, or None to detect each source's (``ingest.detect``)."""
        self._decoders: dict[str, Any] = {}
        """Each decided source's decoder: the native one, or the reader through a mapping."""
        self._judges: dict[str, reader.Judge] = {}
        self._mappings: dict[str, Mapping | None] = {}
        self._day_cache: dict[int, int] = {}
        self.headroom = headroom or Headroom()
        """Rate-limit headroom over the last minutes (``claude_top.engine.headroom``)."""
        self.agg = Aggregates(
            self.prices,
            self.day_start,
            self.headroom,
            since,
            until,
            track_users,
            track_groups,
            whole_read,
        )
        self.agg.cache_costs = cache_costs
        self._windows = WindowCache(self.agg)
        self._series: Series | None = None
        self._traffic: TrafficSeries | None = None
        self._costs = SpanCosts(self.agg)
        self._top: tuple[tuple[Any, ...], RunningDay, list[GroupStats]] | None = None
        """The last ``top_users`` answer from the running totals, by what it depends on."""
        self.version = 0
        """Bumped by every ingest: views skip recomputing when nothing changed."""
        self.before_compact: Callable[[float], None] | None = None
        """Called (under the lock) with the compaction's reference time just before buckets
        move to a coarser tier: a state writer takes the rows' changes while they can still be
        told apart (``state.save``)."""

    def blank_like(self, track_users: bool | None = None) -> Engine:
        """A new engine that reads as this one does (prices, clock, zone, bounds, layout, log
        format) and holds nothing yet: what reads a part of the input to be merged into this one
        (``absorb_state``) starts from, so no line this one already holds is merged twice.
        ``track_users``: whether it keeps per-user rows, if not as this one does."""
        agg = self.agg
        return Engine(
            self.prices,
            self.clock,
            self.tz,
            since=agg.since,
            until=agg.until,
            track_users=agg.track_users if track_users is None else track_users,
            track_groups=agg.track_groups,
            cache_costs=agg.cache_costs,
            whole_read=agg.whole_read,
            fast_decoder=self._fast_decoder,
            log_format=self.log_format,
        )

    # -- the state, as the other layers read it ----------------------------------------------

    @property
    def since(self) -> float | None:
        """Records before this time are counted as lines but not aggregated (``--since``)."""
        return self.agg.since

    @property
    def until(self) -> float | None:
        return self.agg.until

    @property
    def track_users(self) -> bool:
        """Keep per-user rows; a one-shot command that shows no user can skip their cost."""
        return self.agg.track_users

    @property
    def lines(self) -> LineStats:
        return self.agg.lines

    @property
    def groups(self) -> TieredStore:
        return self.agg.groups

    @property
    def users(self) -> TieredStore:
        return self.agg.users

    @property
    def newest_ts(self) -> float | None:
        return self.agg.newest_ts

    @property
    def oldest_ts(self) -> float | None:
        return self.agg.oldest_ts

    @property
    def out_of_window(self) -> int:
        return self.agg.out_of_window

    @property
    def rate_limit_events(self) -> deque[Record]:
        return self.agg.rate_limit_events

    @property
    def recent_errors(self) -> dict[str, deque[Record]]:
        return self.agg.recent_errors

    def day_start(self, ts: float) -> int:
        """Epoch seconds of local midnight (in ``tz``) of the day holding ``ts``."""
        q = int(ts // COARSE)
        d = self._day_cache.get(q)
        if d is None:
            d = int(local_midnight(q * COARSE, self.tz))
            if len(self._day_cache) > DAY_CACHE_MAX:
                self._day_cache.clear()
            self._day_cache[q] = d
        return d

    # -- ingest ------------------------------------------------------------------------------

    def ingest(self, batch: Batch) -> None:
        """Classify and aggregate a batch of raw lines."""
        with self.lock:
            agg = self.agg
            now = self.clock.now()
            lines, source, first = batch.lines, batch.source, batch.first_lineno
            decode = self._decoders.get(source) or self._decoder_for(source, lines)
            blocks = decode is fast.decode_batch  # the native format, by the fast decoder
            for at in range(0, len(lines), DECODE_CHUNK):
                chunk = lines[at : at + DECODE_CHUNK]
                if blocks:  # common lines counted as they are decoded (``engine.block``)
                    take_block(agg, chunk, source, first + at, now)
                else:
                    agg.accumulate(decode(chunk, source, first + at, agg.lines), now)
            agg.groups.flush()
            agg.users.flush()
            agg.streams.flush()
            agg.app_costs.flush()
            agg.tools.flush()
            self.version += 1
            if agg.since_compact >= COMPACT_EVERY:
                self.compact()

    def _mapping_of(self, name: str) -> Mapping | None:
        """The mapping of format ``name`` with ``[log.fields]`` over it (None: native)."""
        if name not in self._mappings:
            self._mappings[name] = self.log_format.mapping(name)
        return self._mappings[name]

    def judge_of(self, name: str) -> reader.Judge:
        """The judge of objects in format ``name`` (with ``[log.fields]`` over it)."""
        judge = self._judges.get(name)
        if judge is None:
            judge = self._judges[name] = reader.mapped_judge(self._mapping_of(name))
        return judge

    def timestamp_of(self, raw: bytes) -> float | None:
        """A line's event time as this engine reads it (a follower seeks in time with it)."""
        return reader.timestamp_of(raw, self.judge_of(self.log_format.preset or NATIVE))

    def _decoder_for(self, source: str, lines: list[bytes]) -> Any:
        """A source's decoder: its preset's, or the detected one's (kept once decided); while
        nothing in it is a call, the native one (its unmapped lines are still counted)."""
        name = self.log_format.preset
        if name is None:
            name = detect(lines, self._mapping_of)
            if name is None:
                return self._decode if not self.log_format.custom else self._mapped(NATIVE)
            self.agg.lines.format_detected = True
        self.agg.lines.formats[source] = name
        decode = self._decoders[source] = self._mapped(name)
        return decode

    def _mapped(self, name: str) -> Any:
        if self._mapping_of(name) is None:
            return self._decode  # the native format: the fast decoder
        judge = self.judge_of(name)

        def decode(lines: list[bytes], source: str, first: int, stats: LineStats) -> list[Any]:
            return reader.decode_batch(lines, source, first, stats, judge)

        return decode

    def ingest_lines(self, lines: Iterable[bytes | str], source: str = "<lines>") -> None:
        raw = [ln.encode() if isinstance(ln, str) else ln for ln in lines]
        self.ingest(Batch(source, 1, [ln.rstrip(b"\r\n") for ln in raw]))

    def count_overlong(self, source: str, lineno: int, length: int) -> None:
        """The follower skipped a line longer than its limit: still counted, as rejected."""
        with self.lock:
            self.agg.lines.reject(source, lineno, R_TOO_LONG, f"<{length} bytes>".encode())
            self.version += 1

    def compaction_ref(self, newest: float | None) -> float:
        """What ``compact`` ages buckets against: the clock, or the newest call when older."""
        ref = self.clock.now()
        return ref if newest is None else min(ref, newest)

    def compact(self) -> None:
        """Age buckets into coarser tiers, relative to the clock (or the newest event in replay)."""
        with self.lock:
            ref = self.compaction_ref(self.agg.newest_ts)
            if self.before_compact is not None:
                self.before_compact(ref)
            self.agg.groups.compact(ref)
            self.agg.users.compact(ref)
            self.agg.streams.compact(ref)
            self.agg.app_costs.compact(ref)
            self.agg.tools.compact(ref)
            self.agg.since_compact = 0

    # -- a worker's half of a file (``engine.merge``) ------------------------------------------

    def export_state(self) -> dict[str, Any]:
        """Everything a merge needs, picklable (for ``parallel``: a worker's half of a file)."""
        with self.lock:
            agg = self.agg
            return {
                "groups": [t.buckets for t in agg.groups.tiers],
                "users": [t.buckets for t in agg.users.tiers],
                "streams": [t.buckets for t in agg.streams.tiers],
                "app_costs": [t.buckets for t in agg.app_costs.tiers],
                "tools": [t.buckets for t in agg.tools.tiers],
                "settled": agg.groups.settled,
                "whole_hists": agg.whole_hists,  # its rows hold these same objects
                "lines": agg.lines,
                "newest": agg.newest_ts,
                "oldest": agg.oldest_ts,
                "out_of_window": agg.out_of_window,
                "rate_limit_events": list(agg.rate_limit_events),
                "recent_errors": {k: list(v) for k, v in agg.recent_errors.items()},
            }

    def absorb_state(self, state: dict[str, Any], lineno_offset: int = 0) -> None:
        """Add another engine's exported counts to this one (same prices, zone and tiers)."""
        with self.lock:
            agg = self.agg
            hists = agg.whole_hists
            if hists is not None:  # a whole read's: each key's histogram merged once
                theirs = state["whole_hists"]
                for key, h in theirs.items():
                    mine_h = hists.get(key)
                    if mine_h is None:
                        hists[key] = h
                    else:
                        merge_into(mine_h, h)
            stores = [(agg.groups, state["groups"]), (agg.users, state["users"])]
            if "streams" in state:
                stores.append((agg.streams, state["streams"]))
            if "app_costs" in state:
                stores.append((agg.app_costs, state["app_costs"]))
            if "tools" in state:
                stores.append((agg.tools, state["tools"]))
            for store, tiers in stores:
                for tier, buckets in zip(store.tiers, tiers, strict=True):
                    for bstart, bucket in buckets.items():
                        mine = tier.buckets.get(bstart)
                        if mine is None:
                            tier.buckets[bstart] = bucket
                        else:
                            store.merge_bucket(mine, bucket)
                        store.note(bstart)
                store.flush()
                store.version += 1
            # A bucket that took settled rows from the other engine's settled buckets is one a
            # later line must reopen (a single-tier store's; empty sets otherwise).
            agg.groups.settled |= state.get("settled", set())
            if hists is not None:  # the rows this engine took hold its keys' histograms
                for tier in state["groups"]:
                    for bucket in tier.values():
                        for key, row in bucket.items():
                            row[B.G_HIST] = hists[key]
            agg.lines.absorb(state["lines"], lineno_offset)
            for t in (state["newest"], state["oldest"]):
                if t is not None:
                    agg.newest_ts = t if agg.newest_ts is None else max(agg.newest_ts, t)
                    agg.oldest_ts = t if agg.oldest_ts is None else min(agg.oldest_ts, t)
            agg.out_of_window += state["out_of_window"]
            agg.rate_limit_events.extend(state["rate_limit_events"])
            for feature, records in state["recent_errors"].items():
                q = agg.recent_errors.get(feature)
                if q is None:
                    q = agg.recent_errors[feature] = deque(maxlen=ERRORS_KEPT_PER_FEATURE)
                q.extend(records)
            self.version += 1

    def answer_older(self, older: Older) -> None:
        """Answer the group rows of buckets before ``older.before`` from ``older`` (a state
        file just committed: ``state.older``), not from memory: for a one-shot engine that
        reads nothing more. Memory's own buckets before it are left out of every fold."""
        with self.lock:
            store = self.agg.groups
            store.older = older
            store.version += 1  # merged windows and kept sums start over
            self.version += 1

    # -- queries -----------------------------------------------------------------------------

    def query(
        self,
        start: float | None = None,
        end: float | None = None,
        by: str = "feature",
        match: str | None = None,
        per_user: bool = False,
        latency: bool = True,
    ) -> Summary:
        """Every group of ``by`` (feature, model or user) over [start, end).

        A bucket belongs to the window when its start lies in it, so windows are aligned to
        bucket edges (a minute for recent data). ``match`` keeps rows whose feature or model
        (and user, for ``by="user"``) contains it, case-insensitively. ``per_user`` answers
        ``by="feature"`` from the per-user rows (kept per day, without latency), so ``match``
        also finds users there. ``latency`` False (``by="feature"``): the same groups without
        their latency (None), for readers of counters only; no histogram is merged.
        """
        spec = {"user": USERS_BY_USER, "model": GROUPS_BY_MODEL}.get(by, GROUPS_BY_FEATURE)
        if per_user and by == "feature":
            spec = USERS_BY_FEATURE
        elif not latency and spec is GROUPS_BY_FEATURE:
            spec = FEATURE_COUNTS  # the same numbers, ``latency`` None: no histogram merged
        with self.lock:
            return self._windows.summary(spec, start, end, match, None)

    def users_of_feature(self, feature: str, start: float | None, end: float | None) -> Summary:
        """Per-user numbers of one feature (hour-aligned), for the feature's detail screen."""
        with self.lock:
            return self._windows.summary(USERS_BY_USER, start, end, None, feature)

    def models_of_feature(self, feature: str, start: float | None, end: float | None) -> Summary:
        with self.lock:
            return self._windows.summary(GROUPS_BY_MODEL, start, end, None, feature)

    def total(self, start: float | None, end: float | None) -> GroupStats:
        """All traffic over [start, end) (cheaper than ``query``: no per-group objects)."""
        with self.lock:
            return self._windows.total(start, end)

    def counts(self, start: float | None, end: float | None) -> GroupStats:
        """``total`` without latency (``latency`` None), for what reads only its counters and
        cost: a fold of the rows into one sum, without groups or histograms."""
        with self.lock:
            return self._windows.counts(start, end)

    def span_cost(
        self, start: float | None, end: float | None, match: str | None = None
    ) -> SpanCost:
        """Calls and cost only, all traffic and per feature, over [start, end) (the cost
        baseline's spans, ``engine.span_costs``); ``match`` as ``query``'s."""
        with self.lock:
            self.agg.groups.check_window(start, end)
            return self._costs.span(start, end, match.lower() if match else None)

    def series(
        self, start: float, end: float, step: int, by: str = "feature", metric: str = "calls"
    ) -> dict[str, list[float]]:
        """Per-group values in ``step``-second slots over [start, end), for sparklines."""
        with self.lock:
            self.agg.groups.check_window(start, end)
            if metric == "p95":
                self.agg.check_latency_window(start, end)
            if self._series is None:
                from claude_top.engine.series import Series

                self._series = Series(self.agg)
            return self._series.series(start, end, step, by, metric)

    def traffic(
        self,
        start: float,
        end: float,
        step: int,
        feature: str | None = None,
        match: str | None = None,
    ) -> list[tuple[float, SlotStats]]:
        """Calls, errors, cost and p95 per ``step`` slot over [start, end), for the charts;
        ``match``: only rows whose feature or model contains it (as ``query``)."""
        with self.lock:
            self.agg.groups.check_window(start, end)
            self.agg.check_latency_window(start, end)  # each slot's p95
            if self._traffic is None:
                from claude_top.engine.series import TrafficSeries

                self._traffic = TrafficSeries(self.agg)
            return self._traffic.traffic(start, end, step, feature, match)

    def users_matching(self, now: float, needle: str) -> list[str]:
        """Today's users (the local day holding ``now``) whose id contains ``needle``."""
        low = needle.lower()
        with self.lock:
            day = self.day_start(now)
            run = self.agg.running
            if run is None or run.start != day:
                run = self.agg.running = self._build_running(day)
            return sorted(u for u in run.users if low in u.lower())

    def top_users(
        self, now: float, n: int, by: str = "tokens", match: str | None = None
    ) -> list[GroupStats]:
        """The ``n`` heaviest users of the local day holding ``now``, by tokens or cost.

        Kept as running per-user totals of that day, updated by ingest, so a refresh sorts
        users instead of merging every (user, feature, model) row of the day again.
        """
        with self.lock:
            day = self.day_start(now)
            run = self.agg.running
            if run is None or run.start != day:
                run = self.agg.running = self._build_running(day)
            if match:
                # A filter may name a feature or model: per-user running totals do not know
                # them, so ask the day's (user, feature, model) rows instead.
                summary = self._windows.summary(USERS_BY_USER, day, now, match, None)
                stats = list(summary.groups.values())

                def rank(g: GroupStats) -> tuple[float, str]:
                    return (-(g.cost_usd if by == "cost" else g.total_tokens), g.name)

                return heapq.nsmallest(n, stats, key=rank)
            # The running totals change only by ingest (which bumps ``version``) or with the
            # day: an idle screen asks the same again at every rebuild (10,000 users sorted).
            key = (self.version, day, n, by)
            if self._top is not None and self._top[0] == key and self._top[1] is run:
                return list(self._top[2])
            slot = R_COST if by == "cost" else R_TOKENS
            top = heapq.nsmallest(n, run.users.items(), key=lambda kv: (-kv[1][slot], kv[0]))
            answer = [running_stats(u, r) for u, r in top]
            self._top = (key, run, answer)
            return list(answer)

    def _build_running(self, day: int) -> RunningDay:
        end = self.day_start(day + 30 * HOUR)
        self.agg.users.check_window(day, end)
        run = RunningDay(day, end, self.prices)
        for bstart, bucket in self.agg.users.buckets_in(day, end):
            for key, row, cost in bucket_costs(self.prices, USERS_BY_USER, bstart, bucket):
                run.add_row(key[0], row, cost, key[2])
        return run

    def streaming(
        self, start: float | None = None, end: float | None = None, by: str = "feature"
    ) -> tuple[StreamStats, dict[str, StreamStats]]:
        """Streamed calls' TTFT and output tokens/s over [start, end): the total and per
        feature (or model), as HDR histograms (``engine.streaming``)."""
        with self.lock:
            self.agg.streams.check_window(start, end)
            return streaming.query(self.agg.streams, start, end, by)

    def app_costs(
        self, start: float | None = None, end: float | None = None, by: str = "model"
    ) -> tuple[AppCost, dict[str, AppCost]]:
        """The app's own logged cost against ours over the same calls, per model (or feature)."""
        with self.lock:
            self.agg.app_costs.check_window(start, end)
            return app_cost.query(self.agg.app_costs, self.prices, start, end, by)

    def server_tools(
        self, start: float | None = None, end: float | None = None, by: str = "model"
    ) -> tuple[ToolUse, dict[str, ToolUse]]:
        """Server tool requests (web searches, fetches) and their priced cost, per model (or
        feature) over [start, end) (``engine.server_tools``)."""
        with self.lock:
            self.agg.tools.check_window(start, end)
            return server_tools.query(self.agg.tools, self.prices, start, end, by)

    def cost_between(self, start: float, end: float) -> float:
        return self.total(start, end).cost_usd

    def events_429(self, start: float | None = None, end: float | None = None) -> list[Record]:
        with self.lock:
            return [
                r
                for r in self.agg.rate_limit_events
                if (start is None or r.ts >= start) and (end is None or r.ts < end)
            ]

    def errors_of(self, feature: str) -> list[Record]:
        with self.lock:
            return list(self.agg.recent_errors.get(feature, ()))

    def memory_rows(self) -> int:
        with self.lock:
            return self.agg.groups.row_count() + self.agg.users.row_count()
