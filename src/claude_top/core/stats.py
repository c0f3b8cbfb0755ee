"""Answers the engine gives: the numbers of one group over one window, and what the lines were.

Views (TUI panels, ``summary``, ``check``) only ever see these objects, never the engine's
buckets, so a panel is a pure function of a snapshot and every view shows the same numbers.
``LineStats`` counts what became of every line read (records, foreign lines, rejections).
"""

from __future__ import annotations

from collections import deque

from msgspec import Struct, field

from claude_top.core.histogram import LatencyHistogram

EXAMPLES_KEPT = 20


def pct(part: int | float, whole: int | float) -> float:
    return part / whole * 100.0 if whole else 0.0


class GroupStats(Struct, frozen=True):
    """Counters of one feature / model / user (or everything) over one window."""

    name: str
    calls: int = 0
    errors: int = 0
    rate_limited: int = 0
    """Calls that failed with HTTP 429."""
    overloaded: int = 0
    """Calls that failed with HTTP 529."""
    errors_by_type: dict[str, int] = field(default_factory=dict)
    """Error type and status, e.g. ``"RateLimitError 429"`` -> count."""
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_5m_tokens: int = 0
    cache_write_1h_tokens: int = 0
    latency_sum_ms: int = 0
    latency_clamped: int = 0
    max_tokens_stops: int = 0
    no_user_calls: int = 0
    cost_usd: float = 0.0
    unpriced_calls: int = 0
    unpriced_models: tuple[str, ...] = ()
    latency: LatencyHistogram | None = None
    """None where latency is not kept (per-user groups)."""

    @property
    def error_rate_pct(self) -> float:
        return pct(self.errors, self.calls)

    @property
    def successes(self) -> int:
        return self.calls - self.errors

    @property
    def avg_latency_ms(self) -> float:
        return self.latency_sum_ms / self.calls if self.calls else 0.0

    def latency_pct(self, p: float) -> int | None:
        return self.latency.percentile(p) if self.latency is not None else None

    @property
    def p50_ms(self) -> int | None:
        return self.latency_pct(50)

    @property
    def p95_ms(self) -> int | None:
        return self.latency_pct(95)

    @property
    def p99_ms(self) -> int | None:
        return self.latency_pct(99)

    @property
    def cache_write_tokens(self) -> int:
        return self.cache_write_5m_tokens + self.cache_write_1h_tokens

    @property
    def prompt_tokens(self) -> int:
        return self.input_tokens + self.cache_read_tokens + self.cache_write_tokens

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.output_tokens

    @property
    def cache_hit_rate_pct(self) -> float:
        """Cache reads over every input token; the API's input_tokens excludes cached ones."""
        return pct(self.cache_read_tokens, self.prompt_tokens)

    @property
    def uses_cache(self) -> bool:
        return self.cache_read_tokens > 0 or self.cache_write_tokens > 0

    @property
    def max_tokens_rate_pct(self) -> float:
        return pct(self.max_tokens_stops, self.calls)

    @property
    def cost_per_call(self) -> float:
        return self.cost_usd / self.calls if self.calls else 0.0


class Summary(Struct, frozen=True):
    """Every group of one dimension over one window, plus the total."""

    start: float | None
    end: float | None
    by: str
    total: GroupStats
    groups: dict[str, GroupStats]


class LineStats(Struct):
    """What became of every line read: a record, a foreign line, an unmapped line (a call in a
    shape the active mapping does not read), or a rejection with a reason."""

    records: int = 0
    foreign: int = 0
    rejected: int = 0
    by_reason: dict[str, int] = field(default_factory=dict)
    examples: deque[tuple[str, int, str, str]] = field(
        default_factory=lambda: deque(maxlen=EXAMPLES_KEPT)
    )
    """(source, line number, reason, start of the line) of the most recent rejections."""
    unmapped: int = 0
    unmapped_by_preset: dict[str, int] = field(default_factory=dict)
    """Unmapped lines by the preset that reads them (the hint: run with ``--preset NAME``)."""
    formats: dict[str, str] = field(default_factory=dict)
    """The format each source is read in (a preset's name, detected or configured)."""
    format_detected: bool = False
    """Whether ``formats`` were detected from the sources' first lines (no preset named)."""

    @property
    def lines(self) -> int:
        return self.records + self.foreign + self.rejected + self.unmapped

    def unmap(self, hint: str) -> None:
        self.unmapped += 1
        self.unmapped_by_preset[hint] = self.unmapped_by_preset.get(hint, 0) + 1

    @property
    def unmapped_hint(self) -> str | None:
        """The preset most unmapped lines look like, or None when there are none."""
        if not self.unmapped_by_preset:
            return None
        return max(sorted(self.unmapped_by_preset), key=self.unmapped_by_preset.__getitem__)

    def reject(self, source: str, lineno: int, reason: str, raw: bytes) -> None:
        self.rejected += 1
        self.by_reason[reason] = self.by_reason.get(reason, 0) + 1
        self.examples.append((source, lineno, reason, raw[:200].decode("utf-8", "replace")))

    def copy(self) -> LineStats:
        out = LineStats(self.records, self.foreign, self.rejected, dict(self.by_reason))
        out.examples.extend(self.examples)
        out.unmapped = self.unmapped
        out.unmapped_by_preset = dict(self.unmapped_by_preset)
        out.formats = dict(self.formats)
        out.format_detected = self.format_detected
        return out

    def absorb(self, other: LineStats, lineno_offset: int = 0) -> None:
        """Add another reader's counts (a worker's half of a file, its line numbers shifted)."""
        self.records += other.records
        self.foreign += other.foreign
        self.rejected += other.rejected
        for reason, n in other.by_reason.items():
            self.by_reason[reason] = self.by_reason.get(reason, 0) + n
        for source, lineno, reason, text in other.examples:
            self.examples.append((source, lineno + lineno_offset, reason, text))
        self.unmapped += other.unmapped
        for hint, n in other.unmapped_by_preset.items():
            self.unmapped_by_preset[hint] = self.unmapped_by_preset.get(hint, 0) + n
        for source, name in other.formats.items():
            self.formats.setdefault(source, name)
        self.format_detected = self.format_detected or other.format_detected
