"""The Textual app: layout, keys, and a 4 Hz timer that turns engine snapshots into a screen.

The app never reads the log. The follower thread feeds the engine; four times a second the timer
asks whether anything the screen depends on changed (engine version, clock second, view state);
if so a thread worker builds a ``Dashboard`` (so a busy engine lock never freezes the UI) and the
UI thread renders it. Tests build the app over a pre-filled engine and a ``FixedClock``, with no
follower, so every frame is deterministic.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import orjson
from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid
from textual.events import Resize
from textual.widgets import DataTable, Footer, Input, Static

from claude_top.config.load import Config
from claude_top.core.clock import Clock
from claude_top.core.text import safe_text
from claude_top.core.windows import WINDOW_CYCLE
from claude_top.engine.engine import Engine
from claude_top.views.live.dashboard import (
    SORT_COLUMNS,
    AlertsLike,
    Dashboard,
    Thresholds,
    build_dashboard,
    export_json,
    feature_detail,
)
from claude_top.views.tui import panels
from claude_top.views.tui.screens import DetailScreen, HelpScreen, RejectedScreen
from claude_top.views.tui.themes import SHIPPED, load_theme, resolve_name, shipped_themes
from claude_top.views.tui.widgets import FeaturesTable, Panel, palette_of

REFRESH_S = 0.25
COMPACT_WIDTH = 120
COMPACT_HEIGHT = 34
WIDE_WIDTH = 150
"""From this width the headroom panel gets a column of its own next to the four side panels."""
SIDE_PANELS = ("alerts", "ratelimits", "headroom", "users", "lines")

HELP_KEYS = (
    ("q", "quit"),
    ("p / space", "pause the view (reading continues)"),
    ("w", "cycle the window: " + ", ".join(WINDOW_CYCLE)),
    ("s / S", "sort by the next column / reverse the direction"),
    ("/", "filter by feature, model or user (escape closes, escape again clears)"),
    ("enter", "open the feature under the cursor: models, users, latency, errors"),
    ("u", "top users by tokens or by cost"),
    ("v", "on a small terminal: show the next side panel (alerts, 429s, headroom, users, lines)"),
    (
        "h",
        "rate-limit headroom: show it on a small terminal, swap it with line health on a mid-size one",
    ),
    ("r", "examples of rejected lines"),
    ("t", "next theme"),
    ("e", "export the current view as JSON (into the current directory)"),
    ("ctrl+s", "save an SVG screenshot (into the current directory)"),
    ("escape", "back"),
    ("?", "this help"),
)


class LatestProgress:
    """The follower's most recent ``Progress``, handed across threads by one assignment."""

    def __init__(self) -> None:
        self.value: Any = None

    def set(self, p: Any) -> None:
        self.value = p

    def get(self) -> Any:
        return self.value


IDLE_S = 30.0
"""On an idle log, how often the snapshot and the alerts are redone (windows still move)."""
ALERTS_S = 1.0
"""How often the alert rules are evaluated (on a worker thread)."""
LOADING_REFRESH_S = 1.0
"""Refresh interval while history loads (every rebuild then starts from cold caches)."""


class _Throttled:
    """The alert rules, evaluated at most once a second of view time.

    Rules look at minute-aligned windows, so evaluating them at every 4 Hz refresh would only
    repeat the same answer at a cost. In ``background`` mode a timer of the app evaluates them
    on a worker thread and a refresh only reads the latest answer, so no frame waits for them.
    Everything else passes through to the real object.
    """

    def __init__(self, alerts: Any, every: float = 1.0) -> None:
        self._alerts = alerts
        self._every = every
        self._at: float | None = None
        self._last: list[Any] = []
        self._lock = threading.Lock()
        self.background = False

    def evaluate(self, now: float) -> list[Any]:
        if self.background and self._at is not None:
            return self._last
        return self.refresh(now)

    def refresh(self, now: float) -> list[Any]:
        with self._lock:
            if self._at is None or not 0 <= now - self._at < self._every:
                self._last = self._alerts.evaluate(now)
                self._at = now
            return self._last

    def __getattr__(self, name: str) -> Any:
        return getattr(self._alerts, name)


class ClaudeTopApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "claude-top"
    ENABLE_COMMAND_PALETTE = False

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("p,space", "pause", "Pause"),
        Binding("w", "cycle_window", "Window"),
        Binding("s", "sort_column", "Sort"),
        Binding("S", "sort_direction", "Sort dir", show=False),
        Binding("slash", "filter", "Filter"),
        Binding("enter", "detail", "Detail"),
        Binding("u", "users_by", "Users by"),
        Binding("v", "cycle_panel", "Panel", show=False),
        Binding("h", "headroom", "Headroom"),
        Binding("r", "rejected", "Rejected", show=False),
        Binding("t", "next_theme", "Theme"),
        Binding("e", "export", "Export"),
        Binding("ctrl+s", "save_svg", "SVG", show=False),
        Binding("question_mark", "help", "Help"),
        Binding("escape", "go_back", "Back", show=False),
    ]

    def __init__(
        self,
        engine: Engine,
        alerts: AlertsLike | None,
        clock: Clock,
        follower: Any = None,
        config: Config | None = None,
        *,
        window: str = "10m",
        theme: str | None = None,
        progress: LatestProgress | None = None,
        threaded: bool = True,
    ) -> None:
        super().__init__()
        self.engine = engine
        self.alerts = alerts
        self._rules = _Throttled(alerts) if alerts is not None else None
        self.clock = clock
        self.follower = follower
        self.config = config or Config()
        self.progress_box = progress
        self.threaded = threaded
        """Build dashboards in a thread worker (tests may turn it off for simpler waits)."""
        self.window_name = window
        self.sort: tuple[str, bool] = ("calls", True)
        self.filter_text = ""
        self.users_by = "tokens"
        self.paused = False
        self.compact = False
        self.wide = False
        self.side_panel = 0
        self.headroom_swapped = False
        """Mid-size terminals: the headroom panel is shown in place of line health (``h``)."""
        self.dashboard: Dashboard | None = None
        self.thresholds = Thresholds.from_alerts(alerts)
        self._building = False
        self._gc_frozen = False
        self._loading_built = 0.0
        self._alerts_version = -1
        self._alerts_at = 0.0
        self._mounted = False
        self._last_key: tuple[Any, ...] | None = None
        self._rate = 0.0
        self._rate_sample: tuple[float, int] | None = None
        names: list[str] = []
        for t in shipped_themes():
            self.register_theme(t)
            names.append(t.name)
        theme_file = self.config.ui.get("theme_file")
        if theme_file:
            user = load_theme(str(theme_file))
            self.register_theme(user)
            names.append(user.name)
        self.theme_names = names or list(SHIPPED)
        wanted = theme or self.config.ui.get("theme")
        if theme_file and not theme:
            wanted = wanted or names[-1]
        self.theme = resolve_name(str(wanted) if wanted else None, list(self.available_themes))

    # -- layout --------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(id="header")
        yield Static(id="kpis")
        yield Static(id="progress")
        yield FeaturesTable(id="features")
        with Grid(id="panels"):
            yield Panel("Alerts", id="alerts")
            yield Panel("Recent 429s", id="ratelimits")
            yield Panel("Rate-limit headroom · last 60 s", id="headroom")
            yield Panel("Top users today", id="users")
            yield Panel("Line health", id="lines")
        yield Input(placeholder="filter: feature, model or user", id="filter")
        yield Footer()

    def on_mount(self) -> None:
        self._mounted = True
        self.query_one("#progress").display = False
        self.query_one("#filter").display = False
        self._apply_layout(self.size.width, self.size.height)
        self.query_one(FeaturesTable).focus()
        self.theme_changed_signal.subscribe(self, lambda _t: self._render())
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

    def on_resize(self, event: Resize) -> None:
        self._apply_layout(event.size.width, event.size.height)

    def _apply_layout(self, width: int, height: int) -> None:
        compact = width < COMPACT_WIDTH or height < COMPACT_HEIGHT
        wide = not compact and width >= WIDE_WIDTH
        changed = compact != self.compact
        self.compact = compact
        self.wide = wide
        self.set_class(compact, "-compact")
        self.set_class(wide, "-wide")
        for i, name in enumerate(SIDE_PANELS):
            if compact:
                shown = i == self.side_panel
            elif wide:
                shown = True
            elif name == "headroom":
                shown = self.headroom_swapped
            else:
                shown = name != "lines" or not self.headroom_swapped
            self.query_one(f"#{name}").display = shown
        if changed:
            self._render()

    # -- refresh -------------------------------------------------------------------------------

    def _view_state(self) -> tuple[Any, ...]:
        return (self.window_name, self.sort, self.filter_text, self.users_by, self.paused)

    def _sample_rate(self) -> None:
        lines = self.engine.lines.lines
        t = time.monotonic()
        if self._rate_sample is not None:
            t0, n0 = self._rate_sample
            if t - t0 >= 1.0:
                self._rate = max(0.0, (lines - n0) / (t - t0))
                self._rate_sample = (t, lines)
        else:
            self._rate_sample = (t, lines)

    def _tick(self) -> None:
        self._sample_rate()
        if self._building:
            return
        now = self.clock.now()
        state = self._view_state()
        statuses = list(self.follower.statuses) if self.follower is not None else []
        prog = self.progress_box.get() if self.progress_box is not None else None
        loading = prog is not None and not prog.history_done
        if loading and time.monotonic() - self._loading_built < LOADING_REFRESH_S:
            return  # while history loads, a snapshot a second is enough and leaves it the CPU
        key = (
            self.engine.version,
            int(now // IDLE_S),  # idle: windows move on every 30 s; the header clock each second
            state,
            tuple((s.path, s.state) for s in statuses),
            None if prog is None else (prog.lines, prog.history_done),
        )
        if key == self._last_key:
            self._tick_header(now)
            return
        if self.paused and self._last_key is not None and self._last_key[2] == state:
            return
        self._last_key = key
        self._building = True
        if loading:
            self._loading_built = time.monotonic()
        args = (now, state, statuses, prog, self._rate)
        if self.threaded:
            self._build_in_thread(*args)
        else:
            self._apply(self._build(*args))

    def _build(
        self, now: float, state: tuple[Any, ...], statuses: list[Any], prog: Any, rate: float
    ) -> Dashboard:
        window, sort, filter_text, users_by, paused = state
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
        )

    def _alerts_tick(self) -> None:
        d = self.dashboard
        if d is None or self._rules is None or (d.progress is not None and not d.progress.done):
            return
        now = self.clock.now()
        # On an idle log the answers only move with the windows: every 15 s is enough.
        if self.engine.version == self._alerts_version and now - self._alerts_at < IDLE_S:
            return
        self._alerts_version, self._alerts_at = self.engine.version, now
        self._alerts_in_thread(d.now + (now - d.clock_now))

    @work(thread=True, group="alerts", exclusive=True, exit_on_error=False)
    def _alerts_in_thread(self, now: float) -> None:
        assert self._rules is not None
        self._rules.refresh(now)

    @work(thread=True, group="build", exit_on_error=False)
    def _build_in_thread(
        self, now: float, state: tuple[Any, ...], statuses: list[Any], prog: Any, rate: float
    ) -> None:
        try:
            d = self._build(now, state, statuses, prog, rate)
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
        if self.follower is not None and (d.progress is None or d.progress.done):
            self._settle_gc()
        self._render()

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

    def _render(self) -> None:
        d = self.dashboard
        if d is None or not self._mounted:
            return
        pal = palette_of(self)
        self.query_one("#header", Static).update(panels.header(d, pal))
        self.query_one("#kpis", Static).update(panels.kpi_strip(d, pal, self.compact))
        prog = panels.progress(d, pal, width=30 if self.compact else 40)
        pw = self.query_one("#progress", Static)
        pw.display = prog is not None
        if prog is not None:
            pw.update(prog)
        cols = panels.COMPACT if self.compact else panels.WIDE
        self.query_one(FeaturesTable).show(d, pal, cols, 16 if self.compact else 24)
        alerts = self.query_one("#alerts", Panel)
        alerts.border_title = f"Alerts ({len(d.alerts)} firing)" if d.alerts else "Alerts"
        alerts.show(panels.alerts(d, pal))
        self.query_one("#ratelimits", Panel).show(
            panels.rate_limits(d, pal, bursts=1 if self.compact else 2)
        )
        self.query_one("#headroom", Panel).show(panels.headroom(d, pal, self.compact))
        users = self.query_one("#users", Panel)
        users.border_title = f"Top users today by {d.users_by} (u)"
        users.show(panels.users(d, pal))
        self.query_one("#lines", Panel).show(panels.line_health(d, pal))

    def _tick_header(self, now: float) -> None:
        """Keep "newest N s ago" and the ingest rate true between rebuilds: a header redraw,
        not a new snapshot."""
        d = self.dashboard
        if d is None or not self._mounted or d.newest_ts is None or self.paused:
            return
        age = now - d.newest_ts
        if (
            d.newest_age_s is not None
            and int(age) == int(d.newest_age_s)
            and round(self._rate) == round(d.ingest_rate)
        ):
            return
        self.dashboard = d = dataclasses.replace(d, newest_age_s=age, ingest_rate=self._rate)
        self.query_one("#header", Static).update(panels.header(d, palette_of(self)))

    def refresh_now(self) -> None:
        """Rebuild at the next opportunity (after a key changed the view)."""
        self._last_key = None
        self._tick()

    # -- actions -------------------------------------------------------------------------------

    def action_pause(self) -> None:
        self.paused = not self.paused
        self.refresh_now()

    def action_cycle_window(self) -> None:
        cycle = list(WINDOW_CYCLE)
        i = cycle.index(self.window_name) if self.window_name in cycle else -1
        self.window_name = cycle[(i + 1) % len(cycle)]
        self.refresh_now()

    def action_sort_column(self) -> None:
        col = self.sort[0]
        i = SORT_COLUMNS.index(col) if col in SORT_COLUMNS else 0
        shown = panels.COMPACT if self.compact else panels.WIDE
        for k in range(1, len(SORT_COLUMNS) + 1):
            nxt = SORT_COLUMNS[(i + k) % len(SORT_COLUMNS)]
            if nxt in shown:
                break
        self.sort = (nxt, nxt != "feature")
        self.refresh_now()

    def action_sort_direction(self) -> None:
        col, desc = self.sort
        self.sort = (col, not desc)
        self.refresh_now()

    def action_users_by(self) -> None:
        self.users_by = "cost" if self.users_by == "tokens" else "tokens"
        if self.compact:
            self.side_panel = SIDE_PANELS.index("users")
            self._apply_layout(self.size.width, self.size.height)
        self.refresh_now()

    def action_cycle_panel(self) -> None:
        self.side_panel = (self.side_panel + 1) % len(SIDE_PANELS)
        self._apply_layout(self.size.width, self.size.height)

    def action_headroom(self) -> None:
        if self.compact:
            self.side_panel = SIDE_PANELS.index("headroom")
        elif not self.wide:
            self.headroom_swapped = not self.headroom_swapped
        self._apply_layout(self.size.width, self.size.height)

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.value = self.filter_text
        box.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "filter":
            self.filter_text = event.value
            self.refresh_now()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "filter":
            event.input.display = False
            self.query_one(FeaturesTable).focus()

    def action_go_back(self) -> None:
        box = self.query_one("#filter", Input)
        if box.display:
            box.display = False
            self.query_one(FeaturesTable).focus()
        elif self.filter_text:
            self.filter_text = ""
            self.refresh_now()
        elif len(self.screen_stack) > 1:
            self.pop_screen()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.open_detail(str(event.row_key.value))

    def action_detail(self) -> None:
        feature = self.query_one(FeaturesTable).cursor_feature
        if feature is not None:
            self.open_detail(feature)

    def open_detail(self, feature: str) -> None:
        d = self.dashboard
        if d is None:
            return
        fd = feature_detail(self.engine, feature, d.window_start, d.window_end)
        title = f"{safe_text(feature, 40)} · window {d.window_name} · escape: back"
        self.push_screen(DetailScreen(title, panels.detail(fd, d.tz, palette_of(self))))

    def action_rejected(self) -> None:
        d = self.dashboard
        if d is not None:
            body = panels.rejected_examples(d, palette_of(self))
            self.push_screen(RejectedScreen("Rejected lines · escape: back", body))

    def action_help(self) -> None:
        self.push_screen(HelpScreen(HELP_KEYS, palette_of(self)))

    def action_next_theme(self) -> None:
        names = self.theme_names
        i = names.index(self.theme) if self.theme in names else -1
        self.theme = names[(i + 1) % len(names)]
        self.notify(f"theme: {self.theme}", timeout=2)

    def _stamp(self) -> str:
        t = self.dashboard.now if self.dashboard is not None else self.clock.now()
        return datetime.fromtimestamp(t, UTC).strftime("%Y%m%dT%H%M%SZ")

    def action_export(self) -> None:
        d = self.dashboard
        if d is None:
            return
        path = _free_path(Path.cwd() / f"claude-top-{self._stamp()}.json")
        try:
            path.write_bytes(orjson.dumps(export_json(d), option=orjson.OPT_INDENT_2))
        except OSError as e:
            self.notify(f"export failed: {e.strerror or e}", severity="error")
            return
        self.notify(f"exported view to {path}", timeout=4)

    def action_save_svg(self) -> None:
        path = _free_path(Path.cwd() / f"claude-top-{self._stamp()}.svg")
        try:
            saved = self.save_screenshot(filename=path.name, path=str(path.parent))
        except OSError as e:
            self.notify(f"screenshot failed: {e.strerror or e}", severity="error")
            return
        self.notify(f"saved screenshot {saved}", timeout=4)


def _free_path(p: Path) -> Path:
    if not p.exists():
        return p
    for i in range(1, 1000):
        q = p.with_name(f"{p.stem}-{i}{p.suffix}")
        if not q.exists():
            return q
    return p
