"""Screens over the main view: help and examples of rejected lines (the live detail page is in
``pages``).

Pages do not stack (htop, k9s): opening one from another replaces it, so one escape or ``q``
always gets back to the main view (``open_page``). A new page subclasses ``Page`` (or is any
``Screen``) and is opened with ``open_page``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from rich.console import RenderableType
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Static

from claude_top.views.tui import panels
from claude_top.views.tui.panels import Palette


def open_page(app: App[Any], page: Screen[Any]) -> None:
    """Show ``page`` over the main view, in place of whatever page or modal was open."""
    while len(app.screen_stack) > 1:
        app.pop_screen()
    app.push_screen(page)


class Page(Screen[None]):
    """A scrollable page showing one renderable; escape goes back."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("q", "app.pop_screen", "Back", show=False),
    ]

    def __init__(self, title: str, body: RenderableType) -> None:
        super().__init__()
        self._title = title
        self._body = body

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="page"):
            yield Static(self._body, classes="page-body")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).border_title = self._title


class RejectedScreen(Page):
    """Why lines were rejected, with the most recent examples."""


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Close"),
        Binding("question_mark", "app.pop_screen", "Close", show=False),
        Binding("q", "app.pop_screen", "Close", show=False),
    ]

    def __init__(
        self,
        keys: Sequence[tuple[str, str]],
        pal: Palette,
        legend: Sequence[tuple[str, str]] = (),
    ) -> None:
        super().__init__()
        self._keys = keys
        self._pal = pal
        self._legend = legend

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static(panels.help_table(self._keys, self._pal, self._legend))

    def on_mount(self) -> None:
        self.query_one("#help").border_title = "claude-top keys"
        self.query_one("#help").border_subtitle = "escape to close"
