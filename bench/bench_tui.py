"""What the live screen costs: refresh time, idle CPU and line-to-screen latency (issue 5, "Speed").

Run: python bench/bench_tui.py            (about 2-3 min; --profile adds a cProfile of ten refreshes)

Targets, with 50 features, 10,000 users and a 1,000 lines/s live stream:
  one refresh (snapshot + render) <= 50 ms; CPU while idle < 2 % of a core; a new line on screen
  within 500 ms of its write.

Setup, as ``claude-top LOG`` wires it (``tui/run.py``): an Engine + Alerts + Follower over a temp
log that already holds ~8 days of history (sparse, plus the last few minutes at 1,000 lines/s, so
the 10m window and the current hour look like a busy service from the first frame), then a separate
writer process appends 1,000 lines/s while the real ``ClaudeTopApp`` runs headless
(``run_test(size=(160, 48))``).

1. Refresh: N refreshes 0.25 s apart (the app's own 4 Hz timer is switched off for this part) of
   build (``ClaudeTopApp._build`` = ``build_dashboard``), render (``ClaudeTopApp._apply``: every
   panel and the features table updated) and paint (Textual's layout + compositor update, plus
   the ANSI encoding a real terminal would get; headless skips only the final write). The first
   refresh after switching to a window (cold window cache) is shown apart; p50/p95/max over the rest
   (fewer than N when refreshes are so slow that a window would take more than --budget seconds).
2. Line to screen: the app's own timer and thread worker, a probe line with a unique feature name
   written while the stream runs; the time until its row is in the features table (polled every
   10 ms); 20 probes.
3. Idle CPU: the writer stopped, the app left alone for 60 s: process CPU time / wall time. On an
   idle log the frame is rebuilt at each 30 s step of the clock (``refresh.IDLE_S``, the windows
   move on) and only the header redrawn each second between; a window of a multiple of 30 s holds
   as many rebuilds wherever it starts; a 10 s window holds one or none, so its figure depends on
   when it started.

Figures come from one run on one machine; they are not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import io
import os
import pstats
import random
import subprocess
import sys
import tempfile
import threading
import time
from bisect import bisect
from datetime import UTC, datetime
from itertools import accumulate
from pathlib import Path
from typing import Any

import orjson

from claude_top.commands.live import _alerts
from claude_top.config.load import Config
from claude_top.core.clock import SystemClock
from claude_top.engine.engine import Engine
from claude_top.ingest.reader import timestamp_of
from claude_top.sources.follow import Follower
from claude_top.views.tui import app as app_module
from claude_top.views.tui.app import ClaudeTopApp, LatestProgress
from claude_top.views.tui.refresh import IDLE_S
from claude_top.views.tui.widgets import FeaturesTable

FEATURES = [f"feature_{i:02d}" for i in range(50)]
USERS = [f"u_{i:05d}" for i in range(10_000)]
MODELS = (
    ("claude-sonnet-4-6", 0.50),
    ("claude-haiku-4-5", 0.30),
    ("claude-sonnet-4-5-20250929", 0.15),
    ("claude-opus-4-5", 0.05),
)
HISTORY_DAYS = 8
RATE = 1000
SIZE = (160, 48)
WINDOWS = ("10m", "24h", "all")


# -- synthetic traffic: exactly 50 features and 10,000 users ---------------------------------------


class Traffic:
    """Lines in the article's shape; skewed users (Zipf-like) and features, ~1 % errors."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.user_cum = list(accumulate(1.0 / (i + 1) ** 0.9 for i in range(len(USERS))))
        self.feat_cum = list(accumulate(1.0 / (i + 1) ** 0.7 for i in range(len(FEATURES))))
        self.model_cum = list(accumulate(w for _, w in MODELS))
        self._minute = -1
        self._prefix = ""

    def _ts(self, ts: float) -> str:
        ms = int(ts * 1000)
        minute, rest = divmod(ms, 60_000)
        if minute != self._minute:
            self._minute = minute
            self._prefix = datetime.fromtimestamp(minute * 60, UTC).strftime("%Y-%m-%dT%H:%M:")
        return f"{self._prefix}{rest // 1000:02d}.{rest % 1000:03d}+00:00"

    def line(self, ts: float, feature: str | None = None) -> bytes:
        rng = self.rng
        r = rng.random
        user = USERS[min(bisect(self.user_cum, r() * self.user_cum[-1]), len(USERS) - 1)]
        if feature is None:
            i = min(bisect(self.feat_cum, r() * self.feat_cum[-1]), len(FEATURES) - 1)
            feature = FEATURES[i]
        model = MODELS[min(bisect(self.model_cum, r()), len(MODELS) - 1)][0]
        rec: dict[str, Any] = {
            "timestamp": self._ts(ts),
            "request_id": f"req_{rng.getrandbits(64):016x}",
            "user_id": user,
            "feature": feature,
            "model": model,
        }
        if r() < 0.01:
            rec.update(
                input_tokens=0,
                output_tokens=0,
                cached_tokens=0,
                cache_creation_tokens=0,
                latency_ms=int(rng.lognormvariate(6.0, 0.6)),
                stop_reason="error",
            )
            if r() < 0.2:
                rec.update(
                    error="RateLimitError",
                    error_status=429,
                    ratelimit_requests_remaining=int(r() * 3),
                    ratelimit_tokens_remaining=int(r() * 5000),
                    retry_after_s=1 + int(r() * 10),
                )
            else:
                rec.update(error="OverloadedError", error_status=529)
            return orjson.dumps(rec)
        out = int(rng.lognormvariate(5.5, 0.8)) + 1
        rec.update(
            input_tokens=int(rng.lognormvariate(7.0, 1.0)) + 8,
            output_tokens=min(out, 4096),
            cached_tokens=int(r() * 4000) if r() < 0.6 else 0,
            cache_creation_tokens=int(r() * 2000) if r() < 0.1 else 0,
            latency_ms=int(rng.lognormvariate(7.3, 0.6)) + 80,
            stop_reason="max_tokens" if out >= 4096 else "end_turn",
            error=None,
            error_status=None,
        )
        return orjson.dumps(rec)


def write_history(path: Path, end: float, sparse: int, dense_s: float) -> int:
    """``sparse`` lines over the 8 days before ``end - dense_s``, then RATE lines/s up to ``end``."""
    tr = Traffic(1)
    start = end - HISTORY_DAYS * 86400
    dense_from = end - dense_s
    step = (dense_from - start) / max(1, sparse)
    n = 0
    with open(path, "wb") as f:
        chunk: list[bytes] = []
        for i in range(sparse):
            chunk.append(tr.line(start + (i + tr.rng.random()) * step))
        for i in range(int(dense_s * RATE)):
            chunk.append(tr.line(dense_from + i / RATE))
            if len(chunk) >= 50_000:
                f.write(b"\n".join(chunk) + b"\n")
                n += len(chunk)
                chunk.clear()
        f.write(b"\n".join(chunk) + b"\n")
        n += len(chunk)
    return n


def writer_main(path: str, rate: int) -> None:
    """The live stream (run in its own process): ``rate`` lines/s, one write per line, until killed."""
    tr = Traffic(2)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    t0 = time.monotonic()
    i = 0
    while True:
        os.write(fd, tr.line(time.time()) + b"\n")
        i += 1
        ahead = i / rate - (time.monotonic() - t0)
        if ahead > 0:
            time.sleep(ahead)


# -- the app, headless -----------------------------------------------------------------------------


class BenchApp(ClaudeTopApp):
    """The real app with two bench hooks: its 4 Hz timer can be switched off (``auto``), and a
    screen update is turned into terminal output as it would be on a real terminal (headless
    Textual computes the update but skips encoding it)."""

    CSS_PATH = str(Path(app_module.__file__).with_name("app.tcss"))
    auto = True
    counts: dict[str, int]
    """Frames applied, header redraws and screen updates so far (what the idle period did)."""

    def _apply(self, d: Any) -> None:
        self.counts = getattr(self, "counts", {})
        self.counts["frames"] = self.counts.get("frames", 0) + 1
        super()._apply(d)

    def _render_header(self, d: Any, pal: Any = None) -> None:
        self.counts = getattr(self, "counts", {})
        self.counts["headers"] = self.counts.get("headers", 0) + 1
        super()._render_header(d, pal)

    def _tick(self) -> None:
        if self.auto:
            super()._tick()

    def _display(self, screen: Any, renderable: Any) -> None:
        from textual._compositor import CompositorUpdate

        if isinstance(renderable, CompositorUpdate) and self.is_headless:
            renderable.render_segments(self.console)
        self.counts = getattr(self, "counts", {})
        self.counts["updates"] = self.counts.get("updates", 0) + 1
        super()._display(screen, renderable)


def thread_cpu() -> dict[str, float]:
    """CPU seconds of each of this process's threads so far, by thread kind (Linux's
    ``/proc``; empty elsewhere): where the idle CPU goes."""
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    kinds = {t.native_id: t.name for t in threading.enumerate()}
    out: dict[str, float] = {}
    try:
        tids = os.listdir("/proc/self/task")
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/self/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        name = kinds.get(int(tid), "other")
        kind = "workers" if name.startswith(("asyncio", "ThreadPool")) else name
        kind = {"MainThread": "main", "claude-top-follow": "follower"}.get(kind, kind)
        kind = kind.removeprefix("claude-top-")
        out[kind] = out.get(kind, 0.0) + (int(fields[11]) + int(fields[12])) / ticks
    return out


def pct(xs: list[float], p: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(p / 100 * len(s)))]


def ms3(xs: list[float]) -> str:
    return f"p50 {pct(xs, 50) * 1e3:.1f} / p95 {pct(xs, 95) * 1e3:.1f} / max {max(xs) * 1e3:.1f} ms"


async def drained(app: BenchApp) -> None:
    """Until every message the app and the screen's widgets had queued is handled, twice over:
    a repainted widget tells the screen by a message of its own, handled in the second round."""
    loop = asyncio.get_running_loop()
    for _ in range(2):
        waits = []
        for node in [app, *app.screen.walk_children(with_self=True)]:
            done = loop.create_future()
            if node.call_later(done.set_result, None):
                waits.append(done)
        await asyncio.gather(*waits)


async def one_refresh(
    app: BenchApp, box: LatestProgress, cpu: list[float] | None = None
) -> tuple[float, float, float]:
    """Build, render and paint one frame on the event loop; seconds of each. ``cpu`` gets the
    CPU time of this thread for the whole refresh (the follower and the writer excluded)."""
    c0 = time.thread_time()
    now = app.clock.now()
    statuses = list(app.follower.statuses) if app.follower is not None else []
    t0 = time.perf_counter()
    d = app._build(now, app._view_state(), statuses, box.get(), app._rate)
    t1 = time.perf_counter()
    app._apply(d)
    t2 = time.perf_counter()
    await drained(app)  # the widgets' refreshes reach the screen as messages
    app.screen._on_timer_update()  # what Textual's screen-update timer does: layout + composite
    t3 = time.perf_counter()
    if cpu is not None:
        cpu.append(time.thread_time() - c0)
    return t1 - t0, t2 - t1, t3 - t2


async def refreshes(
    app: BenchApp,
    box: LatestProgress,
    n: int,
    budget_s: float,
    profile: bool,
    windows: tuple[str, ...] = WINDOWS,
) -> None:
    app.auto = False
    await asyncio.sleep(0.5)  # let a worker build started by the timer finish
    for name in windows:
        app.window_name = name
        cold = await one_refresh(app, box)
        parts: list[tuple[float, float, float]] = []
        cpu: dict[bool, list[float]] = {True: [], False: []}
        until = time.monotonic() + budget_s
        while len(parts) < n and (len(parts) < 5 or time.monotonic() < until):
            # The app's timer ticks every 0.25 s and skips ticks while a build runs.
            await asyncio.sleep(max(0.01, 0.25 - sum(parts[-1] if parts else cold)))
            # Every other refresh without the charts (built and drawn), so the two are measured
            # in the same run, under the same load: CPU time of this thread, not wall time.
            app.charts = len(cpu[True]) <= len(cpu[False])
            got = await one_refresh(app, box, cpu[app.charts])
            if app.charts:
                parts.append(got)
        app.charts = True
        total = [sum(p) for p in parts]
        rows = len(app.dashboard.features) if app.dashboard else 0
        print(
            f"refresh {name:>3} ({rows} feature rows, {len(parts)} refreshes) total: {ms3(total)}"
        )
        print(f"refresh {name:>3}   build (snapshot): {ms3([p[0] for p in parts])}")
        print(f"refresh {name:>3}   render (panels + table): {ms3([p[1] for p in parts])}")
        print(
            f"refresh {name:>3}   paint (layout + composite + encode): {ms3([p[2] for p in parts])}"
        )
        print(
            f"refresh {name:>3} first after switching window (cold cache): {sum(cold) * 1e3:.1f} ms"
        )
        on, off = cpu[True], cpu[False]
        print(
            f"refresh {name:>3} CPU with charts {ms3(on)}; without {ms3(off)}; "
            f"p50 ratio {pct(on, 50) / max(1e-9, pct(off, 50)):.2f}"
        )
    app.window_name = "10m"
    if profile:
        # Ten refreshes with the charts, 0.25 s apart as the timer would: where a refresh's time
        # goes, summed (one refresh alone is mostly noise).
        prof = cProfile.Profile()
        took = []
        for _ in range(10):
            await asyncio.sleep(0.25)
            prof.enable()
            took.append(sum(await one_refresh(app, box)))
            prof.disable()
        for order in ("cumulative", "tottime"):
            out = io.StringIO()
            pstats.Stats(prof, stream=out).sort_stats(order).print_stats(30)
            print(f"profile of 10 10m refreshes by {order} ({ms3(took)} with the profiler on):")
            print(out.getvalue().rstrip())
    app.auto = True


async def latency(app: BenchApp, path: Path, probes: int, budget_s: float) -> list[float]:
    table = app.query_one(FeaturesTable)
    tr = Traffic(3)
    lat: list[float] = []
    rng = random.Random(4)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    try:
        until = time.monotonic() + budget_s
        for i in range(probes):
            if i >= 5 and time.monotonic() > until:
                break
            name = f"probe_{i:02d}_{rng.getrandbits(32):08x}"
            line = tr.line(time.time(), feature=name) + b"\n"
            t0 = time.monotonic()
            os.write(fd, line)
            while time.monotonic() - t0 < 5.0:
                if table.has_row(name):
                    lat.append(time.monotonic() - t0)
                    break
                await asyncio.sleep(0.01)
            await asyncio.sleep(rng.uniform(0.05, 0.3))  # out of step with the 4 Hz timer
    finally:
        os.close(fd)
    return lat


async def drive(
    app: BenchApp,
    box: LatestProgress,
    path: Path,
    writer: subprocess.Popen[bytes],
    engine: Engine,
    args: argparse.Namespace,
) -> None:
    live_t0, live_n0 = time.monotonic() - 1.0, engine.lines.lines
    async with app.run_test(size=SIZE):
        await asyncio.sleep(1.0)
        users_now = engine.users.fine.get(int(time.time()) // 3600 * 3600, {})
        minute = datetime.now(UTC).minute
        print(f"live user-hour bucket: {len(users_now)} rows ({minute} min into the hour)")
        windows = tuple(args.windows.split(","))
        await refreshes(app, box, args.refreshes, args.budget, args.profile, windows)

        lat = await latency(app, path, args.probes, 2 * args.budget)
        print(f"line to screen: {len(lat)} probes seen")
        if lat:
            print(f"line to screen p50: {pct(lat, 50) * 1e3:.0f} ms")
            print(f"line to screen p95: {pct(lat, 95) * 1e3:.0f} ms")

        writer.terminate()
        writer.wait()
        live_s = time.monotonic() - live_t0
        await asyncio.sleep(2.0)  # the follower drains, the screen catches up
        got = engine.lines.lines - live_n0
        print(
            f"live stream: {got:,} lines in {live_s:.0f} s ({got / live_s:,.0f} lines/s ingested)"
        )
        threads0, counts0 = thread_cpu(), dict(getattr(app, "counts", {}))
        c0, t0 = time.process_time(), time.monotonic()
        await asyncio.sleep(args.idle)
        wall = time.monotonic() - t0
        threads = thread_cpu()
        steps = "" if args.idle % IDLE_S == 0 else f"; not a multiple of the {IDLE_S:.0f} s step"
        print(
            f"idle CPU ({wall:.0f} s, no writes, app + follower{steps}): "
            f"{(time.process_time() - c0) / wall * 100:.2f} % of a core"
        )
        if threads:
            parts = {}
            for name, cpu in threads.items():
                parts[name] = cpu - threads0.get(name, 0.0)
            shown = ", ".join(f"{n} {c / wall * 100:.2f}" for n, c in sorted(parts.items()))
            print(f"idle CPU by thread (% of a core): {shown}")
        did = {k: v - counts0.get(k, 0) for k, v in getattr(app, "counts", {}).items()}
        print(
            f"idle period: {did.get('frames', 0)} frames built, {did.get('headers', 0)} header "
            f"redraws, {did.get('updates', 0)} screen updates"
        )


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--sparse", type=int, default=300_000, help="history lines over 8 days")
    p.add_argument(
        "--dense-minutes",
        type=float,
        default=5.0,
        help="minutes of 1,000 lines/s at the end of the history",
    )
    p.add_argument("--refreshes", type=int, default=40)
    p.add_argument("--probes", type=int, default=20)
    p.add_argument(
        "--budget",
        type=float,
        default=15.0,
        help="seconds per window (twice that for the probes) after which fewer are taken",
    )
    p.add_argument(
        "--idle",
        type=float,
        default=2 * IDLE_S,
        help="seconds of the idle CPU check (a multiple of the 30 s idle step: see above)",
    )
    p.add_argument(
        "--windows", default=",".join(WINDOWS), help="windows whose refreshes are measured"
    )
    p.add_argument("--profile", action="store_true", help="print a cProfile of ten 10m refreshes")
    p.add_argument("--writer", metavar="PATH", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.writer:
        writer_main(args.writer, RATE)
        return

    with tempfile.TemporaryDirectory(prefix="bench-tui-") as tmp:
        path = Path(tmp) / "app.log"
        t = time.perf_counter()
        n = write_history(path, time.time(), args.sparse, args.dense_minutes * 60)
        print(
            f"history: {n:,} lines, {path.stat().st_size / 1e6:.0f} MB, "
            f"{len(FEATURES)} features, {len(USERS):,} users, {len(MODELS)} models "
            f"(written in {time.perf_counter() - t:.1f} s)"
        )

        clock = SystemClock()
        cfg = Config()
        since = clock.now() - HISTORY_DAYS * 86400 - 3600
        engine = Engine(cfg.price_table(), clock, UTC, since=since)
        alerts = _alerts(engine, cfg, UTC, clock)
        box = LatestProgress()
        follower = Follower(
            [str(path)],
            engine.ingest,
            since=since,
            ts_of=timestamp_of,
            poll_interval=1.0,
            on_overlong=engine.count_overlong,
            on_progress=box.set,
        )
        app = BenchApp(engine, alerts, clock, follower, cfg, window="10m", progress=box)
        t = time.perf_counter()
        # As the app loads history: the cyclic GC off until it is in, then the heap frozen
        # (``refresh._settle_gc``, done by the app at its first frame after the load).
        gc.disable()
        follower.start()
        # wait_history() returns once the first read budget of a live file is in; the rest of
        # its history comes through the follow loop, so wait for every line instead.
        while engine.lines.lines < n and follower.error is None:
            time.sleep(0.05)
        load = time.perf_counter() - t
        print(
            f"history loaded by the follower: {load:.1f} s ({n / load:,.0f} lines/s), "
            f"{engine.memory_rows():,} bucket rows"
        )
        writer = subprocess.Popen([sys.executable, __file__, "--writer", str(path)])
        try:
            time.sleep(1.0)
            asyncio.run(drive(app, box, path, writer, engine, args))
        finally:
            if writer.poll() is None:
                writer.terminate()
                writer.wait()
            follower.stop()
        if follower.error is not None:
            print(f"follower stopped with an error: {follower.error}")


if __name__ == "__main__":
    main()
