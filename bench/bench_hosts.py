"""What the host dimension costs: ingest CPU with one host against the same lines from two.

Run: python bench/bench_hosts.py   (about 15 s)

With one host the follower's sink is ``engine.ingest`` itself, so this only shows the cost a
fleet pays: each batch aggregated by the engine and by its host's engine (``engine.hosts``).
Best of three CPU times (user + system) of this process, 60,000 generated calls in batches of
1,000, the ratio printed from one run.
"""

from __future__ import annotations

import resource
import sys
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from claude_top.core.clock import FixedClock
from claude_top.engine.engine import Engine
from claude_top.engine.hosts import ByHost
from claude_top.sources.batches import Batch
from loggen import T0, random_calls

LINES = [orjson.dumps(d) for d in random_calls(60_000, seed=9, span=86400)]


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def run(hosts: int) -> float:
    engine = Engine(clock=FixedClock(T0 + 2 * 86400))
    by_host = ByHost(engine, [f"h{i}" for i in range(hosts)])
    sources = [f"ssh://h{i}/app.log" for i in range(hosts)]
    t = cpu()
    for k in range(0, len(LINES), 1000):
        by_host.sink(Batch(sources[(k // 1000) % hosts], k + 1, LINES[k : k + 1000]))
    return cpu() - t


def main() -> None:
    one = min(run(1) for _ in range(3))
    two = min(run(2) for _ in range(3))
    print(f"one host: {one:.2f} s CPU; two hosts: {two:.2f} s CPU; ratio {two / one:.2f}x")


if __name__ == "__main__":
    main()
