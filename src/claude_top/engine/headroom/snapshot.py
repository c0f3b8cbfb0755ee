"""What a headroom snapshot says: per model class, used against limit, and who used the window.

Frozen types the tracker returns and the rules, views and exports read; kept apart from the
tracker so readers depend on the answer's shape, not on how the seconds are counted.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping

from msgspec import Struct


class Dimension(Struct, frozen=True):
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


class ClassHeadroom(Struct, frozen=True):
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


class Share(Struct, frozen=True):
    """One user or feature's part of the ITPM tokens (and requests) of a window."""

    name: str
    tokens: int
    share: float
    """Of all ITPM tokens of the window, 0..1."""
    requests: int


class HeadroomSnapshot(Struct, frozen=True):
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


def top_shares(table: Mapping[str, list[int]], n: int) -> tuple[Share, ...]:
    """The ``n`` largest by ITPM tokens (then requests), with their share of the whole table."""
    total = sum(r[1] for r in table.values())
    ranked = heapq.nsmallest(n, table.items(), key=lambda kv: (-kv[1][1], -kv[1][0], kv[0]))
    return tuple(
        Share(name, r[1], r[1] / total if total else 0.0, r[0])
        for name, r in ranked
        if r[1] > 0 or total == 0
    )
