"""Write a large, realistic synthetic call log for benchmarks.

Usage: ``python bench/make_log.py OUT --lines 1000000 --days 8 --users 5000 --seed 1``

Two options stretch one dimension for the memory rows of the benchmark: ``--features N`` renames
each line's feature to one of N (``feature_000`` ..., line ``i`` gets ``i * 7919 mod N``, so every
minute sees many of them), and ``--distinct-users`` gives every line a user of its own (1M lines,
1M users). Both rewrite the generated line and change nothing else in it. ``--shape anthropic``
or ``--shape litellm`` writes the same calls as those apps log them (the presets' shapes).

It uses the same generator as ``claude-top demo`` and the tests (``claude_top.demo``), so the
benchmark measures the tool on the traffic it is designed for: skewed users, a diurnal curve,
cache-heavy and cache-free features, and a few incidents. The line count is exact and the output
is a pure function of the arguments (``--end`` pins the time range; by default it ends now, so
"today" windows have data).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

try:
    from claude_top.demo import DemoConfig, Generator
except ImportError:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
    from claude_top.demo import DemoConfig, Generator

CHUNK = 16384


def _parse_end(text: str) -> float:
    """ISO 8601 (naive means UTC) or epoch seconds."""
    try:
        return float(text)
    except ValueError:
        pass
    dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def relabel(lines: Iterator[bytes], features: int | None, distinct_users: bool) -> Iterator[bytes]:
    """The lines with their feature and/or user replaced (see the module's docstring)."""
    for i, line in enumerate(lines):
        obj = orjson.loads(line)
        if features:
            obj["feature"] = f"feature_{i * 7919 % features:03d}"
        if distinct_users:
            obj["user_id"] = f"u{i:08d}"
        yield orjson.dumps(obj)


def as_anthropic(obj: dict[str, Any]) -> dict[str, Any]:
    """A native line as an app logs ``response.model_dump()`` beside its own fields (the
    ``anthropic`` preset): ``id``, ``model``, ``stop_reason``, ``usage`` with uncached input,
    ``metadata.user_id``; a failed call's SDK error type and status."""
    out: dict[str, Any] = {
        "timestamp": obj["timestamp"],
        "feature": obj["feature"],
        "latency_ms": obj["latency_ms"],
        "metadata": {"user_id": obj["user_id"]},
        "id": obj["request_id"],
        "type": "message",
        "role": "assistant",
        "model": obj["model"],
        "stop_reason": obj["stop_reason"],
        "usage": {
            "input_tokens": obj["input_tokens"],
            "output_tokens": obj["output_tokens"],
            "cache_read_input_tokens": obj["cached_tokens"],
            "cache_creation_input_tokens": obj.get("cache_creation_tokens", 0),
            "service_tier": "standard",
        },
    }
    if obj.get("error"):
        out["error"] = {"type": "error", "error": {"type": obj["error"]}}
        out["status_code"] = obj["error_status"]
    return out


_FINISH = {"max_tokens": "length", "end_turn": "stop", "tool_use": "tool_calls"}
"""Stop reasons in OpenAI's words, as LiteLLM logs them (the preset maps them back)."""


def as_litellm(obj: dict[str, Any]) -> dict[str, Any]:
    """A native line as LiteLLM's ``StandardLoggingPayload`` (the ``litellm`` preset): epoch
    ``startTime`` / ``endTime``, ``prompt_tokens`` with the cache inside, ``usage_object``'s
    cache counts, ``status``, ``error_information``, ``end_user``, ``request_tags``, the finish
    reason in OpenAI's words."""
    start = datetime.fromisoformat(obj["timestamp"]).timestamp()
    cached, written = obj["cached_tokens"], obj.get("cache_creation_tokens", 0)
    failed = bool(obj.get("error"))
    stop = obj["stop_reason"]
    return {
        "id": obj["request_id"],
        "call_type": "acompletion",
        "status": "failure" if failed else "success",
        "prompt_tokens": obj["input_tokens"] + cached + written,
        "completion_tokens": obj["output_tokens"],
        "startTime": start,
        "endTime": start + obj["latency_ms"] / 1000,
        "model": obj["model"],
        "metadata": {
            "usage_object": {
                "cache_read_input_tokens": cached,
                "cache_creation_input_tokens": written,
            }
        },
        "request_tags": [obj["feature"]],
        "end_user": obj["user_id"],
        "response": {"choices": [{"index": 0, "finish_reason": _FINISH.get(stop, stop)}]},
        "error_information": (
            {"error_class": obj["error"], "error_code": str(obj["error_status"] or "")}
            if failed
            else None
        ),
    }


SHAPES = {"anthropic": as_anthropic, "litellm": as_litellm}
"""``--shape``: the same calls as other apps log them, read by claude-top's presets."""


def reshape(lines: Iterator[bytes], shape: str) -> Iterator[bytes]:
    convert = SHAPES[shape]
    for line in lines:
        yield orjson.dumps(convert(orjson.loads(line)))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("out", help="output file (overwritten)")
    p.add_argument("--lines", type=int, default=1_000_000, help="exact number of lines")
    p.add_argument("--days", type=int, default=8, help="days of history the lines span")
    p.add_argument("--users", type=int, default=5000, help="number of ordinary user ids")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--end",
        type=_parse_end,
        default=None,
        help="end of the range (ISO 8601 UTC or epoch seconds); default: now",
    )
    p.add_argument("--features", type=int, default=None, help="spread lines over N features")
    p.add_argument("--distinct-users", action="store_true", help="a user of its own per line")
    p.add_argument("--no-incidents", action="store_true", help="steady traffic only")
    p.add_argument("--shape", choices=sorted(SHAPES), help="write the calls in a preset's shape")
    args = p.parse_args(argv)
    if args.lines < 0 or args.days < 1 or args.users < 1 or (args.features or 1) < 1:
        p.error("--lines must be >= 0, --days, --users and --features >= 1")

    end = args.end if args.end is not None else float(int(time.time()))
    config = DemoConfig(
        seed=args.seed, users=args.users, history_days=args.days, incidents=not args.no_incidents
    )
    started = time.perf_counter()
    written = 0
    size = 0
    chunk: list[bytes] = []
    # Written beside the target and renamed at the end: the benchmarks make a log only when
    # it is missing, so an interrupted run must not leave a short one under the real name.
    partial = f"{args.out}.partial"
    with open(partial, "wb") as f:
        lines = Generator(config).history(end, total=args.lines)
        if args.features or args.distinct_users:
            lines = relabel(lines, args.features, args.distinct_users)
        if args.shape:
            lines = reshape(lines, args.shape)
        for line in lines:
            chunk.append(line)
            if len(chunk) >= CHUNK:
                data = b"\n".join(chunk) + b"\n"
                f.write(data)
                written += len(chunk)
                size += len(data)
                chunk.clear()
        if chunk:
            data = b"\n".join(chunk) + b"\n"
            f.write(data)
            written += len(chunk)
            size += len(data)
    os.replace(partial, args.out)
    elapsed = time.perf_counter() - started
    print(
        f"{args.out}: {written} lines, {size / 1e6:.1f} MB, {elapsed:.1f} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
