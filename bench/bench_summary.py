"""How fast, and in how much memory, ``claude-top summary`` reads a big log, relative to parsing.

Prints every ingest row of the performance table from one run: the wall time of a bare
``for line in file: orjson.loads(line)`` loop over the main log (1M lines, 8 days, 5,000 users),
then ``claude-top summary --format json`` over logs made from the same generator, each as a
subprocess (start-up, reading, aggregation and output all count) with its ratio to the bare loop
and its peak RSS:

* the main log: default (two processes), ``--jobs 1``, ``--by user`` (both ways), and the same
  calls written as ``INFO:root:{...}`` lines (``FILE.info``; its ratio is against the bare loop
  over the plain file, which cannot parse prefixed lines) and with their times as Python's
  ``isoformat()`` and JavaScript's ``toISOString()`` write them (``FILE.us``, ``FILE.z``);
* the same calls in the shapes the ``anthropic`` and ``litellm`` presets read (beside FILE,
  ``*.anthropic.log`` and ``*.litellm.log``, by ``make_log.py --shape``), default and
  ``--jobs 1``, each against the bare loop over its own file (its lines are longer);
* ``--by user`` over 1M lines with a user each (``FILE.users``, ``make_log.py --distinct-users``);
* peak RSS of ``--jobs 1`` (one process holds everything) at 100k, 1M and 3M lines over the same
  8 days (``FILE.100k``, ``FILE.3m``): memory should grow with the span, not the lines;
* 500 distinct features on 1M lines (``FILE.f500``, ``--features 500``), ``--jobs 1``, against
  the main log's ``--jobs 1``.

The logs beside FILE are made once (``bench/make_log.py``, ending on a fixed date so that a
figure always means the same log); ``summary`` has no default window, and the run stops unless
it counts one call per line of the main log, so the whole log is read. Each speed figure is the best of
``--repeat`` runs (3); the memory rows over the extra logs run ``--heavy-repeat`` times (1).
Ratios rather than seconds, so a figure means the same on a faster or slower machine. CPU
time (the summary's processes together, against the loop's) is printed beside the wall time:
on a shared, loaded machine it moves less, though it cannot show what a second core saves.
Every ``summary`` runs with its bytecode compiled, as an installed package has it
(``installed.py``).

    python bench/bench_summary.py                # makes /tmp/claude-top-bench.log (1M lines)
    python bench/bench_summary.py --log FILE     # an existing log (the extra logs beside it)
    python bench/bench_summary.py --quick        # the main log's rows only
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson
from installed import compiled_env

HERE = Path(__file__).resolve().parent
END = "2026-11-27T00:00:00+00:00"


def bare_parse(path: str) -> tuple[float, float]:
    """Wall and CPU seconds of the bare loop."""
    t, c = time.perf_counter(), time.process_time()
    with open(path, "rb") as f:
        for line in f:
            orjson.loads(line)
    return time.perf_counter() - t, time.process_time() - c


def count_lines(path: str) -> int:
    with open(path, "rb") as f:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))


def make_log(path: str, lines: int, *extra: str) -> str:
    """A log of the benchmark's traffic (8 days, 5,000 users, seed 1), made once."""
    if not os.path.exists(path):
        args = ["--lines", str(lines), "--days", "8", "--users", "5000", "--seed", "1"]
        cmd = [sys.executable, str(HERE / "make_log.py"), path, *args, "--end", END, *extra]
        subprocess.run(cmd, check=True)
    return path


def prefixed(path: str) -> str:
    """The same log as ``logging.info(json.dumps(...))`` writes it: ``INFO:root:{...}``."""
    out = path + ".info"
    if not os.path.exists(out) or os.path.getmtime(out) < os.path.getmtime(path):
        with open(path, "rb") as f, open(out + ".tmp", "wb") as g:
            for line in f:
                g.write(b"INFO:root:" + line)
        os.replace(out + ".tmp", out)
    return out


def retimed(path: str, shape: str) -> str:
    """The same log with its times as other apps write them: ``us``, Python's
    ``datetime.now(UTC).isoformat()`` (``.149123+00:00``: microseconds, as in the article's own
    logger; the three added digits vary with the line), or ``z``, JavaScript's
    ``toISOString()`` (``.149Z``). The times keep their order and their milliseconds."""
    out = f"{path}.{shape}"
    if not os.path.exists(out) or os.path.getmtime(out) < os.path.getmtime(path):
        with open(path, "rb") as f, open(out + ".tmp", "wb") as g:
            for i, line in enumerate(f):
                tail = b"%03d+00:00" % (i * 7 % 1000) if shape == "us" else b"Z"
                g.write(line.replace(b'+00:00"', tail + b'"', 1))
        os.replace(out + ".tmp", out)
    return out


# Each summary runs under its own small parent, so its peak RSS is its own (RUSAGE_CHILDREN of
# one process accumulates the maximum over all the children it ever waited for; with two
# processes it is the larger of the two, the parent's, which absorbs the worker's counts).
_WRAPPER = """
import resource, subprocess, sys, time, orjson
t = time.perf_counter()
out = subprocess.run(sys.argv[1:], check=True, capture_output=True).stdout
wall = time.perf_counter() - t
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
rss, cpu = ru.ru_maxrss / 1024, ru.ru_utime + ru.ru_stime
doc = orjson.loads(out)
calls = doc["total"]["calls"]
sys.stdout.write(orjson.dumps({"wall": wall, "cpu": cpu, "rss": rss, "calls": calls}).decode())
"""


def summary(
    path: str, *extra: str, env: dict[str, str], repeat: int = 1
) -> tuple[float, float, float, int]:
    """Best wall time and best CPU time (both processes) of ``repeat`` runs, the largest peak
    RSS (MiB), the calls counted."""
    cmd = [sys.executable, "-m", "claude_top", "summary", path, "--format", "json", *extra]
    runs = []
    for _ in range(repeat):
        out = subprocess.run(
            [sys.executable, "-c", _WRAPPER, *cmd], check=True, capture_output=True, env=env
        )
        runs.append(orjson.loads(out.stdout))
    best = min(d["wall"] for d in runs), min(d["cpu"] for d in runs)
    return *best, max(d["rss"] for d in runs), runs[0]["calls"]


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--log", default="/tmp/claude-top-bench.log")
    p.add_argument("--lines", type=int, default=1_000_000)
    p.add_argument("--repeat", type=int, default=3, help="runs of each figure; the best counts")
    p.add_argument("--heavy-repeat", type=int, default=1, help="runs of the memory rows")
    p.add_argument("--quick", action="store_true", help="the main log's rows only")
    a = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="claude-top-bench-") as tmp:
        run(a, compiled_env(Path(tmp) / "pycache"))


def run(a: argparse.Namespace, env: dict[str, str]) -> None:
    make_log(a.log, a.lines)
    size = os.path.getsize(a.log)
    info = prefixed(a.log)
    n, h = a.repeat, a.heavy_repeat
    lines = count_lines(a.log)  # and warm the page cache so every run reads from memory
    base, base_cpu = min(bare_parse(a.log) for _ in range(n))

    def row(
        what: str,
        *extra: str,
        log: str = a.log,
        repeat: int = n,
        against: tuple[float, float] = (0, 0),
    ) -> tuple[float, float, int]:
        wall, cpu, rss, calls = summary(log, *extra, env=env, repeat=repeat)
        bw, bc = against if against[0] else (base, base_cpu)
        print(
            f"{what:<42} {wall:6.2f} s {wall / bw:5.2f}x  CPU {cpu:6.2f} s {cpu / bc:5.2f}x"
            f"  peak RSS {rss:5.0f} MiB"
        )
        return wall, cpu, calls

    print(f"log: {a.log} ({size / 1e6:.0f} MB, {a.lines} lines), best of {n} runs each")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'bare orjson.loads loop':<42} {base:6.2f} s 1.00x  CPU {base_cpu:6.2f} s 1.00x")
    _, _, calls = row("summary (default: two processes)")
    if calls != lines:  # every line of the generator's log is a call: all of it was read
        raise SystemExit(f"summary counts {calls} calls of the log's {lines} lines")
    swall, scpu, _ = row("summary --jobs 1", "--jobs", "1")
    _, _, icalls = row("summary of INFO:root: lines (default)", log=info)
    if icalls != calls:
        raise SystemExit(f"the INFO:root: copy counts {icalls} calls, the log {calls}")
    row("summary of INFO:root: lines --jobs 1", "--jobs", "1", log=info)
    for shape, what in (("us", "isoformat() times"), ("z", "toISOString() times")):
        log = retimed(a.log, shape)
        _, _, tcalls = row(f"summary of {what}", log=log)
        if tcalls != calls:
            raise SystemExit(f"the {shape} copy counts {tcalls} calls, the log {calls}")
        row(f"summary of {what} --jobs 1", "--jobs", "1", log=log)
    row("summary --by user (default)", "--by", "user")
    row("summary --by user --jobs 1", "--by", "user", "--jobs", "1")
    if not a.quick:
        stem = a.log.removesuffix(".log")
        for shape in ("anthropic", "litellm"):  # a preset's log: against the loop over it
            log = make_log(f"{stem}.{shape}.log", a.lines, "--shape", shape)
            count_lines(log)
            own = min(bare_parse(log) for _ in range(n))
            print(
                f"{'bare loop over the ' + shape + ' log':<42} {own[0]:6.2f} s 1.00x  CPU "
                f"{own[1]:6.2f} s 1.00x"
            )
            _, _, pcalls = row(f"summary of the {shape} preset's log", log=log, against=own)
            if pcalls != calls:
                raise SystemExit(f"the {shape} log counts {pcalls} calls, the main log {calls}")
            row(f"summary of the {shape} preset's log --jobs 1", "--jobs", "1", log=log,
                against=own)  # fmt: skip
        users = make_log(stem + ".users.log", a.lines, "--distinct-users")
        row(f"--by user, {a.lines} distinct users", "--by", "user", log=users, repeat=h)
        for lines, path in (
            (a.lines // 10, stem + ".100k.log"),
            (a.lines, a.log),
            (a.lines * 3, stem + ".3m.log"),
        ):
            log = make_log(path, lines)
            row(f"--jobs 1, {lines} lines over 8 days", "--jobs", "1", log=log, repeat=h)
        f500 = make_log(stem + ".f500.log", a.lines, "--features", "500")
        fwall, fcpu, _ = row("--jobs 1, 500 features", "--jobs", "1", log=f500, repeat=h)
        print(
            f"500 features / main log, --jobs 1: {fwall / swall:.2f}x the wall time, "
            f"{fcpu / scpu:.2f}x the CPU time"
        )
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
