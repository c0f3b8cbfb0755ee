"""Rate-limit headroom: how close the last minute ran to the API's limits, and who used it.

The API limits an organization per *model class* in three dimensions -- requests (RPM), input
tokens (ITPM) and output tokens (OTPM) per minute -- and every user of the app shares them, so
one user's batch job can starve everyone. The engine's minute buckets answer "how much today";
they cannot say "how much in the 60 seconds that end now", nor who made that minute, without
scanning per-user rows at a coarse hour. This module keeps the last few minutes at one-second
resolution, per model class, feature and user, and answers exactly that.

It is live-only on purpose: the engine feeds it records from the last ``HORIZON_S`` seconds of
its clock (history is older and skipped at the cost of one comparison per line). Limits come
from the config (``[limits.<class>] rpm/itpm/otpm``) or, when the log carries them, from the
newest ``ratelimit_*_limit`` header values the ``instrument`` wrapper logs; the config wins,
because it is what the operator says the limits are (headers can lag a limit change, and a log
from a shared key may carry another workspace's values).

For every burst of 429s the tracker also keeps who drove the minute before it -- computed when
the burst's first 429 arrives, because that is the moment the minute is still in memory.
"""

from __future__ import annotations

import heapq
import math
import re
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from claude_top.core.errors import HeadroomConfigError
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

HORIZON_S = 180.0
"""Records older than this (relative to the clock) are not tracked: the engine skips them."""
KEEP_S = 180
"""Seconds kept: the 60 s window, the minute before a 429 burst, and slack for late lines."""
FUTURE_S = 60.0
"""Records this far past the clock are clock skew, still kept; further ones are ignored."""
WINDOW_S = 60.0
BURST_GAP_S = 60.0
"""429s of one model class closer than this to the previous one belong to the same burst."""
BURSTS_KEPT = 100
DIMENSIONS = ("rpm", "itpm", "otpm")
DIM_LABELS = {"rpm": "RPM", "itpm": "ITPM", "otpm": "OTPM"}
RESERVED_KEYS = ("itpm_counts_cache_reads", "classes")
"""Keys of ``[limits]`` that are settings, not model classes."""

_FAMILY = re.compile(
    r"(?:^|[./:_-])claude-(?:(?P<old>\d+)(?:[-.]\d+)?-)?(?P<family>opus|sonnet|haiku)"
    r"(?:-(?P<major>\d{1,2})(?!\d))?"
)
"""``claude-sonnet-4-5-20250929`` (new names), ``claude-3-5-haiku-20241022`` (old names), also
inside Bedrock / Vertex ids (``anthropic.claude-sonnet-4-5-20250929-v1:0``)."""


def default_model_class(model: str) -> str:
    """The family and major version: ``claude-sonnet-4-6`` and ``claude-sonnet-4-5-20250929``
    are both ``sonnet-4``, ``claude-haiku-4-5`` is ``haiku-4``, ``claude-opus-4-1`` ``opus-4``.

    Why the major version only: the API's published limits are per family and major version
    ("Sonnet 4.x", "Opus 4.x" share one bucket across their minor versions). Where that is not
    so (Haiku 3 and Haiku 3.5 have separate limits; both map to ``haiku-3`` here), the config's
    ``[limits.classes]`` maps model-id prefixes to classes. An id without a known family is its
    own class.
    """
    m = _FAMILY.search(model.lower())
    if m is None:
        return model
    major = m.group("major") or m.group("old")
    return f"{m.group('family')}-{major}" if major else m.group("family")


@dataclass(frozen=True, slots=True)
class ClassLimits:
    """Per-minute limits of one model class; None where not configured."""

    rpm: int | None = None
    itpm: int | None = None
    otpm: int | None = None

    def get(self, dim: str) -> int | None:
        value: int | None = getattr(self, dim)
        return value


@dataclass(frozen=True)
class HeadroomConfig:
    """The ``[limits]`` table, validated."""

    limits: Mapping[str, ClassLimits] = field(default_factory=dict)
    classes: tuple[tuple[str, str], ...] = ()
    """(model-id prefix, class), longest prefix first: overrides ``default_model_class``."""
    itpm_counts_cache_reads: bool = False
    """Current models do not count cache reads toward ITPM (older ones did): set true for those."""

    @classmethod
    def from_raw(cls, raw: Mapping[str, Any]) -> HeadroomConfig:
        """Validate ``[limits]``: ``itpm_counts_cache_reads``, ``[limits.classes]`` and one
        ``[limits.<class>]`` table of positive integers ``rpm``/``itpm``/``otpm`` per class."""
        if not isinstance(raw, Mapping):
            raise HeadroomConfigError("limits: must be a table ([limits.sonnet-4] ...)")
        counts = raw.get("itpm_counts_cache_reads", False)
        if not isinstance(counts, bool):
            raise HeadroomConfigError("limits.itpm_counts_cache_reads: must be true or false")
        prefixes: list[tuple[str, str]] = []
        table = raw.get("classes", {})
        if not isinstance(table, Mapping):
            raise HeadroomConfigError(
                'limits.classes: must be a table of model-id prefix = "class"'
            )
        for prefix, name in table.items():
            if not isinstance(name, str) or not name:
                raise HeadroomConfigError(f"limits.classes.{prefix}: must be a class name")
            prefixes.append((str(prefix).lower(), name))
        prefixes.sort(key=lambda p: -len(p[0]))
        limits: dict[str, ClassLimits] = {}
        for name, spec in raw.items():
            if name in RESERVED_KEYS:
                continue
            where = f"limits.{name}"
            if not isinstance(spec, Mapping):
                raise HeadroomConfigError(
                    f"{where}: must be a table like {{ rpm = 50, itpm = 30000, otpm = 8000 }}"
                )
            values: dict[str, int] = {}
            for key, v in spec.items():
                if key not in DIMENSIONS:
                    raise HeadroomConfigError(
                        f"{where}.{key}: unknown key (expected one of: {', '.join(DIMENSIONS)})"
                    )
                if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
                    raise HeadroomConfigError(f"{where}.{key}: must be a positive integer")
                values[key] = v
            limits[str(name)] = ClassLimits(**values)
        return cls(limits, tuple(prefixes), counts)

    def model_class(self, model: str) -> str:
        low = model.lower()
        for prefix, name in self.classes:
            if low.startswith(prefix):
                return name
        return default_model_class(model)


# -- what a snapshot says ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Dimension:
    """One dimension (rpm, itpm or otpm) of one model class over the window."""

    name: str
    used: int
    """Per minute: requests or tokens over the window, scaled to 60 s."""
    limit: int | None
    source: str | None
    """Where ``limit`` came from: "config", "headers", or None (unknown)."""
    remaining: int | None = None
    """The newest ``remaining`` header value of this dimension, if the log carries it."""

    @property
    def ratio(self) -> float | None:
        """Used / limit (1.0 = at the limit), or None without a limit."""
        return None if not self.limit else self.used / self.limit


@dataclass(frozen=True, slots=True)
class ClassHeadroom:
    model_class: str
    models: tuple[str, ...]
    """Model ids of this class seen in the window."""
    rpm: Dimension
    itpm: Dimension
    otpm: Dimension

    @property
    def dimensions(self) -> tuple[Dimension, Dimension, Dimension]:
        return (self.rpm, self.itpm, self.otpm)

    @property
    def worst(self) -> Dimension | None:
        """The dimension closest to (or furthest past) its limit; None without any limit."""
        known = [d for d in self.dimensions if d.ratio is not None]
        return max(known, key=lambda d: d.ratio or 0.0) if known else None


@dataclass(frozen=True, slots=True)
class Share:
    """One user or feature's part of the ITPM tokens (and requests) of a window."""

    name: str
    tokens: int
    share: float
    """Of all ITPM tokens of the window, 0..1."""
    requests: int


@dataclass(frozen=True, slots=True)
class HeadroomSnapshot:
    start: float
    end: float
    requests: int
    itpm_tokens: int
    otpm_tokens: int
    classes: tuple[ClassHeadroom, ...]
    top_users: tuple[Share, ...]
    top_features: tuple[Share, ...]
    cache_reads_counted: bool

    @property
    def limits_known(self) -> bool:
        return any(d.limit for c in self.classes for d in c.dimensions)


@dataclass(frozen=True, slots=True)
class Burst:
    """Consecutive 429s of one model class, and who drove the minute before the first one."""

    model_class: str
    start: float
    end: float
    """Time of the newest 429 of the burst."""
    count: int
    features: tuple[tuple[str, int], ...]
    """Features that got the 429s, with counts, most first."""
    users: tuple[Share, ...] | None
    """Top users of the class by ITPM tokens in the minute before; None: not tracked (the burst
    is older than the tracker's memory was when it was read)."""
    drivers: tuple[Share, ...] | None
    """Top features, likewise."""
    partial: bool = False
    """The tracker saw only part of the minute before (it started during it)."""


# -- the tracker -------------------------------------------------------------------------------

_REQ, _ITPM, _OTPM = 0, 1, 2


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
        self.bursts: deque[Burst] = deque(maxlen=BURSTS_KEPT)
        self._open: dict[str, Burst] = {}
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
        cur = self._open.get(cls)
        if cur is not None and cur.start - BURST_GAP_S <= r.ts <= cur.end + BURST_GAP_S:
            feats = dict(cur.features)
            feats[r.feature] = feats.get(r.feature, 0) + 1
            new = replace(
                cur,
                start=min(cur.start, r.ts),
                end=max(cur.end, r.ts),
                count=cur.count + 1,
                features=_ranked(feats),
            )
            for i in range(len(self.bursts) - 1, -1, -1):
                if self.bursts[i] is cur:
                    self.bursts[i] = new
                    break
            self._open[cls] = new
            return
        users = drivers = None
        partial = False
        if tracked is not None:
            users, drivers = self._drivers(cls, r.ts - WINDOW_S, r.ts)
            partial = self._covered_from is not None and r.ts - WINDOW_S < self._covered_from
        b = Burst(cls, r.ts, r.ts, 1, ((r.feature, 1),), users, drivers, partial)
        self.bursts.append(b)
        self._open[cls] = b

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
        return _top(users, top), _top(feats, top)

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
            top_users=_top(users, top),
            top_features=_top(feats, top),
            cache_reads_counted=self.config.itpm_counts_cache_reads,
        )

    def bursts_between(self, start: float, end: float) -> list[Burst]:
        """Bursts whose newest 429 lies in [start, end), newest first."""
        return [b for b in reversed(self.bursts) if start <= b.end < end]


def _acc(dst: dict[str, list[int]], name: str, row: list[int]) -> None:
    acc = dst.get(name)
    if acc is None:
        dst[name] = [row[0], row[1]]
    else:
        acc[0] += row[0]
        acc[1] += row[1]


def _top(table: Mapping[str, list[int]], n: int) -> tuple[Share, ...]:
    """The ``n`` largest by ITPM tokens (then requests), with their share of the whole table."""
    total = sum(r[1] for r in table.values())
    ranked = heapq.nsmallest(n, table.items(), key=lambda kv: (-kv[1][1], -kv[1][0], kv[0]))
    return tuple(
        Share(name, r[1], r[1] / total if total else 0.0, r[0])
        for name, r in ranked
        if r[1] > 0 or total == 0
    )


def _ranked(counts: Mapping[str, int]) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
