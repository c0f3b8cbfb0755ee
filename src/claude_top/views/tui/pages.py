"""Pages that follow the live data: each redraws from every new frame the app builds.

Why: a page pushed over the main view used to hold the renderable it was opened with, so the
detail screen still said "759 calls" 40 s later. A ``LivePage`` instead draws from the app's
current ``Dashboard`` (``draw``) each time a frame lands, and declares which of the app's keys
act on it (``APP_ACTIONS``): the window and pause keys change what the page shows; the sort,
filter or panel keys of the hidden main view are not offered (hidden from the footer and
refused) while a page is on top.
"""

from __future__ import annotations

from typing import ClassVar

from rich.console import RenderableType
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widgets import Footer, Static

from claude_top.views.live.dashboard import Dashboard
from claude_top.views.tui import panels
from claude_top.views.tui.panels.alert_list import alert_list
from claude_top.views.tui.widgets import palette_of, set_title

PAGE_ACTIONS = frozenset(
    {"quit", "pause", "cycle_window", "next_theme", "save_svg", "help", "go_back", "export"}
)
"""The app's actions that make sense over any live page (they act on the frame it shows)."""


class LivePage(Screen[None]):
    """A scrollable page drawn from the app's latest frame."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("q", "app.pop_screen", "Back", show=False),
    ]
    APP_ACTIONS: ClassVar[frozenset[str]] = PAGE_ACTIONS

    def __init__(self, title: str) -> None:
        super().__init__()
        self._title = title

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="page"):
            yield Static(classes="page-body")
        yield Footer()

    def on_mount(self) -> None:
        # Through ``set_title``: a frame may reach the page before it mounts, and a title set
        # around its record would make the frame's title look already set (a page whose title
        # lacked its window, seen under load).
        set_title(self.query_one(VerticalScroll), self._title)
        d = getattr(self.app, "dashboard", None)
        if d is not None:
            self.show_frame(d)
        refresh = getattr(self.app, "refresh_now", None)
        if refresh is not None:
            refresh()  # the next frame is built with this page on the stack

    def title_of(self, d: Dashboard) -> str:
        return self._title

    def draw(self, d: Dashboard) -> RenderableType:
        raise NotImplementedError

    def show_frame(self, d: Dashboard) -> None:
        """Redraw from a new frame (the app calls this for every page in its stack)."""
        try:
            scroll = self.query_one(VerticalScroll)
            body = self.query_one(".page-body", Static)
        except NoMatches:
            return
        set_title(scroll, self.title_of(d))
        body.update(self.draw(d))


class AlertsScreen(LivePage):
    """Every firing alert in full, when it fired, and its fired/resolved history (``a``)."""

    def __init__(self) -> None:
        super().__init__("Alerts · escape: back")

    def title_of(self, d: Dashboard) -> str:
        return f"Alerts · {len(d.alerts)} firing · window {d.window_name} · escape: back"

    def draw(self, d: Dashboard) -> RenderableType:
        return alert_list(d, palette_of(self.app))


class LiveDetailScreen(LivePage):
    """One feature in detail, from the frame's ``detail`` (built with it, so it is live)."""

    def __init__(self, feature: str) -> None:
        super().__init__(f"{feature} · escape: back")
        self.feature = feature

    def title_of(self, d: Dashboard) -> str:
        from claude_top.core.text import safe_text

        return f"{safe_text(self.feature, 40)} · window {d.window_name} · escape: back"

    def draw(self, d: Dashboard) -> RenderableType:
        from rich.text import Text

        fd = d.detail
        if fd is None or fd.feature != self.feature:
            return Text("loading…")
        width = max(40, self.size.width - 8)
        return panels.detail(fd, d.tz, palette_of(self.app), chart_width=width)
