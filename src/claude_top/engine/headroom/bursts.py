"""429 bursts: consecutive rate-limit refusals of one model class, and who drove the minute before.

A burst is what an operator asks about after the fact ("who used up the limit at 14:02?"), so
it must outlive the tracker's per-second memory: the tracker computes who drove the minute
when a burst's first 429 arrives and hands it here, and this log keeps the newest bursts and
extends the open one as more 429s of its class follow. A state file keeps both, so a process
that resumes from it goes on as a read of the whole log would (``state.bursts``).
"""

from __future__ import annotations

from bisect import bisect_left
from collections import deque
from collections.abc import Mapping

from msgspec import Struct
from msgspec.structs import replace

from claude_top.engine.headroom.snapshot import Share

BURST_GAP_S = 60.0
"""429s of one model class closer than this to the previous one belong to the same burst."""
BURSTS_KEPT = 100


class Burst(Struct, frozen=True):
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


_Rank = tuple[Burst, list[tuple[int, str]], list[tuple[str, int]], dict[str, int]]


class BurstLog:
    """The newest ``BURSTS_KEPT`` bursts, oldest first, and the open one of each model class."""

    def __init__(self) -> None:
        self.kept: deque[Burst] = deque(maxlen=BURSTS_KEPT)
        self._open: dict[str, Burst] = {}
        self._rank: dict[str, _Rank] = {}
        """The open burst of a class as ``extend`` left it, with its features ranked as sort
        keys (-count, name) and as pairs (name, count), and their counts."""

    def extend(self, model_class: str, ts: float, feature: str) -> bool:
        """Count a 429 at ``ts`` into the open burst of its class; False when none is near."""
        cur = self._open.get(model_class)
        if cur is None or not cur.start - BURST_GAP_S <= ts <= cur.end + BURST_GAP_S:
            return False
        new = replace(
            cur,
            start=min(cur.start, ts),
            end=max(cur.end, ts),
            count=cur.count + 1,
            features=self._counted(cur, feature),
        )
        for i in range(len(self.kept) - 1, -1, -1):
            if self.kept[i] is cur:
                self.kept[i] = new
                break
        self._open[model_class] = new
        rank = self._rank[model_class]
        self._rank[model_class] = (new, *rank[1:])
        return True

    def _counted(self, cur: Burst, feature: str) -> tuple[tuple[str, int], ...]:
        """``cur``'s features with one more 429 of ``feature``, ranked as ``_ranked`` ranks.

        The open burst's ranking is kept as a sorted list and the feature moved up in it: with
        500 features a burst names hundreds, and sorting them again at each of its 429s was
        most of the tracker's time in a read."""
        rank = self._rank.get(cur.model_class)
        if rank is None or rank[0] is not cur:  # opened, or restored from a state
            pairs = list(_ranked(dict(cur.features)))
            rank = (cur, [(-n, f) for f, n in pairs], pairs, dict(cur.features))
        _, keys, pairs, counts = rank
        n = counts.get(feature, 0)
        if n:
            i = bisect_left(keys, (-n, feature))
            del keys[i], pairs[i]
        counts[feature] = n + 1
        j = bisect_left(keys, (-n - 1, feature))
        keys.insert(j, (-n - 1, feature))
        pairs.insert(j, (feature, n + 1))
        self._rank[cur.model_class] = rank
        return tuple(pairs)

    def open(self, burst: Burst) -> None:
        """Start a new burst: it is the open one of its class from now on."""
        self.kept.append(burst)
        self._open[burst.model_class] = burst

    def opened(self) -> dict[str, Burst]:
        """The open burst of each class (a copy): one pushed out of ``kept`` is still open."""
        return dict(self._open)

    def restore(self, kept: list[Burst], opened: dict[str, Burst]) -> None:
        """Bursts saved by an earlier process (``state.bursts``), into a log holding none: an
        open one that is also kept is the same object in both, as ``extend`` needs."""
        self.kept.extend(kept)
        self._open.update(opened)

    def clear(self) -> None:
        """Drop every burst (a state found unusable halfway through its load)."""
        self.kept.clear()
        self._open.clear()
        self._rank.clear()

    def between(self, start: float, end: float) -> list[Burst]:
        """Bursts whose newest 429 lies in [start, end), newest first."""
        return [b for b in reversed(self.kept) if start <= b.end < end]


def _ranked(counts: Mapping[str, int]) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
