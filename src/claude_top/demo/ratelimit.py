"""The ``anthropic-ratelimit-*`` values the live demo's lines carry, as the API would report them.

The headroom panel reads limits and remaining counts from the lines the instrument wrapper
writes; for the demo to show it, the live stream adds them too. Only the live stream does: the
history and the benchmark keep the article's plain shape.
"""

from __future__ import annotations

from collections import deque

from claude_top.core.schema import CallLine

from .profile import DEMO_LIMITS

__all__ = ["RateLimitMeter"]


class RateLimitMeter:
    """What each model family used in the last 60 s, against ``DEMO_LIMITS`` scaled to ``rate``."""

    def __init__(self, rate: float) -> None:
        self._scale = max(rate, 0.1) / 5.0
        self._calls: dict[str, deque[tuple[float, int, int, int]]] = {}
        self._used: dict[str, list[int]] = {}

    def apply(self, rec: CallLine, ts: float) -> None:
        """Add the limit and remaining values to ``rec`` (a call at ``ts``, in time order).

        Limit is the family's ``DEMO_LIMITS``; remaining is the limit minus what was sent in the
        60 s before, as the API's token bucket roughly reports it. A 429 already says how little
        was left: that value is kept.
        """
        model = rec["model"]
        family = next((f for f in DEMO_LIMITS if f in model), None)
        if family is None:
            return
        calls = self._calls.setdefault(family, deque())
        used = self._used.setdefault(family, [0, 0, 0])
        while calls and calls[0][0] <= ts - 60.0:
            _, r, i, o = calls.popleft()
            used[0] -= r
            used[1] -= i
            used[2] -= o
        cost = (1, rec["input_tokens"] + rec.get("cache_creation_tokens", 0), rec["output_tokens"])
        calls.append((ts, *cost))
        for k in range(3):
            used[k] += cost[k]
        requests, input_tokens, output_tokens = (
            max(1, round(base * self._scale)) for base in DEMO_LIMITS[family]
        )
        rec["ratelimit_requests_limit"] = requests
        rec.setdefault("ratelimit_requests_remaining", max(0, requests - used[0]))
        rec["ratelimit_input_tokens_limit"] = input_tokens
        rec.setdefault("ratelimit_input_tokens_remaining", max(0, input_tokens - used[1]))
        rec["ratelimit_output_tokens_limit"] = output_tokens
        rec.setdefault("ratelimit_output_tokens_remaining", max(0, output_tokens - used[2]))
        if rec["error_status"] == 429:
            rec["ratelimit_input_tokens_remaining"] = min(
                rec["ratelimit_input_tokens_remaining"], rec.get("ratelimit_tokens_remaining", 0)
            )
