"""The status parts of a frame: line health and the history-loading progress.

Kept apart from ``dashboard`` (which reads them into one frame) so that module stays about the
frame itself; both are plain reads of the engine's and the follower's counters.
"""

from __future__ import annotations

from typing import Any

from claude_top.core.stats import LineStats, pct
from claude_top.engine.engine import Engine
from claude_top.ingest.presets import NATIVE
from claude_top.views.live.rows import HistoryProgress, LineHealth
from claude_top.views.live.thresholds import Thresholds


def progress_row(p: Any) -> HistoryProgress | None:
    if p is None:
        return None
    lines = int(p.lines)
    elapsed = float(p.elapsed_s)
    total = p.total_bytes
    nbytes = int(p.bytes)
    frac = min(1.0, nbytes / total) if total else None
    rate = lines / elapsed if elapsed > 0 else 0.0
    eta = None
    if frac is not None and 0 < frac < 1 and elapsed > 0:
        eta = elapsed * (1 - frac) / frac
    return HistoryProgress(lines, nbytes, elapsed, bool(p.history_done), total, frac, rate, eta)


def line_health(engine: Engine, th: Thresholds) -> LineHealth:
    lines = engine.lines.copy()
    return LineHealth(
        lines.records,
        lines.foreign,
        lines.rejected,
        tuple(sorted(lines.by_reason.items(), key=lambda kv: (-kv[1], kv[0]))),
        tuple(lines.examples),
        pct(lines.rejected, lines.lines),
        th.rejected_lines.of_lines(lines.lines, lines.rejected),
        engine.counts(None, None).no_user_calls,
        lines.unmapped,
        lines.unmapped_hint,
        _format_label(lines),
    )


def _format_label(lines: LineStats) -> str:
    """The sources' format(s) when one is not the native format, else nothing to say."""
    names = sorted(set(lines.formats.values()))
    if not names or names == [NATIVE]:
        return ""
    return ", ".join(names) + (" (detected)" if lines.format_detected else "")
