"""Write a large, realistic synthetic call log for benchmarks.

Usage: ``python bench/make_log.py OUT --lines 1000000 --days 8 --users 5000 --seed 1``

Two options stretch one dimension for the memory rows of the benchmark: ``--features N`` renames
each line's feature to one of N (``feature_000`` ..., line ``i`` gets ``i * 7919 mod N``, so every
minute sees many of them), and ``--distinct-users`` gives every line a user of its own (1M lines,
1M users). Both rewrite the generated line and change nothing else in it.

It uses the same generator as ``claude-top demo`` and the tests (``claude_top.demo``), so the
benchmark measures the tool on the traffic it is designed for: skewed users, a diurnal curve,
cache-heavy and cache-free features, and a few incidents. The line count is exact and the output
is a pure function of the arguments (``--end`` pins the time range; by default it ends now, so
"today" windows have data).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

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
    with open(args.out, "wb") as f:
        lines = Generator(config).history(end, total=args.lines)
        if args.features or args.distinct_users:
            lines = relabel(lines, args.features, args.distinct_users)
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
    elapsed = time.perf_counter() - started
    print(
        f"{args.out}: {written} lines, {size / 1e6:.1f} MB, {elapsed:.1f} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
