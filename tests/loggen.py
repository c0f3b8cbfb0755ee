"""Small deterministic log-line builders for tests (independent of claude_top.demo)."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import orjson

from claude_top.core.schema import CallLine

T0 = datetime(2026, 11, 20, 0, 0, tzinfo=UTC).timestamp()


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds")


def base_call(ts: float) -> CallLine:
    """A plain successful call at ``ts``, every key checked against the schema."""
    return {
        "timestamp": iso(ts),
        "request_id": f"req-{int(ts * 1000)}",
        "user_id": "u1",
        "feature": "chat",
        "model": "claude-sonnet-4-6",
        "input_tokens": 1000,
        "output_tokens": 200,
        "cached_tokens": 0,
        "latency_ms": 1500,
        "stop_reason": "end_turn",
        "error": None,
        "error_status": None,
    }


def call(ts: float, **over: Any) -> dict[str, Any]:
    """``base_call(ts)`` with keys replaced or added: any key, any value (tests build bad lines)."""
    return {**base_call(ts), **over}


def line(ts: float, **over: Any) -> bytes:
    return orjson.dumps(call(ts, **over))


def random_calls(
    n: int, seed: int = 1, start: float = T0, span: float = 3 * 86400
) -> list[CallLine]:
    rnd = random.Random(seed)
    feats = ["chat", "doc_summary", "email_draft", "search"]
    models = ["claude-sonnet-4-6", "claude-haiku-4-5", "claude-opus-4-5-20251101", "mystery-model"]
    out: list[CallLine] = []
    for i in range(n):
        ts = start + span * i / n
        err = rnd.random() < 0.05
        status = rnd.choice([429, 529, 500, None]) if err else None
        d = base_call(ts)
        d["request_id"] = f"r{i}"
        d["user_id"] = f"u{int(rnd.paretovariate(1.5)) % 50}"
        d["feature"] = rnd.choice(feats)
        d["model"] = rnd.choice(models)
        d["input_tokens"] = rnd.randint(0, 5000)
        d["output_tokens"] = 0 if err else rnd.randint(1, 2000)
        d["cached_tokens"] = rnd.choice([0, 0, 1024, 4096])
        d["latency_ms"] = int(rnd.lognormvariate(7.3, 0.8))
        d["stop_reason"] = (
            "error" if err else rnd.choice(["end_turn"] * 20 + ["max_tokens", "tool_use"])
        )
        d["error"] = ("RateLimitError" if status == 429 else "APIError") if err else None
        d["error_status"] = status
        if rnd.random() < 0.2:
            d["cache_creation_tokens"] = rnd.randint(0, 3000)
        out.append(d)
    return out
