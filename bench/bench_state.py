"""What a state file buys and costs (issue 15): warm starts, cron checks, size, live writes.

Run: python bench/bench_state.py [--log FILE]   (several minutes; without --log it first writes
a 1M-line, 8-day log with ``bench/make_log.py``)

Targets:
  TUI on a 1M-line, 8-day log with a warm state: first full screen and "following" within 1 s;
  ``check`` from cron with a state: at most 5% of its cold time; the state file at most ~2x the
  engine's in-memory rows; writing state at most 1% of a core at 1,000 lines/s.

1. TUI: what ``claude-top LOG`` does (``commands.live``: engine, state session, follower, the
   real app headless at 160x48), timed from the start until every source is "following" and a
   first frame with the data is built and painted: without a state, with a new state (the cold
   start that writes it) and with the warm state (a restart). Then the target's own figure:
   ``claude-top LOG --state FILE`` started as a process in a pseudo-terminal of 160x48, timed
   from its start (Python's start and imports count) until its screen shows the log
   "following" (the first frame built once the history is read), with its modules' bytecode
   compiled as an installed package has it (``installed_env``).
2. ``check LOG`` in a subprocess, as cron runs it: without a state, then ``--state`` twice (the
   first run builds it); 1,000 new lines are appended before the warm run, as between two runs.
   Wall and CPU seconds (the CPU time moves less with other work on the machine); with
   ``--warm-runs N`` the warm run N times from the same state, and the medians.
3. Size: the state file (with its WAL) against the engine's rows in memory (counted, and their
   bytes as ``sys.getsizeof`` sums them: lists, key tuples, histogram and error-type dicts).
4. Live writes: 1,000 lines/s of new traffic fed to a warm TUI engine for 60 simulated seconds,
   committed every ``COMMIT_EVERY_S`` as the follower does; the CPU time of the captures and
   commits over the traffic's seconds.

Figures come from one run on one machine; they are not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import gc
import os
import pty
import resource
import select
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from installed import compiled_env

from claude_top.commands.following import follow_logs
from claude_top.commands.live import _alerts
from claude_top.config.load import Config
from claude_top.core.clock import SystemClock
from claude_top.engine.engine import Engine
from claude_top.sources.batches import Batch
from claude_top.state.session import COMMIT_EVERY_S, Session
from claude_top.views.tui import app as app_module
from claude_top.views.tui.app import ClaudeTopApp, LatestProgress

HERE = Path(__file__).resolve().parent
SIZE = (160, 48)
DAY = 86400


class BenchApp(ClaudeTopApp):
    CSS_PATH = str(Path(app_module.__file__).with_name("app.tcss"))


def _say(line: str) -> None:
    print(f"  (state: {line})")


def tui_start(log: Path, state: Path | None) -> tuple[dict[str, float], Engine, Session | None]:
    """Seconds to "following", to the first full frame and (with a state) to the users'
    archive and older histograms added (``state.later``), as ``claude-top LOG`` starts (``commands.following``, as ``live`` wires it)."""
    t0, c0 = time.perf_counter(), time.process_time()
    clock = SystemClock()
    cfg = Config()
    now = clock.now()
    since = now - 8 * DAY
    engine = Engine(cfg.price_table(), clock, UTC, since=since)
    alerts = _alerts(engine, cfg, UTC, clock)
    box = LatestProgress()
    a = argparse.Namespace(
        logs=[str(log)], state=str(state) if state else None, no_state=state is None, now=None
    )
    following = follow_logs(
        a, engine, cfg, since, "bench", poll=1.0, on_progress=box.set, shown="10m"
    )
    follower, session = following.follower, following.session
    times: dict[str, float] = {"loaded": time.perf_counter() - t0}
    app = BenchApp(engine, alerts, clock, follower, cfg, window="10m", progress=box)

    async def drive() -> None:
        async with app.run_test(size=SIZE):
            while not all(s.state == "following" for s in follower.statuses):
                await asyncio.sleep(0.01)
            times["following"] = time.perf_counter() - t0
            d = app._build(clock.now(), app._view_state(), follower.statuses, box.get(), 0.0)
            app._apply(d)
            await asyncio.sleep(0)
            app.screen._on_timer_update()
            times["screen"] = time.perf_counter() - t0
            times["screen_cpu"] = time.process_time() - c0  # all threads: robust to a busy host

    following.start(app.first_screen)
    try:
        asyncio.run(drive())
        if session is not None and session.later is not None:
            session.later.done.wait(120)
            times["later"] = time.perf_counter() - t0
    finally:
        follower.stop(120)
    return times, engine, session


FOLLOWING = b" following"
"""What the header shows after the log's name once its history is read (``panels.header``)."""


def cpu_of(pid: int) -> float:
    """CPU seconds a process has used so far, all its threads (``/proc``; NaN elsewhere)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tui_process(
    log: Path, state: Path | None, env: dict[str, str], timeout: float = 120.0
) -> tuple[float, float]:
    """Seconds from starting ``claude-top LOG --state FILE`` (``--no-state`` for None) in a
    pseudo-terminal until its screen says "following" (the first frame built after the history
    was read, painted), and the CPU seconds it used by then (robust to a busy host). The
    process is then asked to quit (``q``), and killed if it will not."""
    tail = ["--no-state"] if state is None else ["--state", str(state)]
    cmd = [sys.executable, "-m", "claude_top", str(log), *tail]
    t0 = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:  # the child: claude-top on the pseudo-terminal
        os.execve(sys.executable, cmd, env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", SIZE[1], SIZE[0], 0, 0))
    seen = b""
    took = cpu = float("nan")
    try:
        while time.perf_counter() - t0 < timeout:
            if not select.select([fd], [], [], 0.05)[0]:
                continue
            try:
                chunk = os.read(fd, 1 << 20)
            except OSError:  # the child closed the terminal: it is gone
                break
            if not chunk:
                break
            seen = seen[-len(FOLLOWING) :] + chunk
            if FOLLOWING in seen:
                took, cpu = time.perf_counter() - t0, cpu_of(pid)
                break
        os.write(fd, b"q")
        end = time.perf_counter() + 60
        while os.waitpid(pid, os.WNOHANG) == (0, 0):
            if time.perf_counter() > end:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                break
            if select.select([fd], [], [], 0.1)[0]:
                with contextlib.suppress(OSError):  # the child is gone
                    os.read(fd, 1 << 20)
    finally:
        os.close(fd)
    return took, cpu


def warm_process_rows(work: Path, state: Path, tmpdir: Path, runs: int) -> None:
    """The target as a user meets it: ``claude-top`` started on a warm state (untimed once,
    which compiles the TUI's bytecode as an install would have, then ``runs`` times)."""
    env = installed_env(tmpdir, work)
    env["TERM"] = "xterm-256color"
    tui_process(work, state, env)
    runs_ = [tui_process(work, state, env) for _ in range(runs)]
    times = sorted(t for t, _ in runs_)
    cpus = sorted(c for _, c in runs_)
    med, cpu = times[len(times) // 2], cpus[len(cpus) // 2]
    verdict = "met" if med <= 1.0 else "not met"
    print(
        f"TUI, warm state, as a process from its start (bytecode compiled, as installed): "
        f"first full screen and following after {med:.2f} s, {cpu:.2f} s of CPU (medians of "
        f"{runs}; runs: {', '.join(f'{t:.2f}' for t, _ in runs_)} s); target 1 s: {verdict}"
    )


def timed(cmd: list[str], env: dict[str, str] | None = None) -> float:
    return timed_cpu(cmd, env)[0]


def timed_cpu(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Seconds ``cmd`` took, and the CPU seconds it used (user and system, as the kernel
    counts a waited-for child): on a machine shared with other work the wall time of a
    0.1 s run moves with their load, its CPU time much less."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(cmd, check=False, stdout=subprocess.DEVNULL, env=env)
    took = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return took, cpu


def installed_env(tmpdir: Path, work: Path) -> dict[str, str]:
    """The environment of a ``check`` run by cron from an installed package: its modules'
    bytecode compiled (pip compiles it at install). With ``PYTHONDONTWRITEBYTECODE`` set and
    no ``.pyc``, each start compiles the sources again (~65 ms here), which no install does.
    The bytecode goes to a cache under ``tmpdir`` (``installed.compiled_env``); one untimed
    ``check --state`` of a one-line log then warms what the timed runs read."""
    env = compiled_env(tmpdir / "pycache")
    one = tmpdir / "one.log"
    with open(work, "rb") as f:
        one.write_bytes(f.readline())
    cli = [sys.executable, "-m", "claude_top", "check", str(one)]
    timed([*cli, "--state", str(tmpdir / "one.db")], env)
    return env


def check_rows(work: Path, tmpdir: Path, warm_runs: int = 1) -> None:
    """``check`` as cron runs it: cold, then with a state (built, then warm after new lines).
    With ``warm_runs`` above 1, the warm run is repeated from the same state (copied back
    each time, the same new lines) and the medians and minimums printed: one 0.1 s run says
    little on a machine that does other work."""
    env = installed_env(tmpdir, work)
    cli = [sys.executable, "-m", "claude_top"]
    cold_check, cold_cpu = timed_cpu([*cli, "check", str(work)], env)
    check_state = tmpdir / "check.db"
    first = timed([*cli, "check", str(work), "--state", str(check_state)], env)
    with open(work, "rb") as f:
        tail = [orjson.loads(f.readline()) for _ in range(1000)]
    with open(work, "ab") as f:  # 1,000 new lines, as between two cron runs
        f.write(b"".join(ln + b"\n" for ln in live_lines(time.time(), 1000, tail)))
    kept = tmpdir / "check-before-warm.db"
    if warm_runs > 1:  # closed cleanly: the file is the whole state (no -wal left)
        shutil.copyfile(check_state, kept)
    warm_check, warm_cpu = timed_cpu([*cli, "check", str(work), "--state", str(check_state)], env)
    walls, cpus = [warm_check], [warm_cpu]
    for _ in range(warm_runs - 1):
        for tail_name in ("-wal", "-shm"):
            Path(f"{check_state}{tail_name}").unlink(missing_ok=True)
        shutil.copyfile(kept, check_state)
        took, cpu = timed_cpu([*cli, "check", str(work), "--state", str(check_state)], env)
        walls.append(took)
        cpus.append(cpu)
    print(
        f"check: cold {cold_check:.2f} s, first with a state {first:.2f} s, "
        f"warm {warm_check:.2f} s = {warm_check / cold_check * 100:.1f}% of cold; "
        f"CPU: cold {cold_cpu:.2f} s, warm {warm_cpu:.3f} s = {warm_cpu / cold_cpu * 100:.1f}%"
    )
    if warm_runs > 1:
        wall_med, cpu_med = statistics.median(walls), statistics.median(cpus)
        print(
            f"check, {warm_runs} warm runs from the same state: wall median {wall_med * 1000:.1f} ms"
            f" (min {min(walls) * 1000:.1f}) = {wall_med / cold_check * 100:.1f}% of cold; CPU"
            f" median {cpu_med * 1000:.1f} ms (min {min(cpus) * 1000:.1f})"
            f" = {cpu_med / cold_cpu * 100:.1f}% of cold's"
        )


def deep_size(engine: Engine) -> int:
    """Bytes of the engine's bucket rows: row lists, keys, histogram and error-type dicts."""
    seen: set[int] = set()
    total = 0

    def add(o: Any) -> None:
        nonlocal total
        if id(o) not in seen:
            seen.add(id(o))
            total += sys.getsizeof(o)

    for store in (engine.groups, engine.users):
        for tier in store.tiers:
            add(tier.buckets)
            for bucket in tier.buckets.values():
                add(bucket)
                for key, row in bucket.items():
                    add(key)
                    add(row)
                    for x in row:
                        if isinstance(x, dict):
                            add(x)
    return total


def live_lines(start: float, n: int, template: list[dict[str, Any]]) -> list[bytes]:
    out = []
    for i in range(n):
        d = dict(template[i % len(template)])
        d["timestamp"] = datetime.fromtimestamp(start + i / 1000, UTC).isoformat()
        d["request_id"] = f"live-{start}-{i}"
        out.append(orjson.dumps(d))
    return out


def live_cost(engine: Engine, session: Session, log: Path, seconds: int = 60) -> tuple[float, int]:
    """CPU seconds spent writing the state per second of 1,000 lines/s traffic."""
    with open(log, "rb") as f:
        template = [orjson.loads(f.readline()) for _ in range(2000)]
    writer = session.writer
    assert writer is not None
    spent = 0.0
    inner = writer.before_compact

    def before_compact(ref: float) -> None:
        nonlocal spent
        c = time.process_time()
        inner(ref)
        spent += time.process_time() - c

    engine.before_compact = before_compact
    start = time.time()
    for block in range(0, seconds, int(COMMIT_EVERY_S)):
        lines = live_lines(start + block, int(COMMIT_EVERY_S) * 1000, template)
        engine.ingest(Batch("live", 1, lines))
        c = time.process_time()
        session.commit([])
        spent += time.process_time() - c
    return spent / seconds, writer.commits


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--log", metavar="FILE", help="use this log (default: write a 1M-line one)")
    p.add_argument("--skip-cold-tui", action="store_true", help="skip the TUI without a state")
    p.add_argument("--check-only", action="store_true", help="only the check rows")
    p.add_argument(
        "--warm-only",
        action="store_true",
        help="only the TUI with a new, then a warm state (no cold TUI, size, writes or check)",
    )
    p.add_argument(
        "--runs", type=int, default=5, metavar="N", help="timed warm starts as a process (5)"
    )
    p.add_argument(
        "--warm-runs",
        type=int,
        default=1,
        metavar="N",
        help="warm checks from the same state, medians printed (1)",
    )
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-state-") as tmp:
        tmpdir = Path(tmp)
        work = tmpdir / "app.log"  # appended to below: a copy when --log names the user's own
        if args.log:
            subprocess.run(["cp", args.log, str(work)], check=True)
        else:
            make = [sys.executable, str(HERE / "make_log.py"), str(work), "--lines", "1000000"]
            subprocess.run([*make, "--days", "8"], check=True)
        print(f"log: {work.stat().st_size / 1e6:.0f} MB")
        if args.check_only:
            check_rows(work, tmpdir, args.warm_runs)
            return
        gc.freeze()

        state = tmpdir / "tui.db"
        cold_s = None
        if not args.skip_cold_tui and not args.warm_only:
            cold, _, _ = tui_start(work, None)
            cold_s = cold["screen"]
            print(
                f"TUI without a state: following after {cold['following']:.2f} s, "
                f"first full screen {cold_s:.2f} s"
            )
        new, _, s1 = tui_start(work, state)
        print(
            f"TUI, new state (written on the way): following {new['following']:.2f} s, "
            f"screen {new['screen']:.2f} s"
        )
        if s1 is not None:
            s1.close()  # a process of its own takes the state's writer lock
        warm_process_rows(work, state, tmpdir, args.runs)
        warm, engine, session = tui_start(work, state)
        later = session.later if session else None
        print(
            f"TUI, warm state: state loaded {warm['loaded']:.2f} s, following after "
            f"{warm['following']:.2f} s, first full screen {warm['screen']:.2f} s "
            f"({warm['screen_cpu']:.2f} s of CPU) "
            f"({session.loaded_rows if session else 0:,} rows loaded); the users' archive "
            f"({later.rows if later else 0:,} rows) and older histograms "
            f"({later.histograms if later else 0:,}) added after {warm.get('later', 0):.2f} s"
        )
        if cold_s:
            print(
                f"  warm / cold: {warm['screen'] / cold_s * 100:.1f}% of the time to the first "
                "full screen"
            )
        if args.warm_only:
            return

        rows = engine.memory_rows()
        mem = deep_size(engine)
        size = sum(os.path.getsize(p) for p in (state, Path(f"{state}-wal")) if p.exists())
        print(
            f"state file: {size / 2**20:.1f} MiB; engine rows in memory: {rows:,} rows, "
            f"{mem / 2**20:.1f} MiB; state / memory: {size / mem:.2f}x"
        )

        assert session is not None
        cost, commits = live_cost(engine, session, work)
        print(f"writing state at 1,000 lines/s: {cost * 100:.2f}% of a core ({commits} commits)")
        session.close()

        check_rows(work, tmpdir, args.warm_runs)


if __name__ == "__main__":
    main()
