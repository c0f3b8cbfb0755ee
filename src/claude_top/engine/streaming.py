"""Streaming latency: time to first token and output tokens per second, per feature and model.

A streamed call's latency to its end says little about how it felt: the user sees the first
token after ``ttft_ms`` and then the rest at the model's output speed. Calls that log a
``ttft_ms`` (the instrument wrapper does for streams) are kept here, in their own tiered store
beside the group rows (same tiers, same compaction, so any window is answered from memory), with
both numbers in HdrHistogram-layout buckets like latency: TTFT in milliseconds, and the output
rate after the first token, ``output_tokens / (latency - ttft)``, in tokens per second. A store
of its own keeps the group rows (and everything that reads or serializes them) as they are.
"""

from __future__ import annotations

from msgspec import Struct

from claude_top.core.histogram import LatencyHistogram, bucket_of, clamp, merge_into
from claude_top.engine.store import Bucket, Row, TieredStore

S_STREAMS, S_TTFT, S_TPS, S_TPS_CALLS = 0, 1, 2, 3
"""A row: streamed calls, TTFT bucket counts, output-rate bucket counts, calls with a rate."""


def new_stream_row() -> Row:
    return [0, {}, {}, 0]


def merge_stream_row(acc: Row, row: Row) -> None:
    acc[S_STREAMS] += row[S_STREAMS]
    merge_into(acc[S_TTFT], row[S_TTFT])
    merge_into(acc[S_TPS], row[S_TPS])
    acc[S_TPS_CALLS] += row[S_TPS_CALLS]


def add(
    bucket: Bucket, feature: str, model: str, ttft_ms: int, output_tokens: int, latency_ms: int
) -> None:
    """Count one streamed call in its minute's bucket."""
    key = (feature, model)
    row = bucket.get(key)
    if row is None:
        row = bucket[key] = new_stream_row()
    row[S_STREAMS] += 1
    b = bucket_of(clamp(ttft_ms))
    h = row[S_TTFT]
    h[b] = h.get(b, 0) + 1
    generating_ms = latency_ms - ttft_ms
    if generating_ms > 0 and output_tokens > 0:
        rate = bucket_of(clamp(round(output_tokens * 1000 / generating_ms)))
        t = row[S_TPS]
        t[rate] = t.get(rate, 0) + 1
        row[S_TPS_CALLS] += 1


class StreamStats(Struct, frozen=True):
    """The streamed calls of one group over one window."""

    streams: int
    ttft: LatencyHistogram
    """Milliseconds to the first token."""
    output_rate: LatencyHistogram
    """Output tokens per second after the first token (a call with no output has none)."""

    @property
    def p50_ttft_ms(self) -> int | None:
        return self.ttft.percentile(50)

    @property
    def p95_ttft_ms(self) -> int | None:
        return self.ttft.percentile(95)

    @property
    def output_tokens_per_s(self) -> int | None:
        """The median call's output rate."""
        return self.output_rate.percentile(50)


def query(
    store: TieredStore, start: float | None, end: float | None, by: str
) -> tuple[StreamStats, dict[str, StreamStats]]:
    """The total and each feature's (``by="feature"``) or model's streamed calls in [start, end)."""
    index = 1 if by == "model" else 0
    total = new_stream_row()
    groups: dict[str, Row] = {}
    for _start, bucket in store.buckets_in(start, end):
        for key, row in bucket.items():
            acc = groups.get(key[index])
            if acc is None:
                acc = groups[key[index]] = new_stream_row()
            merge_stream_row(acc, row)
            merge_stream_row(total, row)
    return _stats(total), {name: _stats(r) for name, r in groups.items()}


def _stats(row: Row) -> StreamStats:
    return StreamStats(
        row[S_STREAMS], LatencyHistogram(dict(row[S_TTFT])), LatencyHistogram(dict(row[S_TPS]))
    )


def ttft_by_key(store: TieredStore) -> dict[tuple[str, str], tuple[int, dict[int, int]]]:
    """All-time streamed calls and TTFT bucket counts per (feature, model): the metrics'
    histogram (``views.metrics``) counts them as it counts latency."""
    out: dict[tuple[str, str], tuple[int, dict[int, int]]] = {}
    for _start, bucket in store.buckets_in(None, None):
        for key, row in bucket.items():
            k = (key[0], key[1])
            n, h = out.get(k, (0, {}))
            merge_into(h, row[S_TTFT])
            out[k] = (n + row[S_STREAMS], h)
    return out
