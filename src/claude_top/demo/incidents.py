"""When things go wrong in the demo: the schedule of 429 storms, latency spikes and runaway loops.

Every panel and alert of the TUI needs something to show, so every few minutes of live traffic
(and two or three times in the history, so the 7-day baseline has bumps) one incident hits one
feature. The schedule is a pure function of the seed and the absolute time: a restarted demo
sees the same incidents at the same wall-clock times, and tests can ask where they are.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from .profile import DAY, DemoConfig

STORM = "rate_limit_storm"
SPIKE = "latency_spike"
RUNAWAY = "runaway_loop"
INCIDENT_KINDS = (STORM, SPIKE, RUNAWAY)

# Which features each incident kind may hit: a storm needs a chatty feature, a runaway loop an
# agentic one (tool use and a growing context), and a spike is most visible on a slow feature.
_STORM_FEATURES = ("chat", "support_agent", "search_rerank", "email_draft")
_SPIKE_FEATURES = ("chat", "doc_summary", "code_review", "support_agent")
_RUNAWAY_FEATURES = ("support_agent", "code_review")


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


class IncidentPlan:
    """The incidents of one seed; ``users_by_rank`` gives the culprits."""

    def __init__(self, config: DemoConfig, users_by_rank: list[str]) -> None:
        self.config = config
        self.users_by_rank = users_by_rank

    def live(self, start: float, end: float) -> list[Incident]:
        """The live incidents overlapping ``[start, end)``, in time order.

        Time is cut into slots of ``incident_every_s``; each slot holds one incident whose kind
        rotates through storm, spike, runaway and whose feature, user and timing come from an RNG
        seeded by (seed, slot).
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
        return self._make(rng, kind, begin, begin + length, cfg.rate)

    def _make(
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

    def history(self, first: float, now: float, base_rate: float) -> list[Incident]:
        """Two or three past incidents in ``[first, now)``, so the baseline has bumps."""
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
            inc = self._make(rng, kind, start, start + length, base_rate)
            if start >= first and start + length <= now:
                out.append(
                    Incident(kind, inc.feature, inc.user, inc.start, inc.end, mult * base_rate)
                )
        return out
