"""A realistic, seeded generator of Claude call logs.

One generator serves three uses, so they can never drift apart: ``claude-top demo`` (a history
file, then a live stream while the TUI watches it), the test fixtures, and the benchmark data
(``bench/make_log.py``). A flat stream of identical calls would show nothing worth looking at, so
the traffic is shaped the way a real app's is: features with their own model mixes, prompt
caching habits and latency; a long tail of users with a few heavy org/batch accounts; a diurnal
and weekly curve; and, every few minutes, an incident (a 429 storm, a latency spike, a runaway
agent loop) so every panel and alert of the TUI has something to show.

Everything is drawn from ``random.Random`` instances seeded from ``DemoConfig.seed``, never from
the global RNG or the wall clock, so a seed and a time range always give the same bytes. This
module imports neither Textual nor Rich: the benchmark and the tests must not pay for them.
"""

from __future__ import annotations

import math
import random
import threading
import time
from bisect import bisect
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import accumulate

import orjson

__all__ = [
    "FEATURES",
    "DemoConfig",
    "Generator",
    "Incident",
    "run_live",
    "write_history",
]

DAY = 86400.0
BUCKET_S = 60.0
"""History is laid out minute by minute: fine enough for a smooth diurnal curve, coarse enough
that the per-bucket bookkeeping costs nothing next to the per-line work."""

STORM = "rate_limit_storm"
SPIKE = "latency_spike"
RUNAWAY = "runaway_loop"
INCIDENT_KINDS = (STORM, SPIKE, RUNAWAY)

SONNET = "claude-sonnet-4-6"
SONNET_DATED = "claude-sonnet-4-5-20250929"
HAIKU = "claude-haiku-4-5"
OPUS = "claude-opus-4-5"

MODEL_SPEED = {SONNET: 1.0, SONNET_DATED: 1.05, HAIKU: 0.55, OPUS: 1.35}
"""Latency multiplier per model: the smaller model answers faster, the largest slower."""

HEAVY_USERS = (
    # (user id, share of all traffic, features it calls, night-only batch job?)
    ("org_acme", 0.035, ("chat", "support_agent"), False),
    ("org_globex", 0.025, ("search_rerank", "code_review"), False),
    ("batch_nightly", 0.10, ("doc_summary",), True),
)
"""Accounts that are not people: an integration using the app through one org key, and a
nightly batch job. They make the top-users panel interesting and drive the 429 storms."""

# Error mix of the baseline failures, mostly server-side overload; 429s are rare unless an
# incident drives them.  (type, HTTP status or None, cumulative probability)
_ERRORS = (
    ("OverloadedError", 529, 0.42),
    ("InternalServerError", 500, 0.72),
    ("APITimeoutError", None, 0.82),
    ("APIConnectionError", None, 0.90),
    ("RateLimitError", 429, 1.0),
)
_ERROR_CUM = tuple(e[2] for e in _ERRORS)
DEMO_LIMITS = {
    # family: (requests, input tokens, output tokens) per minute
    "sonnet": (1000, 800_000, 120_000),
    "haiku": (1000, 600_000, 80_000),
    "opus": (500, 400_000, 80_000),
}
"""The organization's per-minute limits the live stream's headers report, per model family, at
the default rate of 5 calls/s (scaled with ``DemoConfig.rate``): set so that normal traffic runs
at roughly half to three quarters of the token limits and an incident (a runaway agent on Opus)
pushes a class past 80% -- tokens, not requests, as in the article."""
RATELIMIT_DIMS = ("requests", "input_tokens", "output_tokens")
BASE_ERROR_RATE = 0.007
TIMEOUT_MS = 60000
"""The app's client timeout: a timed-out call is logged at about this latency."""


@dataclass(frozen=True, slots=True)
class Feature:
    """How one feature of the imaginary app calls Claude.

    Sizes are medians of lognormal draws (with their sigma): token counts and latencies of real
    traffic are skewed, with a long right tail, never normal.
    """

    name: str
    weight: float
    models: tuple[tuple[str, float], ...]
    input_median: float
    input_sigma: float
    output_median: float
    output_sigma: float
    max_tokens: int
    p_max_tokens: float
    p_tool_use: float
    system_cached: int
    """Size of the cached system prompt; 0 means this feature does not use prompt caching."""
    history_median: float
    """Median cached conversation prefix on top of the system prompt (multi-turn features)."""
    p_cold: float
    """Chance the cache has expired: the whole prefix is written instead of read."""
    p_write: float
    """Chance a warm call also writes an incremental cache breakpoint (a new turn)."""
    write_median: float
    latency_median_s: float
    latency_sigma: float


FEATURES: tuple[Feature, ...] = (
    Feature("chat", 0.34, ((SONNET, 0.70), (HAIKU, 0.18), (OPUS, 0.12)),
            450, 0.8, 320, 0.7, 2048, 0.015, 0.04,
            3800, 2500, 0.03, 0.25, 900, 3.4, 0.45),
    Feature("doc_summary", 0.11, ((SONNET_DATED, 0.65), (HAIKU, 0.35)),
            9000, 0.7, 450, 0.5, 1024, 0.02, 0.0,
            0, 0, 0.0, 0.0, 0, 5.0, 0.4),
    Feature("email_draft", 0.15, ((HAIKU, 0.75), (SONNET, 0.25)),
            700, 0.6, 260, 0.5, 1024, 0.005, 0.0,
            5200, 0, 0.05, 0.0, 0, 2.4, 0.4),
    Feature("search_rerank", 0.20, ((HAIKU, 1.0),),
            2400, 0.5, 45, 0.4, 256, 0.0, 0.0,
            4500, 0, 0.02, 0.0, 0, 1.6, 0.35),
    Feature("support_agent", 0.12, ((SONNET, 0.80), (OPUS, 0.20)),
            900, 0.7, 280, 0.7, 4096, 0.003, 0.45,
            14000, 6000, 0.02, 0.35, 1500, 3.8, 0.5),
    Feature("code_review", 0.08, ((OPUS, 0.50), (SONNET, 0.40), (SONNET_DATED, 0.10)),
            5200, 0.8, 1100, 0.6, 4096, 0.012, 0.10,
            9000, 0, 0.06, 0.10, 4000, 4.4, 0.4),
)  # fmt: skip
_MU = tuple(
    tuple(
        math.log(max(x, 1e-3))
        for x in (
            f.input_median,
            f.output_median,
            f.history_median,
            f.write_median,
            f.latency_median_s,
        )
    )
    for f in FEATURES
)
"""Log-medians (the mu of each lognormal draw) per feature, computed once for the hot path."""
_MU_SPIKE_S = math.log(14.0)
"""Median extra latency during a spike: enough to push a feature's p95 well over 15 s."""
_FEATURE_BY_NAME = {f.name: i for i, f in enumerate(FEATURES)}
_FEATURE_CUM = tuple(accumulate(f.weight for f in FEATURES))

# Which features each incident kind may hit: a storm needs a chatty feature, a runaway loop an
# agentic one (tool use and a growing context), and a spike is most visible on a slow feature.
_STORM_FEATURES = ("chat", "support_agent", "search_rerank", "email_draft")
_SPIKE_FEATURES = ("chat", "doc_summary", "code_review", "support_agent")
_RUNAWAY_FEATURES = ("support_agent", "code_review")


@dataclass(frozen=True)
class DemoConfig:
    """What the demo generates; the defaults make a lively but readable screen."""

    seed: int = 7
    users: int = 2000
    rate: float = 5.0
    """Mean calls per second of the live stream."""
    history_days: int = 8
    incidents: bool = True
    incident_every_s: float = 240.0
    history_calls_per_day: int = 12000
    """History is far thinner than the live rate so an 8-day demo loads in a couple of seconds."""


@dataclass(frozen=True, slots=True)
class Incident:
    """Something going wrong on ``feature`` during ``[start, end)``.

    ``user`` is the account driving it (the burst behind a 429 storm, the stuck agent of a
    runaway loop), who makes ``extra_rate`` calls per second on top of the normal traffic.
    """

    kind: str
    feature: str
    user: str | None
    start: float
    end: float
    extra_rate: float = 0.0

    def covers(self, ts: float) -> bool:
        return self.start <= ts < self.end


def _uuid4(rng: random.Random) -> str:
    """A uuid4 string from the seeded RNG (``uuid.uuid4`` would read the OS entropy pool)."""
    n = rng.getrandbits(128)
    n = (n & ~(0xF000 << 64)) | (0x4000 << 64)
    n = (n & ~(0xC000 << 48)) | (0x8000 << 48)
    h = f"{n:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _diurnal(ts: float) -> float:
    """Relative traffic at ``ts``: low around 03:00 UTC, peak around 15:00 UTC (US morning
    overlapping the European afternoon), and about half on Saturdays and Sundays."""
    hour = (ts % DAY) / 3600.0
    day_shape = 0.5 - 0.5 * math.cos(2.0 * math.pi * (hour - 3.0) / 24.0)
    level = 0.25 + 0.75 * math.pow(day_shape, 1.5)
    weekday = (int(ts // DAY) + 3) % 7  # 1970-01-01 was a Thursday; Monday is 0
    return level * (0.55 if weekday >= 5 else 1.0)


class Generator:
    """Seeded source of call-log lines: a history for the past, a live stream for the present.

    The live stream keeps its RNG between calls, so the same sequence of ``live`` calls with the
    same ranges gives the same bytes. The incident schedule depends only on the seed and the
    absolute time, so a restarted demo sees the same incidents at the same wall-clock times.
    """

    def __init__(self, config: DemoConfig) -> None:
        self.config = config
        seed = config.seed
        setup = random.Random(f"claude-top/{seed}/users")
        width = max(5, len(str(max(config.users - 1, 0))))
        ids = [f"u_{i:0{width}d}" for i in range(max(config.users, 1))]
        # Rank -> id through a shuffle, so the busiest people are not u_00000, u_00001 ...
        setup.shuffle(ids)
        self.users_by_rank: list[str] = ids
        # Zipf-like long tail: a handful of power users, thousands who call a few times a week.
        self._user_cum = list(accumulate((k + 12.0) ** -1.1 for k in range(len(ids))))
        self._live_rng = random.Random(f"claude-top/{seed}/live")
        self._record_rng = random.Random(f"claude-top/{seed}/record")
        self._ts_min = -1
        self._ts_prefix = ""
        self._rl_calls: dict[str, deque[tuple[float, int, int, int]]] = {}
        self._rl_used: dict[str, list[int]] = {}

    # ---------------------------------------------------------------- incidents

    def incidents(self, start: float, end: float) -> list[Incident]:
        """The live incidents overlapping ``[start, end)``, in time order.

        Time is cut into slots of ``incident_every_s``; each slot holds one incident whose kind
        rotates through storm, spike, runaway and whose feature, user and timing come from an RNG
        seeded by (seed, slot). Being a pure function of time, it needs no state and can be
        queried by tests for the ranges to check.
        """
        cfg = self.config
        if not cfg.incidents or cfg.incident_every_s <= 0 or end <= start:
            return []
        every = cfg.incident_every_s
        out: list[Incident] = []
        for slot in range(math.floor(start / every) - 1, math.floor(end / every) + 1):
            inc = self._live_incident(slot)
            if inc.start < end and inc.end > start:
                out.append(inc)
        return out

    def _live_incident(self, slot: int) -> Incident:
        cfg = self.config
        every = cfg.incident_every_s
        rng = random.Random(f"claude-top/{cfg.seed}/incident/{slot}")
        kind = INCIDENT_KINDS[(slot + cfg.seed) % 3]
        begin = slot * every + rng.uniform(0.05, 0.2) * every
        # Half to 70% of the slot (2-2.8 minutes by default): long enough to fill a p95 window,
        # and it ends inside its slot, so incidents never overlap.
        length = every * rng.uniform(0.5, 0.7)
        return self._make_incident(rng, kind, begin, begin + length, cfg.rate)

    def _make_incident(
        self, rng: random.Random, kind: str, start: float, end: float, base_rate: float
    ) -> Incident:
        """Pick the feature and culprit of an incident and how hard the culprit hammers."""
        if kind == STORM:
            feature = rng.choice(_STORM_FEATURES)
            top = self.users_by_rank[0]
            user = rng.choice(("org_acme", "org_globex", top))
            return Incident(kind, feature, user, start, end, 0.8 * base_rate)
        if kind == SPIKE:
            return Incident(kind, rng.choice(_SPIKE_FEATURES), None, start, end, 0.0)
        feature = rng.choice(_RUNAWAY_FEATURES)
        # A middling user, not a power user: the point is that one ordinary account can cost more
        # than everyone else together once its agent loops.
        ranks = len(self.users_by_rank)
        lo = min(20, ranks - 1)
        user = self.users_by_rank[rng.randrange(lo, max(lo + 1, min(500, ranks)))]
        return Incident(RUNAWAY, feature, user, start, end, 0.4 * base_rate)

    def history_incidents(self, now: float, total: int | None = None) -> list[Incident]:
        """The past incidents ``history(now, total)`` includes (for tests and the curious)."""
        first = now - max(self.config.history_days, 0) * DAY
        if total is None:
            total = self.config.history_calls_per_day * max(self.config.history_days, 0)
        if now <= first or total <= 0:
            return []
        return self._history_incidents(first, now, total / (now - first))

    def _history_incidents(self, first: float, now: float, base_rate: float) -> list[Incident]:
        """Two or three past incidents, so the 7-day baseline has bumps like a real one."""
        if not self.config.incidents:
            return []
        rng = random.Random(f"claude-top/{self.config.seed}/history-incidents")
        today = math.floor(now / DAY) * DAY
        plan = (
            (3, 14.3, STORM, 1800.0, 3.0),
            (5, 10.0, RUNAWAY, 2700.0, 2.0),
            (2, 16.5, SPIKE, 1200.0, 0.0),
        )
        out: list[Incident] = []
        for days_ago, hour, kind, length, mult in plan:
            start = today - days_ago * DAY + hour * 3600.0
            inc = self._make_incident(rng, kind, start, start + length, base_rate)
            if start >= first and start + length <= now:
                out.append(
                    Incident(kind, inc.feature, inc.user, inc.start, inc.end, mult * base_rate)
                )
        return out

    # ---------------------------------------------------------------- lines

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
        incidents = self._history_incidents(first, now, base_rate)
        extra_counts = [round(i.extra_rate * (i.end - i.start)) for i in incidents]
        while sum(extra_counts) > total // 4:  # tiny totals: the incidents must not dominate
            extra_counts = [c // 2 for c in extra_counts]
        base_total = total - sum(extra_counts)

        # Per-bucket weights: diurnal and weekly shape, a slow growth trend, today's bump, and
        # some noise so no two minutes look alike.
        today = math.floor(now / DAY) * DAY
        n_buckets = math.ceil((now - first) / BUCKET_S)
        weights: list[float] = []
        for b in range(n_buckets):
            b0 = first + b * BUCKET_S
            width = min(BUCKET_S, now - b0)
            mid = b0 + width / 2
            w = _diurnal(mid) * (1.0 + 0.03 * (mid - first) / DAY)
            if mid >= today:
                w *= 1.08 + 0.12 * max(0.0, 1.0 - (now - mid) / 10800.0)
            weights.append(w * width * rng.lognormvariate(0.0, 0.15))
        scale = base_total / sum(weights)

        # Incident extras: exact counts, spread uniformly over each incident's range.
        extras: dict[int, list[tuple[float, int]]] = {}
        for idx, (inc, count) in enumerate(zip(incidents, extra_counts, strict=True)):
            for _ in range(count):
                t = rng.uniform(inc.start, inc.end)
                extras.setdefault(int((t - first) // BUCKET_S), []).append((t, idx))

        made = 0
        acc = 0.0
        line = self._line
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
                    yield line(rng, t, None, None, ())
                continue
            active = tuple(i for i in incidents if i.start < b0 + width and i.end > b0)
            events = sorted([(b0 + rand() * width, -1) for _ in range(n)] + bucket_extras)
            for t, idx in events:
                if idx < 0:
                    yield line(rng, t, None, None, active)
                else:
                    inc = incidents[idx]
                    yield line(rng, t, inc.feature, inc.user, active)

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
                rec = self._call(rng, t, None, None, active)
            else:
                inc = active[idx]
                rec = self._call(rng, t, inc.feature, inc.user, active)
            self._ratelimit_headers(rec, t)
            out.append(orjson.dumps(rec))
        return out

    def _ratelimit_headers(self, rec: dict[str, object], ts: float) -> None:
        """Add the ``anthropic-ratelimit-*`` values the instrument wrapper would log.

        Only the live stream carries them (history and the benchmark keep the article's plain
        shape): limit is the family's ``DEMO_LIMITS``; remaining is the limit minus what this
        generator sent in the 60 s before, as the API's token bucket roughly reports it.
        """
        model = str(rec["model"])
        family = next((f for f in DEMO_LIMITS if f in model), None)
        if family is None:
            return
        calls = self._rl_calls.setdefault(family, deque())
        used = self._rl_used.setdefault(family, [0, 0, 0])
        while calls and calls[0][0] <= ts - 60.0:
            _, r, i, o = calls.popleft()
            used[0] -= r
            used[1] -= i
            used[2] -= o
        cost = (
            1,
            int(rec["input_tokens"]) + int(rec["cache_creation_tokens"]),  # type: ignore[call-overload]
            int(rec["output_tokens"]),  # type: ignore[call-overload]
        )
        calls.append((ts, *cost))
        for k in range(3):
            used[k] += cost[k]
        scale = max(self.config.rate, 0.1) / 5.0
        for k, (dim, base) in enumerate(zip(RATELIMIT_DIMS, DEMO_LIMITS[family], strict=True)):
            limit = max(1, round(base * scale))
            rec[f"ratelimit_{dim}_limit"] = limit
            # A 429 already says how little was left (``_call``): keep that.
            rec.setdefault(f"ratelimit_{dim}_remaining", max(0, limit - used[k]))
        if rec.get("error_status") == 429:
            rec["ratelimit_input_tokens_remaining"] = min(
                int(rec["ratelimit_input_tokens_remaining"]),  # type: ignore[call-overload]
                int(rec["ratelimit_tokens_remaining"]),  # type: ignore[call-overload]
            )

    def record(
        self, ts: float, *, feature: str | None = None, user: str | None = None
    ) -> dict[str, object]:
        """One call at ``ts`` as a dict (live incidents applied), for tests."""
        active = tuple(self.incidents(ts, ts + 1e-3))
        return self._call(self._record_rng, ts, feature, user, active)

    def _line(
        self,
        rng: random.Random,
        ts: float,
        feature: str | None,
        user: str | None,
        active: tuple[Incident, ...],
    ) -> bytes:
        return orjson.dumps(self._call(rng, ts, feature, user, active))

    def _timestamp(self, ts: float) -> str:
        """ISO 8601 UTC, milliseconds; the minute part is cached because lines come in order."""
        ms_total = math.floor(ts * 1000.0)
        minute, ms = divmod(ms_total, 60000)
        if minute != self._ts_min:
            self._ts_min = minute
            self._ts_prefix = datetime.fromtimestamp(minute * 60, UTC).strftime("%Y-%m-%dT%H:%M:")
        return f"{self._ts_prefix}{ms // 1000:02d}.{ms % 1000:03d}+00:00"

    def _pick_user(self, rng: random.Random, ts: float) -> tuple[str, int | None]:
        """A user and, for org/batch accounts, the feature they call (None: any feature)."""
        r = rng.random()
        night = (ts % DAY) < 6 * 3600.0
        for uid, share, feats, nightly in HEAVY_USERS:
            if nightly and not night:
                share *= 0.05
            if r < share:
                return uid, _FEATURE_BY_NAME[feats[int(rng.random() * len(feats))]]
            r -= share
        cum = self._user_cum
        k = bisect(cum, rng.random() * cum[-1])
        return self.users_by_rank[min(k, len(cum) - 1)], None

    def _call(
        self,
        rng: random.Random,
        ts: float,
        feature: str | None,
        user: str | None,
        active: tuple[Incident, ...],
    ) -> dict[str, object]:
        """One call: the hot path of the benchmark generator, so draws are kept to a minimum."""
        rand = rng.random
        gauss = rng.gauss
        exp = math.exp
        fidx: int | None
        if user is None:
            user, fidx = self._pick_user(rng, ts)
        else:
            fidx = None
        if feature is not None:
            fidx = _FEATURE_BY_NAME[feature]
        elif fidx is None:
            fidx = bisect(_FEATURE_CUM, rand() * _FEATURE_CUM[-1])
            fidx = min(fidx, len(FEATURES) - 1)
        f = FEATURES[fidx]
        mu_in, mu_out, mu_hist, mu_write, mu_lat = _MU[fidx]
        fname = f.name

        spike = storm = runaway = None
        for inc in active:
            if inc.feature == fname and inc.start <= ts < inc.end:
                if inc.kind == SPIKE:
                    spike = inc
                elif inc.kind == STORM:
                    storm = inc
                elif inc.kind == RUNAWAY and inc.user == user:
                    runaway = inc

        models = f.models
        if runaway is not None:
            model = models[0][0] if models[0][0] == OPUS else OPUS
        elif len(models) == 1:
            model = models[0][0]
        else:
            r = rand()
            model = models[-1][0]
            for name, share in models:
                if r < share:
                    model = name
                    break
                r -= share

        # Failure first: a failed call has no usage, so every token count is zero.
        error: str | None = None
        status: int | None = None
        p_err = BASE_ERROR_RATE
        if storm is not None:
            p_err = 0.75 if user == storm.user else 0.5
        elif spike is not None:
            p_err = 0.08
        if rand() < p_err:
            if storm is not None:
                error, status = "RateLimitError", 429
            elif spike is not None:
                error, status = (
                    ("APITimeoutError", None) if rand() < 0.6 else ("OverloadedError", 529)
                )
            else:
                r = rand()
                for name, code, cum in _ERRORS:
                    if r < cum:
                        error, status = name, code
                        break
                else:  # pragma: no cover - the last cumulative probability is 1.0
                    error, status = "OverloadedError", 529

        if error is not None:
            rec: dict[str, object] = {
                "timestamp": self._timestamp(ts),
                "request_id": _uuid4(rng),
                "user_id": user,
                "feature": fname,
                "model": model,
                "input_tokens": 0,
                "output_tokens": 0,
                "cached_tokens": 0,
                "cache_creation_tokens": 0,
                "latency_ms": self._error_latency(rng, error, spike is not None),
                "stop_reason": "error",
                "error": error,
                "error_status": status,
            }
            if status == 429:
                tight = storm is not None
                rec["ratelimit_requests_remaining"] = int(rand() * (4 if tight else 2))
                rec["ratelimit_tokens_remaining"] = int(rand() * (1500 if tight else 8000))
                rec["retry_after_s"] = 1 + int(rand() * (20 if tight else 8))
            return rec

        if runaway is not None:
            # A stuck agent: every turn re-sends a context that grows with each tool result.
            progress = (ts - runaway.start) / max(runaway.end - runaway.start, 1e-9)
            cached = int((20000 + 130000 * progress) * (0.95 + 0.1 * rand()))
            write = int(exp(gauss(8.0, 0.4)))  # median ~3k tokens of new tool output
            inp = int(exp(gauss(6.5, 0.5)))
            out = int(exp(gauss(5.8, 0.5)))
            stop = "tool_use" if rand() < 0.92 else "end_turn"
            latency = exp(gauss(1.0, 0.35)) * (1.0 + cached / 100000.0)
            return self._success(
                rng, ts, user, fname, model, inp, out, cached, write, latency, stop
            )

        inp = int(exp(gauss(mu_in, f.input_sigma))) + 8
        r = rand()
        if r < f.p_max_tokens:
            out = f.max_tokens
            stop = "max_tokens"
        else:
            out = min(int(exp(gauss(mu_out, f.output_sigma))) + 1, f.max_tokens - 1)
            stop = "tool_use" if r < f.p_max_tokens + f.p_tool_use else "end_turn"

        cached = write = 0
        if f.system_cached:
            prefix = f.system_cached + int(rand() * 200)
            if f.history_median:
                prefix += min(int(exp(gauss(mu_hist, 0.9))), 60000)  # compaction caps a chat
            r = rand()
            if r < f.p_cold:
                write = prefix
            else:
                cached = prefix
                if r < f.p_cold + f.p_write:
                    write = int(exp(gauss(mu_write, 0.6)))

        latency = (
            exp(gauss(mu_lat, f.latency_sigma))
            * MODEL_SPEED[model]
            * (0.7 + 0.3 * (out / f.output_median) ** 0.5)
        )
        if rand() < 0.01:  # the tail: a slow replica, a long queue
            latency *= 2.0 + 3.0 * rand()
        if spike is not None:
            latency += exp(gauss(_MU_SPIKE_S, 0.45))
        return self._success(rng, ts, user, fname, model, inp, out, cached, write, latency, stop)

    def _success(
        self,
        rng: random.Random,
        ts: float,
        user: str,
        feature: str,
        model: str,
        inp: int,
        out: int,
        cached: int,
        write: int,
        latency_s: float,
        stop: str,
    ) -> dict[str, object]:
        return {
            "timestamp": self._timestamp(ts),
            "request_id": _uuid4(rng),
            "user_id": user,
            "feature": feature,
            "model": model,
            "input_tokens": inp,
            "output_tokens": out,
            "cached_tokens": cached,
            "cache_creation_tokens": write,
            "latency_ms": min(int(latency_s * 1000.0) + 80, TIMEOUT_MS - 1),
            "stop_reason": stop,
            "error": None,
            "error_status": None,
        }

    @staticmethod
    def _error_latency(rng: random.Random, error: str, spike: bool) -> int:
        """Failures are quick (the server refuses at once) except timeouts, which wait them out."""
        if error == "APITimeoutError":
            return TIMEOUT_MS + int(rng.random() * 400)
        if error == "RateLimitError":
            return int(rng.lognormvariate(math.log(120.0), 0.5)) + 20
        if error == "APIConnectionError":
            return int(rng.lognormvariate(math.log(1500.0), 0.8)) + 20
        base = rng.lognormvariate(math.log(700.0), 0.7)
        return int(base * (8.0 if spike else 1.0)) + 20


def write_history(path: str, now: float, config: DemoConfig) -> int:
    """Write the history to ``path`` (replacing it) and return the number of lines written.

    Lines are written in chunks so an 8-day history never sits whole in memory as one string.
    """
    gen = Generator(config)
    count = 0
    chunk: list[bytes] = []
    with open(path, "wb") as f:
        for line in gen.history(now):
            chunk.append(line)
            if len(chunk) >= 8192:
                f.write(b"\n".join(chunk) + b"\n")
                count += len(chunk)
                chunk.clear()
        if chunk:
            f.write(b"\n".join(chunk) + b"\n")
            count += len(chunk)
    return count


def run_live(
    path: str,
    config: DemoConfig,
    stop: threading.Event,
    clock: Callable[[], float] = time.time,
) -> None:
    """Append live lines to ``path`` every ~0.25 s until ``stop`` is set.

    Each batch is one unbuffered ``write()`` on an append-mode file, so a follower tailing the
    file sees whole lines (never half a batch split mid-line by a buffer flush).
    """
    gen = Generator(config)
    last = clock()
    with open(path, "ab", buffering=0) as f:
        while not stop.wait(0.25):
            now = clock()
            lines = gen.live(last, now)
            last = max(last, now)
            if lines:
                f.write(b"\n".join(lines) + b"\n")
