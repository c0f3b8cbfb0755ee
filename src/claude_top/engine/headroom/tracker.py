"""The per-second tracker: the last few minutes of calls, per model class, feature and user.

The engine's minute buckets answer "how much today"; they cannot say "how much in the 60
seconds that end now", nor who made that minute, without scanning per-user rows at a coarse
hour. This module keeps the last ``KEEP_S`` seconds at one-second resolution, the newest limits
and remaining counts the response headers carried, and answers with a ``HeadroomSnapshot``;
each 429 it is fed opens or extends a burst in its ``BurstLog``.

It is live-only on purpose: the engine feeds it records from the last ``HORIZON_S`` seconds of
its clock (history is older and skipped at the cost of one comparison per line). Limits come
from the config or, when the log carries them, from the newest ``ratelimit_*_limit`` header
values the ``instrument`` wrapper logs; the config wins, because it is what the operator says
the limits are (headers can lag a limit change, and a log from a shared key may carry another
workspace's values).

A state file keeps the seconds and the header values (``state.rates``: ``second_rows``,
``restore``) and the 429 bursts (``state.bursts``, through ``burst_log``), so a process that
resumes from it holds what a read of the whole log would.

Over 400 lines: that state interface (``second_calls``, ``second_rows``, ``header_values``,
``restore``, ``forget``) reads and rebuilds the tracker's private per-second structures, so it
is kept with them rather than in a module that would reach into them.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from claude_top.core.record import (
    CACHE_READ,
    CACHE_W1H,
    CACHE_W5,
    FEATURE,
    INPUT,
    MODEL,
    OUTPUT,
    RL_IN,
    RL_IN_LIMIT,
    RL_OUT,
    RL_OUT_LIMIT,
    RL_REQ,
    RL_REQ_LIMIT,
    STATUS,
    TS,
    USER,
    Record,
    as_named,
)
from claude_top.engine.headroom.bursts import Burst, BurstLog
from claude_top.engine.headroom.config import DIMENSIONS, HeadroomConfig
from claude_top.engine.headroom.snapshot import (
    ClassHeadroom,
    Dimension,
    HeadroomSnapshot,
    Share,
    top_shares,
)

HORIZON_S = 180.0
"""Records older than this (relative to the clock) are not tracked: the engine skips them."""
KEEP_S = 180
"""Seconds kept: the 60 s window, the minute before a 429 burst, and slack for late lines."""
FUTURE_S = 60.0
"""Records this far past the clock are clock skew, still kept; further ones are ignored."""
WINDOW_S = 60.0

_REQ, _ITPM, _OTPM = 0, 1, 2
SecondRow = tuple[str, str, str, int, int, int]
"""A saved second's row: kind (class, user, feature, model), class, name, requests, ITPM and
OTPM tokens (``Headroom.second_rows``)."""


class _Second:
    """One second of traffic: per class [requests, itpm, otpm]; per (class, user) and
    (class, feature) [requests, itpm]."""

    __slots__ = ("classes", "features", "models", "users")

    def __init__(self) -> None:
        self.classes: dict[str, list[int]] = {}
        self.users: dict[tuple[str, str], list[int]] = {}
        self.features: dict[tuple[str, str], list[int]] = {}
        self.models: set[tuple[str, str]] = set()


class Headroom:
    """Per-second counters of the last ``KEEP_S`` seconds, header limits, and 429 bursts.

    Not thread-safe by itself: the engine calls it under its lock, and readers take the same
    lock (``with engine.lock: engine.headroom.snapshot(now)``).
    """

    def __init__(self, config: HeadroomConfig | None = None) -> None:
        self.config = config or HeadroomConfig()
        self._seconds: dict[int, _Second] = {}
        self._newest = -1
        self._classes: dict[str, str] = {}
        self._header_limits: dict[tuple[str, str], tuple[float, int]] = {}
        """(class, dim) -> (ts, value) of the newest header limit."""
        self._header_remaining: dict[tuple[str, str], tuple[float, int]] = {}
        self._covered_from: float | None = None
        """The tracker has every fed call from here on (set by the first feed)."""
        self.burst_log = BurstLog()
        """The kept bursts and the open one of each class: what a state saves and restores."""
        self.bursts: deque[Burst] = self.burst_log.kept
        """The newest bursts, oldest first."""
        self._fed = 0
        """Counts feeds, so a snapshot asked twice in one refresh is computed once."""
        self._snap: tuple[tuple[float, float, int, int], HeadroomSnapshot] | None = None

    def model_class(self, model: str) -> str:
        c = self._classes.get(model)
        if c is None:
            if len(self._classes) > 10_000:
                self._classes.clear()
            c = self._classes[model] = self.config.model_class(model)
        return c

    def itpm_tokens(self, inp: int, cache_read: int, cache_write: int) -> int:
        """Input tokens as the ITPM limit counts them: uncached input and cache writes, plus
        cache reads only when configured (older models counted them)."""
        if self.config.itpm_counts_cache_reads:
            return inp + cache_write + cache_read
        return inp + cache_write

    # -- feeding -----------------------------------------------------------------------------

    def _cover(self, now: float) -> None:
        if self._covered_from is None:
            self._covered_from = now - KEEP_S

    def add_call(
        self,
        ts: float,
        user: str,
        feature: str,
        model: str,
        inp: int,
        out: int,
        cache_read: int,
        cache_write: int,
        now: float,
    ) -> bool:
        """Count one call at ``ts``; False when it is outside what the tracker keeps."""
        self._fed += 1
        self._cover(now)
        if not now - KEEP_S <= ts <= now + FUTURE_S:
            return False
        sec = math.floor(ts)
        b = self._seconds.get(sec)
        if b is None:
            b = self._seconds[sec] = _Second()
            if sec > self._newest:
                self._newest = sec
                self._prune(min(sec, int(now)) - KEEP_S)
        cls = self.model_class(model)
        itpm = self.itpm_tokens(inp, cache_read, cache_write)
        row = b.classes.get(cls)
        if row is None:
            row = b.classes[cls] = [0, 0, 0]
        row[_REQ] += 1
        row[_ITPM] += itpm
        row[_OTPM] += out
        for table, key in ((b.users, (cls, user)), (b.features, (cls, feature))):
            r = table.get(key)
            if r is None:
                r = table[key] = [0, 0]
            r[0] += 1
            r[1] += itpm
        b.models.add((cls, model))
        return True

    def add_fast(self, records: Iterable[Sequence[Any]], now: float) -> None:
        """Records from the engine's accumulate step, ``Record`` or a plain tuple in its layout:
        header limits whatever a record's age, the call itself when it is recent, and each 429
        opens or extends a burst."""
        self._fed += 1
        self._cover(now)
        horizon = now - HORIZON_S
        for r in records:
            self._note_headers(r)
            ts = r[TS]
            if ts < horizon:
                if r[STATUS] == 429:
                    self._burst(as_named(r), None)
                continue
            tracked = self.add_call(
                ts, r[USER], r[FEATURE], r[MODEL], r[INPUT], r[OUTPUT], r[CACHE_READ],
                r[CACHE_W5] + r[CACHE_W1H], now,
            )  # fmt: skip
            if r[STATUS] == 429:
                self._burst(as_named(r), tracked)

    def offer(self, r: Record, now: float) -> None:
        """One record, as ``add_fast`` takes them."""
        self.add_fast((r,), now)

    def note_headers(self, r: Record) -> None:
        """Take the rate-limit limits and remaining values a logged response carried."""
        self._fed += 1
        self._note_headers(r)

    def _note_headers(self, r: Sequence[Any]) -> None:
        pairs = (
            ("rpm", r[RL_REQ_LIMIT], r[RL_REQ]),
            ("itpm", r[RL_IN_LIMIT], r[RL_IN]),
            ("otpm", r[RL_OUT_LIMIT], r[RL_OUT]),
        )
        if all(lim is None and rem is None for _, lim, rem in pairs):
            return
        cls = self.model_class(r[MODEL])
        ts = r[TS]
        for dim, lim, rem in pairs:
            for store, value in ((self._header_limits, lim), (self._header_remaining, rem)):
                if value is None:
                    continue
                old = store.get((cls, dim))
                if old is None or ts >= old[0]:
                    store[(cls, dim)] = (ts, value)

    def _prune(self, before: int) -> None:
        for sec in [s for s in self._seconds if s < before]:
            del self._seconds[sec]

    def _burst(self, r: Record, tracked: bool | None) -> None:
        cls = self.model_class(r.model)
        if self.burst_log.extend(cls, r.ts, r.feature):
            return
        users = drivers = None
        partial = False
        if tracked is not None:
            users, drivers = self._drivers(cls, r.ts - WINDOW_S, r.ts)
            partial = self._covered_from is not None and r.ts - WINDOW_S < self._covered_from
        self.burst_log.open(Burst(cls, r.ts, r.ts, 1, ((r.feature, 1),), users, drivers, partial))

    def _drivers(
        self, cls: str, start: float, end: float, top: int = 3
    ) -> tuple[tuple[Share, ...], tuple[Share, ...]]:
        users: dict[str, list[int]] = {}
        feats: dict[str, list[int]] = {}
        for b in self._window(start, end):
            for src, dst in ((b.users, users), (b.features, feats)):
                for (c, name), row in src.items():
                    if c == cls:
                        _acc(dst, name, row)
        return top_shares(users, top), top_shares(feats, top)

    # -- reading -----------------------------------------------------------------------------

    def _window(self, start: float, end: float) -> list[_Second]:
        """The seconds whose start lies in [start, end): the partial second at ``end`` counts,
        the one cut at ``start`` does not (so a 60 s window is 60 buckets)."""
        lo, hi = math.ceil(start), math.ceil(end)
        return [b for s, b in self._seconds.items() if lo <= s < hi]

    def limit(self, cls: str, dim: str) -> tuple[int | None, str | None]:
        """The limit of one class and dimension and its source; the config wins."""
        cfg = self.config.limits.get(cls)
        if cfg is not None and cfg.get(dim) is not None:
            return cfg.get(dim), "config"
        h = self._header_limits.get((cls, dim))
        if h is not None:
            return h[1], "headers"
        return None, None

    def snapshot(
        self, now: float, span: float = WINDOW_S, top: int = 5, *, max_age: float = 0.0
    ) -> HeadroomSnapshot:
        """Rates over [now - span, now), scaled to per minute, per class with their limits;
        top users and features by share of ITPM tokens.

        With ``max_age`` a view refreshing several times a second may get the snapshot it got
        less than that many seconds of view time ago: over thousands of users, merging the
        last minute's per-second rows costs more than the rest of a refresh.
        """
        span = max(1.0, min(float(span), float(KEEP_S)))
        key = (now, span, top, self._fed)
        if self._snap is not None:
            old, snap = self._snap
            if old == key or (max_age > 0 and old[1:3] == key[1:3] and 0 <= now - old[0] < max_age):
                return snap
        snap = self._snapshot(now, span, top)
        self._snap = (key, snap)
        return snap

    def _snapshot(self, now: float, span: float, top: int) -> HeadroomSnapshot:
        scale = 60.0 / span
        classes: dict[str, list[int]] = {}
        models: dict[str, set[str]] = {}
        users: dict[str, list[int]] = {}
        feats: dict[str, list[int]] = {}
        for b in self._window(now - span, now):
            for cls, row in b.classes.items():
                acc = classes.get(cls)
                if acc is None:
                    acc = classes[cls] = [0, 0, 0]
                acc[0] += row[0]
                acc[1] += row[1]
                acc[2] += row[2]
            for cls, model in b.models:
                models.setdefault(cls, set()).add(model)
            for (_, name), row in b.users.items():
                _acc(users, name, row)
            for (_, name), row in b.features.items():
                _acc(feats, name, row)
        known = set(classes) | set(self.config.limits) | {c for c, _ in self._header_limits}
        out: list[ClassHeadroom] = []
        for cls in sorted(known):
            used = classes.get(cls, [0, 0, 0])
            dims = []
            for i, dim in enumerate(DIMENSIONS):
                lim, src = self.limit(cls, dim)
                rem = self._header_remaining.get((cls, dim))
                dims.append(
                    Dimension(
                        dim, round(used[i] * scale), lim, src, None if rem is None else rem[1]
                    )
                )
            out.append(ClassHeadroom(cls, tuple(sorted(models.get(cls, ()))), *dims))
        total = [sum(c[i] for c in classes.values()) for i in range(3)]
        return HeadroomSnapshot(
            start=now - span,
            end=now,
            requests=round(total[0] * scale),
            itpm_tokens=round(total[1] * scale),
            otpm_tokens=round(total[2] * scale),
            classes=tuple(out),
            top_users=top_shares(users, top),
            top_features=top_shares(feats, top),
            cache_reads_counted=self.config.itpm_counts_cache_reads,
        )

    def bursts_between(self, start: float, end: float) -> list[Burst]:
        """Bursts whose newest 429 lies in [start, end), newest first."""
        return self.burst_log.between(start, end)

    # -- the state file (``state.rates``) ----------------------------------------------------

    def second_calls(self) -> dict[int, int]:
        """Per second held, the calls counted in it: a second whose count did not move since
        the last save is unchanged (every call adds one)."""
        return {s: sum(r[_REQ] for r in b.classes.values()) for s, b in self._seconds.items()}

    def second_rows(self, sec: int) -> Iterator[SecondRow]:
        """One second's counters as rows (kind, class, name, requests, itpm, otpm)."""
        b = self._seconds.get(sec)
        if b is None:
            return
        for cls, row in b.classes.items():
            yield "class", cls, "", row[0], row[1], row[2]
        for kind, table in (("user", b.users), ("feature", b.features)):
            for (cls, name), r in table.items():
                yield kind, cls, name, r[0], r[1], 0
        for cls, model in b.models:
            yield "model", cls, model, 0, 0, 0

    def header_values(self) -> list[tuple[str, str, str, float, int]]:
        """The newest header limits and remaining values: (class, dim, which, ts, value)."""
        return [
            (cls, dim, which, ts, v)
            for which, store in (
                ("limit", self._header_limits),
                ("remaining", self._header_remaining),
            )
            for (cls, dim), (ts, v) in store.items()
        ]

    def restore(
        self,
        rows: Iterable[tuple[int, str, str, str, int, int, int]],
        headers: Iterable[tuple[str, str, str, float, int]],
        now: float,
    ) -> None:
        """Counters and header values saved by an earlier process, into a tracker fed
        nothing yet: seconds the clock has left behind are dropped as the tracker drops
        them, so it holds what a read of the whole log at ``now`` would."""
        lo, hi = int(now) - KEEP_S, now + FUTURE_S
        for sec, kind, cls, name, req, itpm, otpm in rows:
            if not lo <= sec <= hi:
                continue
            b = self._seconds.get(sec)
            if b is None:
                b = self._seconds[sec] = _Second()
                self._newest = max(self._newest, sec)
            if kind == "class":
                b.classes[cls] = [req, itpm, otpm]
            elif kind == "model":
                b.models.add((cls, name))
            else:
                (b.users if kind == "user" else b.features)[(cls, name)] = [req, itpm]
        for cls, dim, which, ts, v in headers:
            store = self._header_limits if which == "limit" else self._header_remaining
            store[(cls, dim)] = (ts, v)
        self._fed += 1

    def forget(self) -> None:
        """Drop what a state's load put in (found unusable halfway through): the seconds, the
        header values and the bursts."""
        self._seconds.clear()
        self._newest = -1
        self._header_limits.clear()
        self._header_remaining.clear()
        self.burst_log.clear()
        self._fed += 1


def _acc(dst: dict[str, list[int]], name: str, row: list[int]) -> None:
    acc = dst.get(name)
    if acc is None:
        dst[name] = [row[0], row[1]]
    else:
        acc[0] += row[0]
        acc[1] += row[1]
