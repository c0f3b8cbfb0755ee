"""The header's "lines/s": lines read per second over the last few seconds of live reading.

Sampled on the UI's timer from the engine's line count. Two things made the old one-second
difference lie: right after history loaded, the last second still held the history's lines
("973 lines/s" on a quiet log), and one second is too short to be steady. So the meter forgets
everything when the load starts or ends, and measures over a window of ``WINDOW_S``.
"""

from __future__ import annotations

from collections import deque

WINDOW_S = 10.0
MIN_SPAN_S = 1.0
"""No figure from less than this much time: 0 until then."""


class IngestRate:
    """Lines per second over the last ``window_s`` seconds, history loading excluded."""

    def __init__(self, window_s: float = WINDOW_S) -> None:
        self.window_s = window_s
        self._samples: deque[tuple[float, int]] = deque()
        self._loading: bool | None = None
        self.value = 0.0

    def sample(self, t: float, lines: int, loading: bool) -> float:
        """Record the line count at monotonic time ``t``; returns the rate now."""
        if loading != self._loading:  # the history load began or ended: start afresh
            self._samples.clear()
            self._loading = loading
            self.value = 0.0
        samples = self._samples
        samples.append((t, lines))
        while len(samples) > 2 and t - samples[1][0] >= self.window_s:
            samples.popleft()
        t0, n0 = samples[0]
        if t - t0 >= MIN_SPAN_S:
            self.value = max(0.0, (lines - n0) / (t - t0))
        return self.value
