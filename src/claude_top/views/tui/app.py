"""The Textual app: layout, drawing and keys over the refresh loop of ``RefreshingApp``.

The app never reads the log (see ``refresh``). Tests build it over a pre-filled engine and a
``FixedClock``, with no follower, so every frame is deterministic. Each region is drawn by a pure
function of ``panels``; this module only decides which regions show at the terminal's size and
hands each widget its renderable.

It sits just over the ~400 lines we aim for: the key actions are one short method each, which
Textual requires on the app; drawing (``draw``), layout (``layout``), the refresh loop
(``refresh``) and the keys table (``keys``) are already apart.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Grid
from textual.events import Resize
from textual.widgets import Footer, Input

from claude_top.config.load import Config
from claude_top.config.state import save_ui_state
from claude_top.core.clock import Clock
from claude_top.core.text import safe_text
from claude_top.core.windows import WINDOW_CYCLE
from claude_top.engine.engine import Engine
from claude_top.views.live.dashboard import SORT_COLUMNS, AlertsLike, Dashboard, feature_detail
from claude_top.views.tui import keys, layout, panels
from claude_top.views.tui.draw import Drawn, draw_main, hosts_rows
from claude_top.views.tui.export import export_view, view_path
from claude_top.views.tui.handoff import LatestProgress
from claude_top.views.tui.pages import AlertsScreen, LiveDetailScreen
from claude_top.views.tui.panels import Palette
from claude_top.views.tui.refresh import RefreshingApp
from claude_top.views.tui.screens import HelpScreen, RejectedScreen, open_page
from claude_top.views.tui.terminal import Terminal, TerminalDriver
from claude_top.views.tui.themes import SHIPPED, load_theme, resolve_name, shipped_themes
from claude_top.views.tui.widgets import FeaturesTable, HeaderLine, Line, Panel, palette_of

__all__ = ["ClaudeTopApp", "LatestProgress"]

COMPACT_WIDTH = layout.COMPACT_WIDTH
COMPACT_HEIGHT = layout.COMPACT_HEIGHT
WIDE_WIDTH = layout.WIDE_WIDTH
SIDE_PANELS = ("alerts", "ratelimits", "headroom", "users", "lines")


class ClaudeTopApp(RefreshingApp):
    """claude-top's screen: header, KPIs, the features table and the side panels."""

    CSS_PATH = "app.tcss"
    TITLE = "claude-top"
    ENABLE_COMMAND_PALETTE = False

    BINDINGS: ClassVar[list[BindingType]] = keys.BINDINGS

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
        terminal: Terminal | None = None,
        ui_state: dict[str, Any] | None = None,
        remember: bool = False,
        export_dir: Path | None = None,
    ) -> None:
        self.terminal = terminal
        """The controlling terminal to draw on and read keys from (None: Textual's default,
        as in tests)."""
        super().__init__(
            engine,
            alerts,
            clock,
            follower,
            window=window,
            progress=progress,
            threaded=threaded,
            driver_class=TerminalDriver if terminal is not None else None,
        )
        self.config = config or Config()
        self.compact = False
        self.wide = False
        self.side_panel = 0
        self.plan: layout.Plan | None = None
        self._laid_out = (80, 24)
        self.headroom_swapped = False
        self.drawn = Drawn()
        """What each region of the main screen was last drawn from (``draw``)."""
        self._pal: tuple[tuple[str, bool], Palette] | None = None
        """Mid-size terminals: the headroom panel is shown in place of line health (``h``)."""
        self._header: HeaderLine | None = None
        """The header widget, found once (``_render_header``)."""
        self.export_dir = (export_dir or Path.cwd()).absolute()
        """Where ``e`` and ctrl+s write (``--export-dir``, ``[ui] export_dir``, else the cwd)."""
        self.remember = remember
        """Save the user's choices to the state file as they are made (off in tests)."""
        self._state_failed = False
        state = ui_state or {}
        self._install_themes(theme or state.get("theme"))
        if state.get("sort") in SORT_COLUMNS:
            self.sort = (str(state["sort"]), bool(state.get("sort_desc", True)))
        if state.get("users_by") in ("tokens", "cost"):
            self.users_by = str(state["users_by"])

    def _install_themes(self, theme: str | None) -> None:
        """Register the shipped themes and the config's theme file; pick the one asked for."""
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
        yield HeaderLine(id="header")
        yield Line(id="kpis")
        yield Line(id="progress")
        yield FeaturesTable(id="features")
        yield Panel("Hosts", id="hosts")
        yield Panel("All traffic", id="charts")
        with Grid(id="panels"):
            yield Panel("Alerts", id="alerts")
            yield Panel("Recent 429s", id="ratelimits")
            yield Panel("Rate-limit headroom · last 60 s", id="headroom")
            yield Panel("Top users today", id="users")
            yield Panel("Line health", id="lines")
        yield Input(placeholder="filter: feature, model or user", id="filter")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#progress").display = False
        self.query_one("#filter").display = False
        self.query_one("#hosts").display = False
        self._apply_layout(self.size.width, self.size.height)
        self.query_one(FeaturesTable).focus()
        self.theme_changed_signal.subscribe(self, lambda _t: self._render())
        self._start_refresh()

    def on_resize(self, event: Resize) -> None:
        self._apply_layout(event.size.width, event.size.height)

    def _apply_layout(self, width: int, height: int) -> None:
        """Share the rows out from the content (``layout.plan``) and pick the panels shown."""
        d = self.dashboard
        compact = layout.is_compact(width, height)
        p = layout.plan(
            width,
            height,
            len(d.features) if d is not None else 0,
            d is not None and d.progress is not None and not d.progress.done,
            extra=hosts_rows(d, compact) if d is not None else 0,
        )
        old = self.plan
        changed = p.compact != self.compact or old is None or (old.charts > 0) != (p.charts > 0)
        self.compact, self.wide, self.plan = p.compact, p.wide, p
        self._laid_out = (width, height)
        self.set_class(p.compact, "-compact")
        self.set_class(p.wide, "-wide")
        # Textual's compact footer drops the padding between keys: at 80 columns every key fits.
        self.query_one(Footer).compact = p.compact
        self.query_one(FeaturesTable).styles.height = p.table
        charts = self.query_one("#charts", Panel)
        charts.display = p.charts > 0
        charts.styles.height = max(1, p.charts)
        self.query_one("#panels").styles.height = p.panels
        for i, name in enumerate(SIDE_PANELS):
            if p.compact:
                shown = i == self.side_panel
            elif p.wide:
                shown = True
            elif name == "headroom":
                shown = self.headroom_swapped
            else:
                shown = name != "lines" or not self.headroom_swapped
            self.query_one(f"#{name}").display = shown
        if changed:
            self.refresh_bindings()
            self._render()

    def _render(self) -> None:
        d = self.dashboard
        if d is None or not self._mounted:
            return
        w, h = self._laid_out
        loading = d.progress is not None and not d.progress.done
        extra = hosts_rows(d, layout.is_compact(w, h))
        if layout.plan(w, h, len(d.features), loading, extra=extra) != self.plan:
            self._apply_layout(w, h)  # the content changed the rows it needs
        pal = self._palette()
        self._render_header(d, pal)
        draw_main(self, d, pal)

    def _palette(self) -> Palette:
        """The theme's palette, worked out once per theme (not at every frame)."""
        key = (self.theme, self.no_color)
        if self._pal is None or self._pal[0] != key:
            self._pal = (key, palette_of(self))
        return self._pal[1]

    def _render_header(self, d: Dashboard, pal: Palette | None = None) -> None:
        # The header's own timer also ticks while the main screen is being built or torn down
        # (start-up, quit): no header then is nothing to draw, not an error.
        target = self._header
        if target is None or not target.is_attached or target.screen is not self.screen:
            # Looked up again only then (a query walks the screen's widgets): not found while
            # a page is on top of the main screen, as a query of the app finds it then.
            target = self._header = next(self.query("#header").results(HeaderLine), None)
            if target is None:
                return
        # One row high whatever it says: a repaint of that row, not a layout of the screen.
        target.update(
            panels.header(d, pal or self._palette(), now=self._header_now or None), layout=False
        )

    # -- remembered choices --------------------------------------------------------------------

    def _remember(self) -> None:
        """Save theme, window, sort and users-by for the next run (``config.state``)."""
        if not self.remember:
            return
        choices = {
            "theme": self.theme,
            "window": self.window_name,
            "sort": self.sort[0],
            "sort_desc": self.sort[1],
            "users_by": self.users_by,
        }
        try:
            save_ui_state(choices)
        except OSError as e:
            if not self._state_failed:  # once: the screen is not the place for a stream of these
                self._state_failed = True
                self.notify(f"cannot save UI choices: {e.strerror or e}", severity="warning")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if not super().check_action(action, parameters):
            return False  # a live page takes only its keys
        if action == "cycle_panel":
            return self.compact  # only small terminals fold panels away; elsewhere v is hidden
        return True

    # -- actions -------------------------------------------------------------------------------

    def action_pause(self) -> None:
        self.paused = not self.paused
        self.refresh_now()

    def action_cycle_window(self) -> None:
        cycle = list(WINDOW_CYCLE)
        i = cycle.index(self.window_name) if self.window_name in cycle else -1
        self.window_name = cycle[(i + 1) % len(cycle)]
        self._remember()
        self.refresh_now()

    def _shown_sort_columns(self) -> list[str]:
        shown = panels.COMPACT if self.compact else panels.WIDE
        return [c for c in SORT_COLUMNS if c in shown]

    def _sort_by(self, col: str, desc: bool | None = None) -> None:
        self.sort = (col, col != "feature" if desc is None else desc)
        self._remember()
        self.refresh_now()

    def _move_sort(self, step: int) -> None:
        cols = self._shown_sort_columns()
        col = self.sort[0]
        i = cols.index(col) if col in cols else (-1 if step > 0 else 0)
        self._sort_by(cols[(i + step) % len(cols)])

    def action_sort_column(self) -> None:
        self._move_sort(1)

    def action_sort_right(self) -> None:
        self._move_sort(1)

    def action_sort_left(self) -> None:
        self._move_sort(-1)

    def action_sort_direction(self) -> None:
        col, desc = self.sort
        self._sort_by(col, not desc)

    def on_features_table_header_selected(self, event: FeaturesTable.HeaderSelected) -> None:
        """A click on a column header sorts by it; a second click reverses the direction."""
        col = event.column
        if col not in SORT_COLUMNS:
            return
        if col == self.sort[0]:
            self._sort_by(col, not self.sort[1])
        else:
            self._sort_by(str(col))

    def action_users_by(self) -> None:
        self.users_by = "cost" if self.users_by == "tokens" else "tokens"
        self._remember()
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

    def on_features_table_row_selected(self, event: FeaturesTable.RowSelected) -> None:
        self.open_detail(event.feature)

    def action_detail(self) -> None:
        feature = self.query_one(FeaturesTable).cursor_feature
        if feature is not None:
            self.open_detail(feature)

    def open_detail(self, feature: str) -> None:
        """The feature's page, live: every frame from now on carries its detail."""
        d = self.dashboard
        if d is None:
            return
        fd = feature_detail(
            self.engine, feature, d.window_start, d.window_end, thresholds=self.thresholds
        )
        self.dashboard = dataclasses.replace(d, detail=fd)
        open_page(self, LiveDetailScreen(feature))

    def action_alerts(self) -> None:
        """Every firing alert in full, with its history (``pages.AlertsScreen``)."""
        open_page(self, AlertsScreen())

    def action_rejected(self) -> None:
        d = self.dashboard
        if d is not None:
            body = panels.rejected_examples(d, palette_of(self))
            open_page(self, RejectedScreen("Rejected lines · escape: back", body))

    def action_help(self) -> None:
        open_page(self, HelpScreen(keys.HELP_KEYS, palette_of(self), keys.LEGEND))

    def action_next_theme(self) -> None:
        names = self.theme_names
        i = names.index(self.theme) if self.theme in names else -1
        self.theme = names[(i + 1) % len(names)]
        self._remember()
        self.notify(f"theme: {self.theme}", timeout=2)

    def action_export(self) -> None:
        d = self.dashboard
        if d is None:
            return
        try:
            path = export_view(d, self.export_dir)
        except OSError as e:
            self.notify(
                f"export failed: {safe_text(str(self.export_dir))}: {e.strerror or e}",
                severity="error",
            )
            return
        self.notify(f"exported view to {safe_text(str(path))}", timeout=4)

    def action_save_svg(self) -> None:
        at = self.dashboard.now if self.dashboard is not None else self.clock.now()
        path = view_path(self.export_dir, at, ".svg")
        try:
            saved = self.save_screenshot(filename=path.name, path=str(path.parent))
        except OSError as e:
            self.notify(
                f"screenshot failed: {safe_text(str(self.export_dir))}: {e.strerror or e}",
                severity="error",
            )
            return
        self.notify(f"saved screenshot {safe_text(str(saved))}", timeout=4)
