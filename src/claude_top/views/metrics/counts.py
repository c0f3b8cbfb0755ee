"""What the counters count: the engine's all-time totals per (feature, model), less a baseline.

A counter here counts the calls this process read *live*, from the moment counting started
(``Counting.start``: when the history the follower loads at start-up is in). The history is
in the engine for the rules, the baseline and the gauges, but not in a counter's value: a
restart then looks to Prometheus like what it is, a counter reset to zero, which ``rate()``
and ``increase()`` handle without a spike. (Counting history would make a restart whose
history shrank -- a rotated file deleted, ``--since`` moved on -- read as a reset followed by
the whole history at once.) Lines written while no process was running are read as history at
the next start, so they are in ``summary`` and the gauges but in no counter's increase.
A persistent state (the SQLite store) can later carry the counters across restarts instead.

The totals come from the engine's own queries, so they are the numbers ``summary`` prints;
counting is the difference of two such snapshots, exact for every integer. Costs are floats
recomputed when buckets are compacted, so the exported counter is held at its highest value
(``Monotone``): a counter never goes down within a process.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from claude_top.core.stats import GroupStats
from claude_top.engine import streaming
from claude_top.engine.engine import Engine
from claude_top.sources.remote import LOCAL_HOST
from claude_top.views.metrics.labels import OTHER, LabelCap

Key = tuple[str, str, str]
"""(host, feature label, model) before the host's and the model's caps are applied."""


def _minus(a: Mapping[Any, int], b: Mapping[Any, int]) -> dict[Any, int]:
    out: dict[Any, int] = dict(a)
    for k, v in b.items():
        left = out.get(k, 0) - v
        if left:
            out[k] = left
        else:
            out.pop(k, None)
    return out


@dataclass
class Counts:
    """The countable numbers of one group: everything a counter or histogram exports."""

    calls: int = 0
    errors: int = 0
    errors_by_type: dict[str, int] = field(default_factory=dict)
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_5m_tokens: int = 0
    cache_write_1h_tokens: int = 0
    cost_usd: float = 0.0
    max_tokens_stops: int = 0
    unpriced_calls: int = 0
    latency: dict[int, int] = field(default_factory=dict)
    """HDR bucket (its lowest ms) -> calls, as ``core.histogram`` keeps them."""
    latency_sum_ms: int = 0
    streams: int = 0
    """Streamed calls (those that logged a time to first token)."""
    ttft: dict[int, int] = field(default_factory=dict)
    """Their TTFT HDR buckets (lowest ms) -> calls (``engine.streaming``)."""

    @classmethod
    def of(cls, g: GroupStats) -> Counts:
        return cls(
            g.calls,
            g.errors,
            dict(g.errors_by_type),
            g.input_tokens,
            g.output_tokens,
            g.cache_read_tokens,
            g.cache_write_5m_tokens,
            g.cache_write_1h_tokens,
            g.cost_usd,
            g.max_tokens_stops,
            g.unpriced_calls,
            dict(g.latency.counts) if g.latency is not None else {},
            g.latency_sum_ms,
        )

    def minus(self, other: Counts) -> Counts:
        nums = {
            f.name: getattr(self, f.name) - getattr(other, f.name)
            for f in dataclasses.fields(self)
            if f.name not in ("errors_by_type", "latency", "ttft")
        }
        return Counts(
            errors_by_type=_minus(self.errors_by_type, other.errors_by_type),
            latency=_minus(self.latency, other.latency),
            ttft=_minus(self.ttft, other.ttft),
            **nums,
        )

    def add(self, other: Counts) -> None:
        for f in dataclasses.fields(self):
            mine = getattr(self, f.name)
            if isinstance(mine, dict):
                for k, v in getattr(other, f.name).items():
                    mine[k] = mine.get(k, 0) + v
            else:
                setattr(self, f.name, mine + getattr(other, f.name))


def breakdown(
    engine: Engine, features: LabelCap, hosts: Mapping[str, Engine] | None = None
) -> dict[Key, Counts]:
    """All-time ``Counts`` per (host, feature label, model); the caller holds the engine's lock.

    ``hosts`` maps each host to the engine of its lines (``engine.hosts.ByHost.engines``: the
    engine itself when there is one host); None is one ``local`` host. The features keep their
    own series in the order of all traffic, busiest first, whichever host they are busiest on.
    """
    ranked = _ranked(engine)
    features.admit(g.name for g in ranked)
    if hosts is None:
        hosts = {LOCAL_HOST: engine}
    out: dict[Key, Counts] = {}
    for host, e in hosts.items():
        rows = _ranked(e) if e is not engine else ranked
        for (feature, model), c in _one_host(e, rows, features).items():
            out[(host, feature, model)] = c
    return out


def _ranked(engine: Engine) -> list[GroupStats]:
    groups = engine.query(None, None, "feature").groups.values()
    return sorted(groups, key=lambda g: (-g.calls, g.name))


def _one_host(
    engine: Engine, ranked: list[GroupStats], features: LabelCap
) -> dict[tuple[str, str], Counts]:
    """One engine's ``Counts`` per (feature label, model).

    Features past the cap are one ``other`` feature: its per-model counts are each model's
    total less the named features' part, so no query per unnamed feature is ever made.
    """
    out: dict[tuple[str, str], Counts] = {}
    named_by_model: dict[str, Counts] = {}
    rest = False
    for g in ranked:
        if not features.named(g.name):
            rest = True
            continue
        label = features.label(g.name)
        for model, mg in engine.models_of_feature(g.name, None, None).groups.items():
            c = Counts.of(mg)
            out.setdefault((label, model), Counts()).add(c)
            named_by_model.setdefault(model, Counts()).add(c)
    if rest:
        for model, mg in engine.query(None, None, "model").groups.items():
            left = Counts.of(mg).minus(named_by_model.get(model, Counts()))
            if left.calls:
                out[(OTHER, model)] = left
    for (feature, model), (n, ttft) in streaming.ttft_by_key(engine.agg.streams).items():
        label = features.label(feature) if features.named(feature) else OTHER
        group = out.get((label, model))
        if group is not None:  # a streamed call is a call: its group exists
            group.add(Counts(streams=n, ttft=ttft))
    return out


def delta(now: Mapping[Key, Counts], base: Mapping[Key, Counts]) -> dict[Key, Counts]:
    """``now`` less ``base``, key by key (a key only in ``base`` cannot happen: totals grow)."""
    return {k: c.minus(base[k]) if k in base else c for k, c in now.items()}


class Monotone:
    """Holds every exported counter at the highest value it had (float costs, see above)."""

    def __init__(self) -> None:
        self._high: dict[tuple[str, tuple[str, ...]], float] = {}

    def __call__(self, name: str, labels: tuple[str, ...], value: float) -> float:
        key = (name, labels)
        high = self._high.get(key)
        if high is not None and value < high:
            return high
        self._high[key] = value
        return value
