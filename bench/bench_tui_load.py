"""The TUI's history load as a user meets it (issue 16): ``claude-top LOG --no-state`` started
as a process in a pseudo-terminal of 160x48, timed from its start until its screen says
"following" (``bench_state.tui_process``), with its bytecode compiled as an install has it.

Run: python bench/bench_tui_load.py [--log FILE] [--runs N]   (without --log it first writes a
1M-line, 8-day log with ``bench/make_log.py``)

Target: at least 150,000 lines/s from start to "following" over 1M lines. Reported: the median
of ``--runs`` starts (wall and CPU seconds, lines per wall second). Figures come from one run on
one machine; they are not a test.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_state import HERE, installed_env, tui_process


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--log", help="an existing log (else a 1M-line, 8-day one is written)")
    p.add_argument("--runs", type=int, default=3, metavar="N", help="timed starts (3)")
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-tui-load-") as tmp:
        tmpdir = Path(tmp)
        if args.log:
            log = Path(args.log)
        else:
            log = tmpdir / "app.log"
            make = [sys.executable, str(HERE / "make_log.py"), str(log), "--lines", "1000000"]
            subprocess.run([*make, "--days", "8"], check=True)
        with open(log, "rb") as f:
            lines = sum(1 for _ in f)
        env = installed_env(tmpdir, log)
        env["TERM"] = "xterm-256color"
        runs = [tui_process(log, None, env) for _ in range(args.runs)]
        took = sorted(t for t, _ in runs)[len(runs) // 2]
        cpu = sorted(c for _, c in runs)[len(runs) // 2]
        rate = lines / took
        verdict = "met" if rate >= 150_000 else "not met"
        print(
            f"TUI history load, {lines:,} lines, --no-state, as a process from its start to "
            f"following: {took:.2f} s ({rate:,.0f} lines/s), {cpu:.2f} s of CPU (medians of "
            f"{len(runs)}; runs: {', '.join(f'{t:.2f}' for t, _ in runs)} s); "
            f"target 150,000 lines/s: {verdict}"
        )


if __name__ == "__main__":
    main()
