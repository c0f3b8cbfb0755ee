"""What following costs: delivery latency and CPU, the two numbers a `top`-like tool is judged by.

Run: python bench/bench_follow.py   (about 45 s)

1. Latency from a line's write to its delivery to the sink, p50/p95 over ~500 lines, with the
   directory watcher and with polling only (poll 1.0 s): the watcher should be ~50-100 ms, the poll
   ~uniform over 0..1 s.
2. CPU of this process while idle-following for 10 s (target: well under 1% of a core).
3. CPU of this process while a separate writer process appends 1000 lines/s for 10 s.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from claude_top.sources.follow import Follower
from claude_top.sources.paths import Batch

LINES = 500
SPACING_S = 0.01


def percentile(xs: list[float], p: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(p / 100 * len(s)))]


def latency(d: Path, use_watcher: bool) -> list[float]:
    path = d / f"latency-{use_watcher}.log"
    path.touch()
    lat: list[float] = []
    lock = threading.Lock()

    def sink(batch: Batch) -> None:
        now = time.monotonic()
        with lock:
            lat.extend(now - float(ln.split(b" ")[0]) for ln in batch.lines)

    f = Follower([str(path)], sink, poll_interval=1.0, use_watcher=use_watcher)
    f.start()
    f.wait_history()
    time.sleep(0.5)  # let the watcher start
    rng = random.Random(1)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    for _ in range(LINES):
        os.write(fd, b'%r {"pad": "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}\n' % time.monotonic())
        time.sleep(rng.uniform(0, 2 * SPACING_S))
    os.close(fd)
    deadline = time.monotonic() + 3
    while len(lat) < LINES and time.monotonic() < deadline:
        time.sleep(0.05)
    f.stop()
    return lat


def cpu_while(seconds: float, action: subprocess.Popen[bytes] | None = None) -> float:
    """Share of one core used by this process (all its threads) over ``seconds``."""
    c0, t0 = time.process_time(), time.monotonic()
    if action is not None:
        action.wait(seconds + 10)
    else:
        time.sleep(seconds)
    return (time.process_time() - c0) / (time.monotonic() - t0) * 100


WRITER = """
import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND)
t0 = time.monotonic()
for i in range(10_000):
    os.write(fd, b'{"ts": %r, "model": "claude", "input_tokens": 1234, "output_tokens": 567}\\n'
             % time.time())
    ahead = (i + 1) / 1000 - (time.monotonic() - t0)
    if ahead > 0:
        time.sleep(ahead)
"""


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-follow-") as tmp:
        d = Path(tmp)
        for use_watcher, label in ((True, "watcher"), (False, "poll-only 1.0s")):
            lat = latency(d, use_watcher)
            print(f"latency {label}: delivered {len(lat)}/{LINES} lines")
            print(f"latency {label} p50: {percentile(lat, 50) * 1000:.1f} ms")
            print(f"latency {label} p95: {percentile(lat, 95) * 1000:.1f} ms")

        path = d / "cpu.log"
        path.write_bytes(b"".join(b'{"n": %d}\n' % i for i in range(1000)))
        count = [0]

        def sink(batch: Batch) -> None:
            count[0] += len(batch.lines)

        f = Follower([str(path)], sink)
        f.start()
        f.wait_history()
        time.sleep(1.0)
        print(f"cpu idle following 10 s (watcher + poll 1.0s): {cpu_while(10):.3f} % of a core")
        before = count[0]
        writer = subprocess.Popen([sys.executable, "-c", WRITER, str(path)])
        pct = cpu_while(10, writer)
        time.sleep(0.5)
        print(f"cpu while another process writes 1000 lines/s: {pct:.2f} % of a core")
        print(f"lines delivered during the write test: {count[0] - before}")
        f.stop()

        g = Follower([str(path)], sink, use_watcher=False)
        g.start()
        g.wait_history()
        time.sleep(1.0)
        print(f"cpu idle following 10 s (poll-only 1.0s): {cpu_while(10):.3f} % of a core")
        g.stop()


if __name__ == "__main__":
    main()
