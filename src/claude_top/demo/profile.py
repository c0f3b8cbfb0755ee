"""The imaginary app the demo logs for: its features, models, users, error mix and traffic curve.

A flat stream of identical calls would show nothing worth looking at, so the traffic is shaped
the way a real app's is: features with their own model mixes, prompt caching habits and latency;
a long tail of users with a few heavy org/batch accounts; a diurnal and weekly curve. This module
holds that description as data (plus the two small draws that read it); ``calls`` turns it into
lines. Changing a number here changes every seeded output, so the tests pin the bytes.
"""

from __future__ import annotations

import math
import random
from bisect import bisect
from dataclasses import dataclass
from itertools import accumulate

DAY = 86400.0

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

ERRORS = (
    ("OverloadedError", 529, 0.42),
    ("InternalServerError", 500, 0.72),
    ("APITimeoutError", None, 0.82),
    ("APIConnectionError", None, 0.90),
    ("RateLimitError", 429, 1.0),
)
"""Error mix of the baseline failures, mostly server-side overload; 429s are rare unless an
incident drives them. (type, HTTP status or None, cumulative probability)"""

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
MU = tuple(
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
MU_SPIKE_S = math.log(14.0)
"""Median extra latency during a spike: enough to push a feature's p95 well over 15 s."""
FEATURE_BY_NAME = {f.name: i for i, f in enumerate(FEATURES)}
FEATURE_CUM = tuple(accumulate(f.weight for f in FEATURES))


def pick_feature(rand: float) -> int:
    """The index of the feature a uniform draw in [0, 1) lands on, by traffic weight."""
    return min(bisect(FEATURE_CUM, rand * FEATURE_CUM[-1]), len(FEATURES) - 1)


def diurnal(ts: float) -> float:
    """Relative traffic at ``ts``: low around 03:00 UTC, peak around 15:00 UTC (US morning
    overlapping the European afternoon), and about half on Saturdays and Sundays."""
    hour = (ts % DAY) / 3600.0
    day_shape = 0.5 - 0.5 * math.cos(2.0 * math.pi * (hour - 3.0) / 24.0)
    level = 0.25 + 0.75 * math.pow(day_shape, 1.5)
    weekday = (int(ts // DAY) + 3) % 7  # 1970-01-01 was a Thursday; Monday is 0
    return level * (0.55 if weekday >= 5 else 1.0)


class Users:
    """The app's users: ``config.users`` people on a Zipf-like long tail, plus ``HEAVY_USERS``."""

    def __init__(self, config: DemoConfig) -> None:
        setup = random.Random(f"claude-top/{config.seed}/users")
        width = max(5, len(str(max(config.users - 1, 0))))
        ids = [f"u_{i:0{width}d}" for i in range(max(config.users, 1))]
        # Rank -> id through a shuffle, so the busiest people are not u_00000, u_00001 ...
        setup.shuffle(ids)
        self.by_rank: list[str] = ids
        # A handful of power users, thousands who call a few times a week.
        self._cum = list(accumulate((k + 12.0) ** -1.1 for k in range(len(ids))))

    def pick(self, rng: random.Random, ts: float) -> tuple[str, int | None]:
        """A user and, for org/batch accounts, the feature they call (None: any feature)."""
        r = rng.random()
        night = (ts % DAY) < 6 * 3600.0
        for uid, share, feats, nightly in HEAVY_USERS:
            if nightly and not night:
                share *= 0.05
            if r < share:
                return uid, FEATURE_BY_NAME[feats[int(rng.random() * len(feats))]]
            r -= share
        cum = self._cum
        k = bisect(cum, rng.random() * cum[-1])
        return self.by_rank[min(k, len(cum) - 1)], None
