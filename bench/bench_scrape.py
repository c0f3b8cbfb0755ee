"""What a Prometheus scrape of ``serve`` costs: CPU of one ``/metrics`` exposition.

Run: python bench/bench_scrape.py   (about 20 s)

The demo's 8 days of history are read into an engine, counting starts, and the collector's
exposition is built three times after a first one (which fills the caches a running ``serve``
keeps); the best of the three CPU times (user + system) of this process is printed, with the
rules' evaluation over the same engine for comparison.
"""

from __future__ import annotations

import os
import resource
import tempfile
import time
from collections.abc import Callable

from claude_top.commands.common import read_all
from claude_top.core.clock import SystemClock
from claude_top.demo import DemoConfig, write_history
from claude_top.engine.engine import Engine
from claude_top.rules.evaluate import Alerts
from claude_top.views.metrics.collector import EngineCollector, exposition


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def best_of_3(run: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(3):
        t = cpu()
        run()
        best = min(best, cpu() - t)
    return best


def main() -> None:
    path = os.path.join(tempfile.mkdtemp(), "demo.log")
    lines = write_history(path, time.time(), DemoConfig(seed=7, rate=5))
    engine = Engine(clock=SystemClock())
    read_all(engine, [path])
    collector = EngineCollector(engine, firing=lambda: [])
    collector.start_counting()
    alerts = Alerts(engine)
    text = exposition(collector)
    series = sum(1 for x in text.splitlines() if x and not x.startswith("#"))
    features = len(engine.query(None, None).groups)
    print(f"{lines:,} lines of history, {features} features, {series} series, {len(text):,} bytes")
    print(f"scrape: {best_of_3(lambda: exposition(collector)) * 1000:.0f} ms CPU (best of 3)")
    print(
        f"rules:  {best_of_3(lambda: alerts.evaluate(time.time())) * 1000:.0f} ms CPU (best of 3)"
    )


if __name__ == "__main__":
    main()
