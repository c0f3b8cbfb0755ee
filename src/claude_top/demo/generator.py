"""The seeded generator: a history for the past and a live stream for the present.

One generator serves three uses, so they can never drift apart: ``claude-top demo`` (a history
file, then a live stream while the TUI watches it), the test fixtures, and the benchmark data
(``bench/make_log.py``). Everything is drawn from ``random.Random`` instances seeded from
``DemoConfig.seed``, never from the global RNG or the wall clock, so a seed and a time range
always give the same bytes. This module lays calls out in time; ``calls`` draws each one.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator

import orjson

from claude_top.core.schema import CallLine

from .calls import CallMaker
from .incidents import Incident, IncidentPlan
from .profile import DAY, DemoConfig, Users, diurnal
from .ratelimit import RateLimitMeter

__all__ = ["BUCKET_S", "Generator"]

BUCKET_S = 60.0
"""History is laid out minute by minute: fine enough for a smooth diurnal curve, coarse enough
that the per-bucket bookkeeping costs nothing next to the per-line work."""


class Generator:
    """Seeded source of call-log lines: a history for the past, a live stream for the present.

    The live stream keeps its RNG between calls, so the same sequence of ``live`` calls with the
    same ranges gives the same bytes. The incident schedule depends only on the seed and the
    absolute time, so a restarted demo sees the same incidents at the same wall-clock times.
    """

    def __init__(self, config: DemoConfig) -> None:
        self.config = config
        seed = config.seed
        users = Users(config)
        self.users_by_rank: list[str] = users.by_rank
        self._plan = IncidentPlan(config, users.by_rank)
        self._calls = CallMaker(users)
        self._meter = RateLimitMeter(config.rate)
        self._live_rng = random.Random(f"claude-top/{seed}/live")
        self._record_rng = random.Random(f"claude-top/{seed}/record")

    def incidents(self, start: float, end: float) -> list[Incident]:
        """The live incidents overlapping ``[start, end)``, in time order (a pure function of
        the seed and the time, so tests can query the ranges to check)."""
        return self._plan.live(start, end)

    def history_incidents(self, now: float, total: int | None = None) -> list[Incident]:
        """The past incidents ``history(now, total)`` includes (for tests and the curious)."""
        first = now - max(self.config.history_days, 0) * DAY
        if total is None:
            total = self.config.history_calls_per_day * max(self.config.history_days, 0)
        if now <= first or total <= 0:
            return []
        return self._plan.history(first, now, total / (now - first))

    def history(self, now: float, total: int | None = None) -> Iterator[bytes]:
        """Lines covering ``[now - history_days*86400, now)``, time-ordered.

        ``total`` (default ``history_calls_per_day * history_days``) is exact, past incidents
        included: the benchmark asks for a line count, and tests can rely on it. Traffic grows
        a little day over day and today runs above the trend, so the cost of "today" sits
        somewhat over the 7-day baseline and a live incident tips the cost alert over.
        """
        cfg = self.config
        days = max(cfg.history_days, 0)
        first = now - days * DAY
        if total is None:
            total = cfg.history_calls_per_day * days
        if total <= 0 or now <= first:
            return
        rng = random.Random(f"claude-top/{cfg.seed}/history")
        base_rate = total / (now - first)
        incidents = self._plan.history(first, now, base_rate)
        extra_counts = [round(i.extra_rate * (i.end - i.start)) for i in incidents]
        while sum(extra_counts) > total // 4:  # tiny totals: the incidents must not dominate
            extra_counts = [c // 2 for c in extra_counts]
        base_total = total - sum(extra_counts)
        n_buckets = math.ceil((now - first) / BUCKET_S)
        weights = _bucket_weights(rng, first, now, n_buckets)
        scale = base_total / sum(weights)

        # Incident extras: exact counts, spread uniformly over each incident's range.
        extras: dict[int, list[tuple[float, int]]] = {}
        for idx, (inc, count) in enumerate(zip(incidents, extra_counts, strict=True)):
            for _ in range(count):
                t = rng.uniform(inc.start, inc.end)
                extras.setdefault(int((t - first) // BUCKET_S), []).append((t, idx))

        made = 0
        acc = 0.0
        call = self._calls.call
        dumps = orjson.dumps
        for b in range(n_buckets):
            b0 = first + b * BUCKET_S
            width = min(BUCKET_S, now - b0)
            acc += weights[b] * scale
            n = round(acc) - made if b < n_buckets - 1 else base_total - made
            made += n
            rand = rng.random
            bucket_extras = extras.get(b)
            if bucket_extras is None:
                times = sorted(b0 + rand() * width for _ in range(n))
                for t in times:
                    yield dumps(call(rng, t, None, None, ()))
                continue
            active = tuple(i for i in incidents if i.start < b0 + width and i.end > b0)
            events = sorted([(b0 + rand() * width, -1) for _ in range(n)] + bucket_extras)
            for t, idx in events:
                if idx < 0:
                    yield dumps(call(rng, t, None, None, active))
                else:
                    inc = incidents[idx]
                    yield dumps(call(rng, t, inc.feature, inc.user, active))

    def live(self, start: float, end: float) -> list[bytes]:
        """Lines for ``[start, end)``: Poisson arrivals at ``config.rate`` plus incidents."""
        if end <= start:
            return []
        rng = self._live_rng
        rate = self.config.rate
        events: list[tuple[float, int]] = []
        if rate > 0:
            t = start + rng.expovariate(rate)
            while t < end:
                events.append((t, -1))
                t += rng.expovariate(rate)
        active = tuple(self.incidents(start, end))
        for idx, inc in enumerate(active):
            lo, hi = max(start, inc.start), min(end, inc.end)
            if inc.extra_rate > 0 and hi > lo:
                t = lo + rng.expovariate(inc.extra_rate)
                while t < hi:
                    events.append((t, idx))
                    t += rng.expovariate(inc.extra_rate)
        events.sort()
        out: list[bytes] = []
        for t, idx in events:
            if idx < 0:
                rec = self._calls.call(rng, t, None, None, active)
            else:
                inc = active[idx]
                rec = self._calls.call(rng, t, inc.feature, inc.user, active)
            self._meter.apply(rec, t)
            out.append(orjson.dumps(rec))
        return out

    def record(self, ts: float, *, feature: str | None = None, user: str | None = None) -> CallLine:
        """One call at ``ts`` as a ``CallLine`` (live incidents applied), for tests."""
        active = tuple(self.incidents(ts, ts + 1e-3))
        return self._calls.call(self._record_rng, ts, feature, user, active)


def _bucket_weights(rng: random.Random, first: float, now: float, n_buckets: int) -> list[float]:
    """Per-bucket weights: diurnal and weekly shape, a slow growth trend, today's bump, and some
    noise so no two minutes look alike."""
    today = math.floor(now / DAY) * DAY
    weights: list[float] = []
    for b in range(n_buckets):
        b0 = first + b * BUCKET_S
        width = min(BUCKET_S, now - b0)
        mid = b0 + width / 2
        w = diurnal(mid) * (1.0 + 0.03 * (mid - first) / DAY)
        if mid >= today:
            w *= 1.08 + 0.12 * max(0.0, 1.0 - (now - mid) / 10800.0)
        weights.append(w * width * rng.lognormvariate(0.0, 0.15))
    return weights
