"""The engine into its state file, a little at a time: only what changed since the last commit.

Rewriting a state of a week of buckets at every commit would cost a live session far more than
the 1% of a core it may take, so the writer keeps, per bucket it has written, the bucket object
and what it wrote, and each commit writes the difference. Two kinds of rows, two rules:

* **Group rows** (``calls`` and their histograms) mirror the engine's buckets: a row whose call
  count moved is written whole (every call adds one, so an unchanged count is an unchanged
  row), a bucket the engine moved to a coarser tier is deleted and its destination rewritten.
  Each row is written with its cost as the folds price it, at the engine's price table; a
  commit under another table than the file's prices every row first (``rewrite.costs``), so
  SQL can sum a week's costs (``state.older``).
* **User rows** are kept per day in the state for as long as it keeps anything, while the
  engine folds days older than two into one archive bucket. So they are written as deltas
  added to what the state holds: a late call for an archived day lands in a fresh day bucket in
  memory, and its delta adds to the day's row instead of overwriting it.

Compaction folds user days into one archive bucket, after which their own changes can no longer
be told. So the engine calls ``before_compact`` just before it compacts: when a day may move, the
user rows' changes are taken into memory (no SQL). ``commit`` captures the rest and writes
everything captured in one transaction together with the read positions, the line health,
the events and the rate-limit tracker's seconds (``rates``), which is what makes a ``kill -9``
at any moment harmless. Captures run under the engine's lock; the SQL runs outside it.

It sits over the ~400 lines we aim for: capturing a change and writing it are one invariant
(what the file holds), kept in one class; what a commit rewrites whole is in ``rewrite``.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

import orjson
from msgspec import Struct, field

from claude_top.core.record import Record
from claude_top.engine import store as B
from claude_top.engine.engine import Engine
from claude_top.engine.window_cache import GROUPS_BY_FEATURE, row_units
from claude_top.sources.resume import Position
from claude_top.state import rates, rewrite, side
from claude_top.state.changes import changed_buckets
from claude_top.state.db import StateError
from claude_top.state.hdr import Codec
from claude_top.state.load import group_rows
from claude_top.state.schema import CALL_COUNTERS, LATENCY, PRICES_KEY, USER_COUNTERS

DAY_S = 86400
DAY_SPAN = 25 * 3600
"""The longest a calendar day can be: ``TieredStore.compact`` moves a day once its start is
this far past the tier's ``keep``."""
PRUNE_EVERY_S = 3600.0
Key = tuple[Any, ...]
GroupCopy = tuple[list[int], dict[int, int], dict[str, int] | None]


class Captured(Struct):
    """Changes taken from the engine and not yet committed."""

    groups: dict[tuple[int, int], dict[Key, GroupCopy]] = field(default_factory=dict)
    """(width, start) -> key -> the row's counters, histogram and error types."""
    dropped: set[tuple[int, int]] = field(default_factory=set)
    """Group buckets to delete before the rows above are written."""
    users: dict[tuple[int, Key], list[int]] = field(default_factory=dict)
    """(day, key) -> counters to add."""


def _insert_calls() -> str:
    cols = ", ".join(CALL_COUNTERS)
    marks = ", ".join("?" * (len(CALL_COUNTERS) + 7))
    return (
        f"INSERT OR REPLACE INTO calls (start, width, feature, model, variant, {cols}, "
        f"errors_by_type, cost) VALUES ({marks})"
    )


def _upsert_users() -> str:
    cols = ", ".join(USER_COUNTERS)
    marks = ", ".join("?" * (len(USER_COUNTERS) + 5))
    adds = ", ".join(f"{c} = {c} + excluded.{c}" for c in USER_COUNTERS)
    return (
        f"INSERT INTO users (day, user, feature, model, variant, {cols}) VALUES ({marks}) "
        f"ON CONFLICT (day, user, feature, model, variant) DO UPDATE SET {adds}"
    )


INSERT_CALLS = _insert_calls()
UPSERT_USERS = _upsert_users()
INSERT_HIST = (
    "INSERT OR REPLACE INTO histograms (start, width, feature, model, variant, kind, hdr) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)


class Writer:
    """Writes one engine's changes to one state database."""

    def __init__(self, conn: sqlite3.Connection, engine: Engine, retention_days: float) -> None:
        self.conn = conn
        self.engine = engine
        self.retention_s = retention_days * DAY_S
        self._codec = Codec()
        self._groups: dict[tuple[int, int], tuple[B.Bucket, dict[Key, int]]] = {}
        self._users: dict[int, tuple[B.Bucket, dict[Key, tuple[int, ...]]]] = {}
        self._g_mark = (-1, -1)
        self._u_mark = (-1, -1)
        self._pending = Captured()
        self._events_mark: tuple[Any, ...] = ()
        self.events_loaded = True
        """False: the file's events were not loaded, new ones are added (``rewrite``)."""
        self._events_written: dict[str, Record] = {}
        self._pruned_at = -PRUNE_EVERY_S
        self.hist_done: set[tuple[int, int]] = set()
        self.hists_from: float | None = None
        """Buckets before this were loaded without their histograms (``Horizon.hists_from``)."""
        self.unloaded: set[tuple[int, int]] = set()
        """Group buckets (width, start) in the file but not in memory (older than the command
        needed): merged in from the file before the engine's own rows for them are written."""
        self.sides = [side.SideWriter(sd, engine, conn, Codec()) for sd in side.SIDES]
        """The streamed-call and app-cost stores, saved as the group rows are."""
        self.rates = rates.RateWriter(engine.headroom)
        """The rate-limit tracker's seconds (``state.rates``), written as the buckets are."""
        self.commits = 0
        self.rows_written = 0
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (PRICES_KEY,)).fetchone()
        self.priced_at: str | None = None if row is None else str(row[0])
        """The price table the file's ``calls.cost`` are at (``schema.PRICES_KEY``)."""

    def adopt(self) -> None:
        """What the engine holds now is what the state holds (just loaded, or both empty)."""
        with self.engine.lock:
            agg = self.engine.agg
            for tier in agg.groups.tiers:
                for start, bucket in tier.buckets.items():
                    calls = {k: r[B.G_CALLS] for k, r in bucket.items()}
                    self._groups[(tier.width, start)] = (bucket, calls)
            day = agg.users.tiers[0]
            for start, bucket in day.buckets.items():
                snap = {k: tuple(r[: B.U_NUMERIC]) for k, r in bucket.items()}
                self._users[start] = (bucket, snap)
            self._g_mark = (agg.groups.version, agg.groups.seq)
            self._u_mark = (agg.users.version, agg.users.seq)
            self._events_mark = self._events_now()
            for sw in self.sides:
                sw.adopt()

    def loaded_days(self, day: int, bucket: B.Bucket, rows: B.Bucket) -> None:
        """``rows``, read from the file, are about to be added to the engine's ``bucket`` of
        ``day`` (under the engine's lock, ``state.later``): the file holds them already, so
        they are added to what the last capture saw, and only the calls read since stay a
        change to write."""
        mine = self._users.get(day)
        if mine is None or mine[0] is not bucket:
            mine = self._users[day] = (bucket, {})  # what it holds is new since the load
        snap = mine[1]
        n_slots = B.U_NUMERIC
        for key, row in rows.items():
            prev = snap.get(key)
            add = tuple(row[:n_slots])
            snap[key] = (
                add if prev is None else tuple(a + b for a, b in zip(prev, add, strict=True))
            )

    # -- capture: under the engine's lock, no SQL ----------------------------------------------

    def capture(self) -> None:
        """Take every change since the last capture (called before each compaction, too)."""
        agg = self.engine.agg
        self._capture_groups(agg.groups)
        self._capture_users(agg.users)
        for sw in self.sides:
            sw.capture()

    def _capture_groups(self, store: B.TieredStore) -> None:
        pend = self._pending
        walk = changed_buckets(
            store, self._g_mark, self._groups, self.unloaded, self._drop, self._fetch
        )
        for k, bucket, calls in walk:
            rows = None
            if (
                self.hists_from is not None
                and k[1] < self.hists_from
                and k not in self.hist_done
                and any(calls.get(key) != row[B.G_CALLS] for key, row in bucket.items())
            ):
                self._fetch_hists(k, bucket)
            for key, row in bucket.items():
                n = row[B.G_CALLS]
                if calls.get(key) != n:
                    calls[key] = n
                    if rows is None:
                        rows = pend.groups.setdefault(k, {})
                    types = row[B.G_ERRTYPES]
                    rows[key] = (
                        row[: B.G_NUMERIC],
                        dict(row[B.G_HIST]),
                        dict(types) if types else None,
                    )
        self._g_mark = (store.version, store.seq)

    def _fetch(self, k: tuple[int, int], bucket: B.Bucket) -> None:
        """Merge the file's rows of a bucket not loaded into the engine's new one, so the
        engine's bucket holds all of it again before it is written over the file's."""
        self.unloaded.discard(k)
        self.hist_done.add(k)
        width, start = k
        where = "c.start = ? AND c.width = ?"
        for _w, _s, key, row in group_rows(self.conn, self._codec, where, (start, width)):
            mine = bucket.get(key)
            if mine is None:
                bucket[key] = row
            else:
                B.merge_group_row(mine, row)

    def _fetch_hists(self, k: tuple[int, int], bucket: B.Bucket) -> None:
        """Merge the file's histograms into a bucket loaded without them, before any of its
        rows is written whole or moved into another (every key in the file was loaded)."""
        self.hist_done.add(k)
        width, start = k
        q = (
            "SELECT feature, model, variant, hdr FROM histograms "
            "WHERE start = ? AND width = ? AND kind = ?"
        )
        for feature, model, variant, hdr in self.conn.execute(q, (start, width, LATENCY)):
            row = bucket.get((feature, model, variant))
            if row is not None:
                B.add_hist(row, self._codec.decode(hdr))

    def before_compact(self, ref: float) -> None:
        """The engine is about to compact at ``ref``: what the move would make untellable is
        taken first, and nothing else.

        Group and side rows need no capture here: the first capture after a compaction walks
        every tier (the store's version moved), so a bucket that moved is dropped from the file
        and the rows it was merged into, whose call counts moved, are rewritten whole. User rows
        are written as deltas per day, and a day folded into the archive can no longer be told
        apart: they are captured when a day may move. (Capturing everything before each
        compaction walked every row of every tier about fifty times in a cold load of a million
        lines, a third of the load's time.) Buckets loaded without their histograms that may
        move are made whole first, so no merge leaves their histograms behind in the file.
        """
        agg = self.engine.agg
        fine = agg.groups.tiers[0]
        if (
            self.hists_from is not None
            and fine.buckets
            and agg.groups.moves(min(fine.buckets), ref)
        ):
            limit = ref - fine.keep  # as ``TieredStore.compact`` decides what moves
            for start, bucket in fine.buckets.items():
                k = (fine.width, start)
                movable = start < self.hists_from and start + fine.width <= limit
                if movable and k not in self.hist_done:
                    self._fetch_hists(k, bucket)
        days = agg.users.tiers[0].buckets
        if days and min(days) + DAY_SPAN <= ref - agg.users.tiers[0].keep:
            self._capture_users(agg.users)  # a day may move: as ``TieredStore.compact`` decides

    def _drop(self, k: tuple[int, int]) -> None:
        self._pending.groups.pop(k, None)
        self._pending.dropped.add(k)

    def _capture_users(self, store: B.TieredStore) -> None:
        version, seq = self._u_mark
        full = store.version != version
        oldest = float("-inf") if full else store.oldest_touch_since(seq)
        known = self._users
        pend = self._pending.users
        n_slots = B.U_NUMERIC
        day_tier = store.tiers[0]
        for day, bucket in day_tier.buckets.items():
            if day < oldest:
                continue
            mine = known.get(day)
            if mine is None or mine[0] is not bucket:
                mine = known[day] = (bucket, {})
            snap = mine[1]
            for key, row in bucket.items():
                prev = snap.get(key)
                if prev is not None and prev[0] == row[B.U_CALLS]:
                    continue
                now = tuple(row[:n_slots])
                snap[key] = now
                delta = (
                    list(now) if prev is None else [a - b for a, b in zip(now, prev, strict=True)]
                )
                acc = pend.get((day, key))
                if acc is None:
                    pend[(day, key)] = delta
                else:
                    for i, d in enumerate(delta):
                        acc[i] += d
        if full:
            for day in [d for d, (b, _) in known.items() if day_tier.buckets.get(d) is not b]:
                del known[day]
        self._u_mark = (store.version, store.seq)

    def _events_now(self) -> tuple[Any, ...]:
        agg = self.engine.agg
        marks: list[Any] = [
            len(agg.rate_limit_events),
            id(agg.rate_limit_events[-1]) if agg.rate_limit_events else 0,
        ]
        for feature, q in sorted(agg.recent_errors.items()):
            marks.append((feature, len(q), id(q[-1]) if q else 0))
        return tuple(marks)

    # -- commit: one transaction ---------------------------------------------------------------

    def commit(self, positions: list[Position]) -> None:
        """Write every change, ``positions`` (how far each file's lines are in it) and the
        line health, atomically. Raises ``StateError`` if the database fails."""
        engine = self.engine
        with engine.lock:
            self.capture()
            pending, self._pending = self._pending, Captured()
            sides = [sw.take() for sw in self.sides]
            agg = engine.agg
            lines = agg.lines.copy()
            meta = {
                "newest_ts": agg.newest_ts,
                "oldest_ts": agg.oldest_ts,
                "out_of_window": agg.out_of_window,
                "formats": orjson.dumps(lines.formats).decode(),
                "format_detected": int(lines.format_detected),
            }
            events_mark = self._events_now()
            events = None
            if events_mark != self._events_mark:
                events = (
                    list(agg.rate_limit_events),
                    {f: list(q) for f, q in agg.recent_errors.items()},
                )
            now = engine.clock.now()
            ref = min(now, agg.newest_ts or float("inf"))
            secs = self.rates.take(now)
            meta.update(secs.meta)
        try:
            self._write(pending, sides, positions, lines, meta, events, ref, secs)
        except sqlite3.Error as e:
            self._pending = pending  # not written: kept for a later try
            for sw, taken in zip(self.sides, sides, strict=True):
                sw.restore(taken)
            raise StateError(f"cannot be written ({e})") from None
        self._events_mark = events_mark
        self.rates.done(secs)
        self.commits += 1

    def _write(
        self,
        pending: Captured,
        sides: list[Any],
        positions: list[Position],
        lines: Any,
        meta: dict[str, Any],
        events: tuple[list[Record], dict[str, list[Record]]] | None,
        ref: float,
        secs: rates.Taken,
    ) -> None:
        conn = self.conn
        encode = self._codec.encode
        prices = self.engine.prices
        digest = prices.digest()
        conn.execute("BEGIN IMMEDIATE")
        try:
            if digest != self.priced_at:
                rewrite.costs(conn, prices)
                meta[PRICES_KEY] = digest
            for width, start in pending.dropped:
                conn.execute("DELETE FROM calls WHERE start = ? AND width = ?", (start, width))
                conn.execute("DELETE FROM histograms WHERE start = ? AND width = ?", (start, width))
            calls = []
            hists = []
            for (width, start), rows in pending.groups.items():
                for key, (nums, hist, types) in rows.items():
                    cost = row_units(prices, GROUPS_BY_FEATURE, start, key, nums)
                    calls.append((start, width, *key, *nums, _json(types), cost))
                    if hist:
                        hists.append((start, width, *key, LATENCY, encode(hist)))
            conn.executemany(INSERT_CALLS, calls)
            rewrite.forget_hours(
                conn, {s for _, s in pending.dropped} | {s for _, s in pending.groups}
            )
            conn.executemany(INSERT_HIST, hists)
            users = [(day, *key, *delta) for (day, key), delta in pending.users.items()]
            conn.executemany(UPSERT_USERS, users)
            self.rows_written += len(calls) + len(users)
            for sw, taken in zip(self.sides, sides, strict=True):
                self.rows_written += sw.write(taken)
            self.rows_written += self.rates.write(conn, secs)
            rewrite.line_health(conn, lines)
            conn.executemany(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                [
                    (k, v if isinstance(v, str) else repr(v))
                    for k, v in meta.items()
                    if v is not None
                ],
            )
            written = None
            if events is not None and self.events_loaded:
                rewrite.events(conn, *events)
            elif events:
                written = rewrite.add_events(conn, *events, self._events_written)
            rewrite.positions(conn, positions)
            mono = time.monotonic()
            if mono - self._pruned_at >= PRUNE_EVERY_S and ref != float("inf"):
                self._prune(ref - self.retention_s)
                self._pruned_at = mono
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        self.priced_at = digest
        if written is not None:
            self._events_written = written

    def _prune(self, cutoff: float) -> None:
        """Drop what is older than the retention (relative to the newest call, so replaying an
        old log does not prune it away), and files not seen for as long."""
        conn = self.conn
        c = int(cutoff)
        conn.execute("DELETE FROM calls WHERE start < ? AND width > 0", (c,))
        rewrite.forget_hours(conn, None, before=c)
        conn.execute("DELETE FROM histograms WHERE start < ? AND width > 0", (c,))
        conn.execute("DELETE FROM users WHERE day < ?", (c - DAY_S,))
        for sw in self.sides:
            sw.prune(c)
        self.rates.prune(conn, c)
        conn.execute("DELETE FROM sources WHERE seen < ?", (time.time() - self.retention_s,))


def _json(types: dict[str, int] | None) -> str | None:
    return orjson.dumps(types).decode() if types else None
