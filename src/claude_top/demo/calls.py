"""One demo call: a seeded draw of what a call of the imaginary app logs, as a ``CallLine``.

This is the benchmark generator's hot path (a million lines per run), so draws are kept to a
minimum and the lookups are hoisted; the line is a ``CallLine`` so the type checker holds every
key to the log schema. The key order is part of the seeded bytes: do not reorder.
"""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime

from claude_top.core.schema import CallLine

from .incidents import RUNAWAY, SPIKE, STORM, Incident
from .profile import (
    BASE_ERROR_RATE,
    ERRORS,
    FEATURE_BY_NAME,
    FEATURES,
    MODEL_SPEED,
    MU,
    MU_SPIKE_S,
    OPUS,
    TIMEOUT_MS,
    Users,
    pick_feature,
)

__all__ = ["CallMaker", "uuid4"]


def uuid4(rng: random.Random) -> str:
    """A uuid4 string from the seeded RNG (``uuid.uuid4`` would read the OS entropy pool)."""
    n = rng.getrandbits(128)
    n = (n & ~(0xF000 << 64)) | (0x4000 << 64)
    n = (n & ~(0xC000 << 48)) | (0x8000 << 48)
    h = f"{n:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class CallMaker:
    """Draws calls for ``users``; keeps the minute part of the last timestamp (lines come in order)."""

    def __init__(self, users: Users) -> None:
        self.users = users
        self._ts_min = -1
        self._ts_prefix = ""

    def timestamp(self, ts: float) -> str:
        """ISO 8601 UTC, milliseconds; the minute part is cached because lines come in order."""
        ms_total = math.floor(ts * 1000.0)
        minute, ms = divmod(ms_total, 60000)
        if minute != self._ts_min:
            self._ts_min = minute
            self._ts_prefix = datetime.fromtimestamp(minute * 60, UTC).strftime("%Y-%m-%dT%H:%M:")
        return f"{self._ts_prefix}{ms // 1000:02d}.{ms % 1000:03d}+00:00"

    def call(
        self,
        rng: random.Random,
        ts: float,
        feature: str | None,
        user: str | None,
        active: tuple[Incident, ...],
    ) -> CallLine:
        """One call at ``ts``; ``feature``/``user`` force them, ``active`` are the incidents on."""
        rand = rng.random
        gauss = rng.gauss
        exp = math.exp
        fidx: int | None
        if user is None:
            user, fidx = self.users.pick(rng, ts)
        else:
            fidx = None
        if feature is not None:
            fidx = FEATURE_BY_NAME[feature]
        elif fidx is None:
            fidx = pick_feature(rand())
        f = FEATURES[fidx]
        mu_in, mu_out, mu_hist, mu_write, mu_lat = MU[fidx]
        fname = f.name

        spike = storm = runaway = None
        for inc in active:
            if inc.feature == fname and inc.start <= ts < inc.end:
                if inc.kind == SPIKE:
                    spike = inc
                elif inc.kind == STORM:
                    storm = inc
                elif inc.kind == RUNAWAY and inc.user == user:
                    runaway = inc

        models = f.models
        if runaway is not None:
            model = models[0][0] if models[0][0] == OPUS else OPUS
        elif len(models) == 1:
            model = models[0][0]
        else:
            r = rand()
            model = models[-1][0]
            for name, share in models:
                if r < share:
                    model = name
                    break
                r -= share

        # Failure first: a failed call has no usage, so every token count is zero.
        error: str | None = None
        status: int | None = None
        p_err = BASE_ERROR_RATE
        if storm is not None:
            p_err = 0.75 if user == storm.user else 0.5
        elif spike is not None:
            p_err = 0.08
        if rand() < p_err:
            if storm is not None:
                error, status = "RateLimitError", 429
            elif spike is not None:
                error, status = (
                    ("APITimeoutError", None) if rand() < 0.6 else ("OverloadedError", 529)
                )
            else:
                r = rand()
                for name, code, cum in ERRORS:
                    if r < cum:
                        error, status = name, code
                        break
                else:  # pragma: no cover - the last cumulative probability is 1.0
                    error, status = "OverloadedError", 529

        if error is not None:
            return self._failure(rng, ts, user, fname, model, error, status, storm, spike)

        if runaway is not None:
            # A stuck agent: every turn re-sends a context that grows with each tool result.
            progress = (ts - runaway.start) / max(runaway.end - runaway.start, 1e-9)
            cached = int((20000 + 130000 * progress) * (0.95 + 0.1 * rand()))
            write = int(exp(gauss(8.0, 0.4)))  # median ~3k tokens of new tool output
            inp = int(exp(gauss(6.5, 0.5)))
            out = int(exp(gauss(5.8, 0.5)))
            stop = "tool_use" if rand() < 0.92 else "end_turn"
            latency = exp(gauss(1.0, 0.35)) * (1.0 + cached / 100000.0)
            return self._success(
                rng, ts, user, fname, model, inp, out, cached, write, latency, stop
            )

        inp = int(exp(gauss(mu_in, f.input_sigma))) + 8
        r = rand()
        if r < f.p_max_tokens:
            out = f.max_tokens
            stop = "max_tokens"
        else:
            out = min(int(exp(gauss(mu_out, f.output_sigma))) + 1, f.max_tokens - 1)
            stop = "tool_use" if r < f.p_max_tokens + f.p_tool_use else "end_turn"

        cached = write = 0
        if f.system_cached:
            prefix = f.system_cached + int(rand() * 200)
            if f.history_median:
                prefix += min(int(exp(gauss(mu_hist, 0.9))), 60000)  # compaction caps a chat
            r = rand()
            if r < f.p_cold:
                write = prefix
            else:
                cached = prefix
                if r < f.p_cold + f.p_write:
                    write = int(exp(gauss(mu_write, 0.6)))

        latency = (
            exp(gauss(mu_lat, f.latency_sigma))
            * MODEL_SPEED[model]
            * (0.7 + 0.3 * (out / f.output_median) ** 0.5)
        )
        if rand() < 0.01:  # the tail: a slow replica, a long queue
            latency *= 2.0 + 3.0 * rand()
        if spike is not None:
            latency += exp(gauss(MU_SPIKE_S, 0.45))
        return self._success(rng, ts, user, fname, model, inp, out, cached, write, latency, stop)

    def _failure(
        self,
        rng: random.Random,
        ts: float,
        user: str,
        feature: str,
        model: str,
        error: str,
        status: int | None,
        storm: Incident | None,
        spike: Incident | None,
    ) -> CallLine:
        """A failed call: no usage; a 429 also tells how little of the limit was left."""
        request_id = uuid4(rng)
        latency_ms = _error_latency(rng, error, spike is not None)
        rec = self._line(ts, request_id, user, feature, model, (0, 0, 0, 0), latency_ms, "error")
        rec["error"] = error
        rec["error_status"] = status
        if status == 429:
            rand = rng.random
            tight = storm is not None
            rec["ratelimit_requests_remaining"] = int(rand() * (4 if tight else 2))
            rec["ratelimit_tokens_remaining"] = int(rand() * (1500 if tight else 8000))
            rec["retry_after_s"] = 1 + int(rand() * (20 if tight else 8))
        return rec

    def _success(
        self,
        rng: random.Random,
        ts: float,
        user: str,
        feature: str,
        model: str,
        inp: int,
        out: int,
        cached: int,
        write: int,
        latency_s: float,
        stop: str,
    ) -> CallLine:
        latency_ms = min(int(latency_s * 1000.0) + 80, TIMEOUT_MS - 1)
        tokens = (inp, out, cached, write)
        return self._line(ts, uuid4(rng), user, feature, model, tokens, latency_ms, stop)

    def _line(
        self,
        ts: float,
        request_id: str,
        user: str,
        feature: str,
        model: str,
        tokens: tuple[int, int, int, int],
        latency_ms: int,
        stop: str,
    ) -> CallLine:
        """The article's twelve keys plus the 5-minute cache writes, in the order they are written
        (``tokens``: input, output, cache read, cache write); a success's ``error`` is null."""
        inp, out, cached, write = tokens
        return {
            "timestamp": self.timestamp(ts),
            "request_id": request_id,
            "user_id": user,
            "feature": feature,
            "model": model,
            "input_tokens": inp,
            "output_tokens": out,
            "cached_tokens": cached,
            "cache_creation_tokens": write,
            "latency_ms": latency_ms,
            "stop_reason": stop,
            "error": None,
            "error_status": None,
        }


def _error_latency(rng: random.Random, error: str, spike: bool) -> int:
    """Failures are quick (the server refuses at once) except timeouts, which wait them out."""
    if error == "APITimeoutError":
        return TIMEOUT_MS + int(rng.random() * 400)
    if error == "RateLimitError":
        return int(rng.lognormvariate(math.log(120.0), 0.5)) + 20
    if error == "APIConnectionError":
        return int(rng.lognormvariate(math.log(1500.0), 0.8)) + 20
    base = rng.lognormvariate(math.log(700.0), 0.7)
    return int(base * (8.0 if spike else 1.0)) + 20
