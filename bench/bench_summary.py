"""How fast ``claude-top summary`` reads a big log, relative to parsing alone.

Prints, from one run on one file: the wall time of a bare ``for line in file: orjson.loads(line)``
loop, the wall time of ``claude-top summary --format json`` over the same file (a subprocess, so
start-up, reading, aggregation and output all count), their ratio, and the summary's peak RSS;
likewise for ``--jobs 1``, ``--by user`` and the same calls written as the article's own
``INFO:root:{...}`` lines (beside the file, made once: ``FILE.info``; its ratio is against the
bare loop over the plain file, which cannot parse prefixed lines). Each figure is the best of
``--repeat`` runs (3). Ratios rather than seconds, so the figure means the same on a faster or
slower machine.

    python bench/bench_summary.py                # makes /tmp/claude-top-bench.log (1M lines)
    python bench/bench_summary.py --log FILE     # an existing log
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import orjson

HERE = Path(__file__).resolve().parent


def bare_parse(path: str) -> float:
    t = time.perf_counter()
    with open(path, "rb") as f:
        for line in f:
            orjson.loads(line)
    return time.perf_counter() - t


def prefixed(path: str) -> str:
    """The same log as ``logging.info(json.dumps(...))`` writes it: ``INFO:root:{...}``."""
    out = path + ".info"
    if not os.path.exists(out) or os.path.getmtime(out) < os.path.getmtime(path):
        with open(path, "rb") as f, open(out + ".tmp", "wb") as g:
            for line in f:
                g.write(b"INFO:root:" + line)
        os.replace(out + ".tmp", out)
    return out


# Each summary runs under its own small parent, so its peak RSS is its own (RUSAGE_CHILDREN of
# one process accumulates the maximum over all the children it ever waited for).
_WRAPPER = """
import json, resource, subprocess, sys, time
t = time.perf_counter()
out = subprocess.run(sys.argv[1:], check=True, capture_output=True).stdout
wall = time.perf_counter() - t
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps({"wall": wall, "rss": rss, "calls": json.loads(out)["total"]["calls"]}))
"""


def summary(path: str, *extra: str, repeat: int = 1) -> tuple[float, float, int]:
    """Best wall time of ``repeat`` runs, the largest peak RSS, the calls counted."""
    cmd = [sys.executable, "-m", "claude_top", "summary", path, "--format", "json", *extra]
    runs = []
    for _ in range(repeat):
        out = subprocess.run(
            [sys.executable, "-c", _WRAPPER, *cmd], check=True, capture_output=True
        )
        runs.append(orjson.loads(out.stdout))
    return min(d["wall"] for d in runs), max(d["rss"] for d in runs), runs[0]["calls"]


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--log", default="/tmp/claude-top-bench.log")
    p.add_argument("--lines", type=int, default=1_000_000)
    p.add_argument("--repeat", type=int, default=3, help="runs of each figure; the best counts")
    a = p.parse_args()
    if not os.path.exists(a.log):
        subprocess.run(
            [
                sys.executable,
                str(HERE / "make_log.py"),
                a.log,
                "--lines",
                str(a.lines),
                "--days",
                "8",
                "--users",
                "5000",
                "--seed",
                "1",
                "--end",
                "2026-11-27T00:00:00+00:00",
            ],
            check=True,
        )
    size = os.path.getsize(a.log)
    info = prefixed(a.log)
    n = a.repeat
    bare_parse(a.log)  # warm the page cache so every run reads from memory
    base = min(bare_parse(a.log) for _ in range(n))
    wall, rss, calls = summary(a.log, repeat=n)
    swall, srss, _ = summary(a.log, "--jobs", "1", repeat=n)
    uwall, urss, _ = summary(a.log, "--by", "user", "--jobs", "1", repeat=n)
    iwall, irss, icalls = summary(info, repeat=n)
    if icalls != calls:
        raise SystemExit(f"the INFO:root: copy counts {icalls} calls, the log {calls}")
    print(f"log: {a.log} ({size / 1e6:.0f} MB, {calls} calls), best of {n} runs each")
    print(f"bare orjson.loads loop: {base:.2f} s")
    print(f"claude-top summary --format json: {wall:.2f} s, peak RSS {rss:.0f} MiB per process")
    print(f"ratio summary / bare parse: {wall / base:.2f}")
    print(f"claude-top summary --jobs 1 --format json: {swall:.2f} s, peak RSS {srss:.0f} MiB")
    print(f"ratio summary --jobs 1 / bare parse: {swall / base:.2f}")
    print(f"claude-top summary --by user --jobs 1: {uwall:.2f} s, peak RSS {urss:.0f} MiB")
    print(f"ratio summary --by user / bare parse: {uwall / base:.2f}")
    print(f"claude-top summary of INFO:root: lines: {iwall:.2f} s, peak RSS {irss:.0f} MiB")
    print(f"ratio summary INFO:root: / bare parse (plain file): {iwall / base:.2f}")


if __name__ == "__main__":
    main()
