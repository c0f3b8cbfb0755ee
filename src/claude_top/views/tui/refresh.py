"""The refresh loop: when to rebuild the dashboard, on which thread, and when to only redraw.

The app never reads the log. The follower thread feeds the engine; four times a second a timer
asks whether anything the screen depends on changed (engine version, the 30 s idle step, view
state, sources, load progress); if so a thread worker builds a ``Dashboard`` (so a busy engine
lock never freezes the UI) and the UI thread renders it. The alert rules run on their own 1 Hz
worker. ``RefreshingApp`` owns that loop and the view state it reads; the app on top of it owns
the layout, the drawing (``_render``) and the keys.

It sits just over the ~400 lines we aim for: the tick's decision to build, the build worker,
the loading throttle, the alert rules' worker and the first-screen event all read and set the
same few fields (what is building, what the last frame was built from), and keeping them in one
class keeps that bookkeeping in one place.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import threading
import time
from collections.abc import Callable
from typing import Any

from textual import work
from textual.app import App
from textual.css.query import NoMatches

from claude_top.core.clock import Clock
from claude_top.engine.engine import Engine
from claude_top.rules.sources import source_problems
from claude_top.views.live.dashboard import AlertsLike, Dashboard, Thresholds, build_dashboard
from claude_top.views.live.status import progress_row
from claude_top.views.tui.handoff import LatestProgress, ThrottledAlerts
from claude_top.views.tui.rate import IngestRate

REFRESH_S = 0.25
IDLE_S = 30.0
"""On an idle log, how often the snapshot and the alerts are redone (windows still move)."""
ALERTS_S = 1.0
"""How often the alert rules are evaluated (on a worker thread)."""
LOADING_REFRESH_S = 1.0
"""While history loads: how often the progress line is redrawn, and the least time between two
rebuilds of the frame (every rebuild then starts from cold caches)."""
LOADING_BUILD_SHARE = 0.1
"""While history loads, rebuilds of the frame take at most this share of the wall time: the
next starts no sooner than its last build time over this share after that build began.

Why: a loading frame's build competes with the follower for the one interpreter, and its cost
grows with what has been read (0.15-0.3 s over a 1M-line history, ~15% of the load's CPU at a
rebuild a second). The figures of a loading frame are partial anyway; the progress line, the
one thing that moves for certain, is redrawn every ``LOADING_REFRESH_S`` from the follower's
own counters without a rebuild (``_show_progress``)."""


class RefreshingApp(App[None]):
    """An app that keeps ``self.dashboard`` current and calls ``_render`` when it changes."""

    def __init__(
        self,
        engine: Engine,
        alerts: AlertsLike | None,
        clock: Clock,
        follower: Any = None,
        *,
        window: str = "10m",
        progress: LatestProgress | None = None,
        threaded: bool = True,
        driver_class: Any = None,
    ) -> None:
        super().__init__(driver_class=driver_class)
        self.engine = engine
        self.alerts = alerts
        self._rules = ThrottledAlerts(alerts) if alerts is not None else None
        self.clock = clock
        self.follower = follower
        self.progress_box = progress
        self.threaded = threaded
        """Build dashboards in a thread worker (tests may turn it off for simpler waits)."""
        self.window_name = window
        self.sort: tuple[str, bool] = ("calls", True)
        self.filter_text = ""
        self.users_by = "tokens"
        self.paused = False
        self.charts = True
        """Build the all-traffic charts with each frame (the benchmark compares without)."""
        self.dashboard: Dashboard | None = None
        self.by_host: Any = None
        """The host dimension (``engine.hosts.ByHost``), for the hosts panel; None: one host."""
        self.thresholds = Thresholds.from_alerts(alerts)
        self._mounted = False
        self._building = False
        self._gc_frozen = False
        self.monotonic: Callable[[], float] = time.monotonic
        """The clock of the loading throttle (tests inject one that moves when they say)."""
        self._loading_built = -float("inf")
        """When the last frame built while history loads began (``monotonic``)."""
        self._loading_every = LOADING_REFRESH_S
        """The least time from that build's start to the next (``LOADING_BUILD_SHARE``)."""
        self._progress_at = -float("inf")
        self._alerts_version: tuple[int, tuple[Any, ...]] = (-1, ())
        self._alerts_at = 0.0
        self._alerts_news = 0
        """How many times the alerts worker found a new answer (a new frame shows it)."""
        self._last_key: tuple[Any, ...] | None = None
        self._rate = 0.0
        self._rate_meter = IngestRate()
        self._header_now = 0.0
        """The clock the header shows (ticks each second, between rebuilds too)."""
        self._header_live: tuple[int, float | None, int] | None = None
        """(second, age, rate) the header last showed between rebuilds; redrawn only when the
        clock's second moves (``_tick_header``)."""
        self.first_screen = threading.Event()
        """Set once the first frame built after the history was read is on the terminal.
        What a warm start leaves for later (``state.later``: the users' archive, older
        histograms) waits for it: run before, that work would share the one interpreter with
        the first frame's build and delay it by as long as it takes."""

    # -- what the subclass draws ---------------------------------------------------------------

    def _render(self) -> None:
        """Draw ``self.dashboard`` into the widgets."""
        raise NotImplementedError

    def _render_header(self, d: Dashboard) -> None:
        """Redraw only the header line (its clock and rate move between rebuilds)."""
        raise NotImplementedError

    # -- the loop ------------------------------------------------------------------------------

    def _start_refresh(self) -> None:
        """Start the timers; called once the widgets are mounted."""
        self._mounted = True
        if self.follower is not None:
            gc.disable()  # while history loads; see _settle_gc
        self.set_interval(REFRESH_S, self._tick)
        if self.threaded and self._rules is not None:
            self._rules.background = True
            self.set_interval(ALERTS_S, self._alerts_tick)
        self._tick()

    def on_unmount(self) -> None:
        if self.follower is not None and not self._gc_frozen:
            gc.enable()  # quit before the history was in

    def _view_state(self) -> tuple[Any, ...]:
        return (
            self.window_name,
            self.sort,
            self.filter_text,
            self.users_by,
            self.paused,
            self._detail_feature(),
        )

    def _detail_feature(self) -> str | None:
        """The feature of the detail page on top, if one is open: the frame builds its numbers."""
        for screen in reversed(self.screen_stack):
            feature = getattr(screen, "feature", None)
            if isinstance(feature, str):
                return feature
        return None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Over a live page, only the app keys that act on that page (``pages.LivePage``)."""
        allowed = getattr(self.screen, "APP_ACTIONS", None)
        refused = allowed is not None and action in self._main_actions() and action not in allowed
        return not refused

    def _main_actions(self) -> frozenset[str]:
        return frozenset(getattr(b, "action", "") for b in self.BINDINGS)

    def _sample_rate(self) -> None:
        prog = self.progress_box.get() if self.progress_box is not None else None
        loading = prog is not None and not prog.history_done
        self._rate = self._rate_meter.sample(time.monotonic(), self.engine.lines.lines, loading)

    def _tick(self) -> None:
        self._sample_rate()
        if self._building:
            return
        now = self.clock.now()
        state = self._view_state()
        statuses = list(self.follower.statuses) if self.follower is not None else []
        prog = self.progress_box.get() if self.progress_box is not None else None
        loading = prog is not None and not prog.history_done
        if loading and self._last_key is not None:  # (a key changed the view: rebuild now)
            t = self.monotonic()
            if t - self._loading_built < self._loading_every:
                if t - self._progress_at >= LOADING_REFRESH_S:
                    self._show_progress(prog, t)
                return  # rebuilds throttled: they would take the follower's CPU
        key = (
            self.engine.version,
            int(now // IDLE_S),  # idle: windows move on every 30 s; the header clock each second
            state,
            tuple((s.path, s.state) for s in statuses),
            None if prog is None else (prog.lines, prog.history_done),
            self._alerts_key(),
        )
        if key == self._last_key:
            self._tick_header(now)
            return
        if self.paused and self._last_key is not None and self._last_key[2] == state:
            self._tick_header(now)  # the data stays frozen; the clock and the rates move on
            return
        self._last_key = key
        self._building = True
        if loading:
            self._loading_built = self._progress_at = self.monotonic()
        args = (now, state, statuses, prog, self._rate)
        if self.threaded:
            self._build_in_thread(*args, rules_at=self._idle_rules_at(now))
        else:
            self._apply(self._timed_build(*args))

    def _timed_build(
        self, now: float, state: tuple[Any, ...], statuses: list[Any], prog: Any, rate: float
    ) -> Dashboard:
        """``_build``, its time setting when the next may start while history loads."""
        t0 = self.monotonic()
        d = self._build(now, state, statuses, prog, rate)
        self._loading_every = max(LOADING_REFRESH_S, (self.monotonic() - t0) / LOADING_BUILD_SHARE)
        return d

    def _show_progress(self, prog: Any, t: float) -> None:
        """Between throttled rebuilds, redraw the progress line (lines read, rate, time left)
        from the follower's latest counters over the last frame: only its region and the
        header change (``draw``), so this costs no snapshot of the engine."""
        d = self.dashboard
        self._progress_at = t
        if d is None or d.progress is None or not self._mounted:
            return
        self.dashboard = dataclasses.replace(d, progress=progress_row(prog), ingest_rate=self._rate)
        self._render()

    def _build(
        self, now: float, state: tuple[Any, ...], statuses: list[Any], prog: Any, rate: float
    ) -> Dashboard:
        window, sort, filter_text, users_by, paused, detail = state
        return build_dashboard(
            self.engine,
            self._rules,
            now=now,
            window_name=window,
            tz=self.engine.tz,
            sort=sort,
            filter_text=filter_text,
            users_by=users_by,
            statuses=statuses,
            progress=prog,
            paused=paused,
            ingest_rate=rate,
            thresholds=self.thresholds,
            by_host=self.by_host,
            detail_feature=detail,
            charts=self.charts,
        )

    def _alerts_key(self) -> int:
        """What of the alert rules' answer a frame depends on."""
        if self._rules is None:
            return 0
        # In the background, a new answer of the alerts worker; a build that evaluated the rules
        # itself (``_idle_rules_at``) shows its answer already and bumps nothing here.
        return self._alerts_news if self._rules.background else self._rules.version

    def _idle_rules_at(self, now: float) -> float | None:
        """On an idle log, when the 30 s step moves: the time the build should evaluate the
        rules at, before it reads the engine (else None).

        Why: the step moves the windows, so the rules' answer may change too; evaluated apart
        by the alerts worker, a changed answer would cost a second frame a moment after the
        first. Evaluated by the build, one frame shows both.
        """
        d = self.dashboard
        if self._rules is None or not self._rules.background or d is None:
            return None
        if d.progress is not None and not d.progress.done:
            return None
        if int(now // IDLE_S) == int(self._alerts_at // IDLE_S):
            return None
        version = (self.engine.version, self._sources_key())
        if version != self._alerts_version:
            return None  # new data: the alerts worker evaluates it within a second
        self._alerts_at = now
        return d.now + (now - d.clock_now)

    def _alerts_tick(self) -> None:
        d = self.dashboard
        if d is None or self._rules is None or (d.progress is not None and not d.progress.done):
            return
        now = self.clock.now()
        # On an idle log the answers only move with the windows: the frame built when the
        # IDLE_S step moves evaluates them (``_idle_rules_at``); this tick only when the data
        # or the health of a source changed (which moves no engine version), or when no frame
        # did it for a step (paused).
        version = (self.engine.version, self._sources_key())
        if version == self._alerts_version and now - self._alerts_at < IDLE_S + ALERTS_S:
            return
        self._alerts_version, self._alerts_at = version, now
        self._alerts_in_thread(d.now + (now - d.clock_now))

    def _sources_key(self) -> tuple[Any, ...]:
        """The source problems now (``rules.sources``): what the ``source`` rule would say."""
        rule = self.alerts.rule("source") if self.alerts is not None else None
        if self.follower is None or rule is None:
            return ()
        problems = source_problems(self.follower, time.time(), rule.threshold)
        return tuple((p.path, p.since) for p in problems)

    @work(thread=True, group="alerts", exclusive=True, exit_on_error=False)
    def _alerts_in_thread(self, now: float) -> None:
        assert self._rules is not None
        before = self._rules.version
        self._rules.refresh(now, force=True)
        if self._rules.version != before:
            with contextlib.suppress(RuntimeError):  # the app is shutting down
                self.call_from_thread(self._alerts_changed)

    def _alerts_changed(self) -> None:
        self._alerts_news += 1

    @work(thread=True, group="build", exit_on_error=False)
    def _build_in_thread(
        self,
        now: float,
        state: tuple[Any, ...],
        statuses: list[Any],
        prog: Any,
        rate: float,
        rules_at: float | None = None,
    ) -> None:
        try:
            if rules_at is not None and self._rules is not None:
                self._rules.refresh(rules_at, force=True)
            d = self._timed_build(now, state, statuses, prog, rate)
        except Exception as e:  # keep the UI alive; show what went wrong
            self.call_from_thread(self._build_failed, e)
            return
        with contextlib.suppress(RuntimeError):  # the app is shutting down
            self.call_from_thread(self._apply, d)

    def _build_failed(self, e: Exception) -> None:
        self._building = False
        self.notify(f"refresh failed: {e}", severity="error", timeout=5)

    def _apply(self, d: Dashboard) -> None:
        self._building = False
        self.dashboard = d
        self._header_live = None  # the new frame's header: the next tick compares with it
        history_in = d.progress is None or d.progress.done
        if self.follower is not None and history_in:
            self._settle_gc()
        try:
            self._render()
        except NoMatches:
            # A frame built on the worker thread can arrive while the app is quitting and its
            # widgets are already gone: there is nothing left to draw it on.
            return
        for screen in self.screen_stack:
            show = getattr(screen, "show_frame", None)
            if show is not None:
                show(d)
        if history_in and not self.first_screen.is_set():
            self.call_after_refresh(self.first_screen.set)  # once it is painted
        if self._last_key is None:  # a key changed the view while this frame was being built
            self._tick()

    def _settle_gc(self) -> None:
        """Once history is in, move the engine's long-lived rows out of the GC's sight.

        They hold no reference cycles: rescanning hundreds of thousands of them while history
        loads costs a third of the load time, and in every later full collection would stall a
        refresh. So the cyclic GC is off during the load, then the heap is frozen and the GC
        back on for what the session allocates from then on.
        """
        if not self._gc_frozen:
            self._gc_frozen = True
            gc.freeze()
            gc.enable()

    def _tick_header(self, now: float) -> None:
        """Keep the clock, "newest N s ago" and the ingest rate true between rebuilds: a header
        redraw, not a new snapshot. While paused the frame stays as it was (``self.dashboard``
        is not touched) and the header is drawn over it with the live figures."""
        d = self.dashboard
        if d is None or not self._mounted:
            return
        second = int(now)
        last = self._header_live
        if last is not None and last[0] == second:
            # The age and the rate are read when the clock's second moves, not when their own
            # figures do: out of step, they would redraw the header up to four times a second
            # (the rate moves at every tick for ten seconds after the lines stop), and every
            # header redraw costs a pass of the compositor over the screen.
            return
        newest = self.engine.newest_ts if self.paused else d.newest_ts  # reading goes on
        age = None if newest is None else float(int(now - newest))
        live = (second, age, round(self._rate))
        if live == last:
            return
        self._header_live = live
        self._header_now = now
        if self.paused:
            self._render_header(dataclasses.replace(d, newest_age_s=age, ingest_rate=self._rate))
            return
        self.dashboard = d = dataclasses.replace(d, newest_age_s=age, ingest_rate=self._rate)
        self._render_header(d)

    def refresh_now(self) -> None:
        """Rebuild at the next opportunity (after a key changed the view)."""
        self._last_key = None
        self._tick()
