"""Where one process's ingest time goes, per line: parsing against decoding against counting.

In one process, with the garbage collector off (as ``summary`` reads), over the first
``--lines`` lines of a log (default: the ``bench_summary.py`` log), CPU microseconds per line of:
``orjson.loads`` alone; the ``msgspec`` decode of the fast decoder's ``Line`` struct alone (lines
without an error, which it takes); the whole fast decoder (``ingest.fast.decode_batch``: the
struct, the timestamp, the record tuple); the accumulate step over those records; the block path
(``engine.block.take_block``: decoding and counting in one pass, the other lines per line); and
the per-line and block paths with per-user rows. Best of ``--repeat`` runs each.

    python bench/bench_ingest_split.py [--log FILE] [--lines 300000]
"""

from __future__ import annotations

import argparse
import gc
import time
from collections.abc import Callable
from itertools import islice

import orjson

from claude_top.core.stats import LineStats
from claude_top.engine.block import take_block
from claude_top.engine.engine import DECODE_CHUNK, Engine
from claude_top.ingest import fast


def best(repeat: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        t = time.process_time()
        fn()
        times.append(time.process_time() - t)
    return min(times)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--log", default="/tmp/claude-top-bench.log")
    p.add_argument("--lines", type=int, default=300_000)
    p.add_argument("--repeat", type=int, default=3)
    a = p.parse_args()
    with open(a.log, "rb") as f:
        lines = [ln.rstrip(b"\n") for ln in islice(f, a.lines)]
    n = len(lines)
    chunks = [lines[i : i + DECODE_CHUNK] for i in range(0, n, DECODE_CHUNK)]
    ok = [ln for ln in lines if b'"error":null' in ln]
    gc.disable()

    def parse() -> None:
        for ln in lines:
            orjson.loads(ln)

    def struct() -> None:
        decode = fast._decode
        for ln in ok:
            decode(ln)

    records: list[list[object]] = []

    def decoder() -> None:
        stats = LineStats()
        records[:] = [fast.decode_batch(c, "bench", 1, stats) for c in chunks]

    def accumulate() -> None:
        engine = Engine(track_users=False)
        now = time.time() + 10 * 86400  # past the log: nothing for the headroom tracker
        for recs in records:
            engine.agg.accumulate(recs, now)

    def block_path() -> None:
        engine = Engine(track_users=False)
        now = time.time() + 10 * 86400
        for at, c in enumerate(chunks):
            take_block(engine.agg, c, "bench", at * DECODE_CHUNK + 1, now)

    def block_users() -> None:
        engine = Engine(track_users=True)
        now = time.time() + 10 * 86400
        for at, c in enumerate(chunks):
            take_block(engine.agg, c, "bench", at * DECODE_CHUNK + 1, now)

    def per_line_users() -> None:
        engine = Engine(track_users=True)
        now = time.time() + 10 * 86400
        for c in chunks:
            engine.agg.accumulate(fast.decode_batch(c, "bench", 1, engine.lines), now)

    us = 1e6
    print(f"{a.log}: first {n} lines, CPU per line, best of {a.repeat}")
    print(f"orjson.loads:                 {best(a.repeat, parse) / n * us:5.2f} us")
    print(f"msgspec Line decode ({len(ok)}):  {best(a.repeat, struct) / len(ok) * us:5.2f} us")
    print(f"fast.decode_batch:            {best(a.repeat, decoder) / n * us:5.2f} us")
    print(f"accumulate (no users):        {best(a.repeat, accumulate) / n * us:5.2f} us")
    print(f"block path, decode + count:   {best(a.repeat, block_path) / n * us:5.2f} us")
    print(f"per-line path, with users:    {best(a.repeat, per_line_users) / n * us:5.2f} us")
    print(f"block path, with users:       {best(a.repeat, block_users) / n * us:5.2f} us")


if __name__ == "__main__":
    main()
