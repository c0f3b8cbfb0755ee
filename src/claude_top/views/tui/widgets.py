"""Thin widgets: each shows a renderable from ``panels`` and owns no numbers of its own."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from rich._wrap import divide_line
from rich.console import RenderableType
from rich.segment import Segment
from rich.style import Style
from rich.text import Span, Text
from textual.app import App
from textual.color import Color
from textual.strip import Strip
from textual.visual import VisualType
from textual.widget import Widget
from textual.widgets import Static

from claude_top.views.tui.kept import KeptLines
from claude_top.views.tui.panels import Palette
from claude_top.views.tui.table import FeaturesTable

__all__ = ["Draw", "FeaturesTable", "HeaderLine", "Line", "Panel", "palette_of", "set_title"]

_titles: weakref.WeakKeyDictionary[Widget, str] = weakref.WeakKeyDictionary()


def set_title(widget: Widget, title: str) -> None:
    """Give ``widget`` the border title ``title`` unless it has it already.

    Why: Textual repaints the whole widget at every set of ``border_title``, equal or not, and
    a frame sets the title of every box: each side panel was drawn again through Rich at every
    refresh, whether its content changed or not. Titles set through here only.
    """
    if _titles.get(widget) != title:
        _titles[widget] = title
        widget.border_title = title


def palette_of(app: App[Any]) -> Palette:
    """The active theme's colours as plain hex strings Rich understands."""
    v = app.get_css_variables()

    def solid(name: str, fallback: str) -> str:
        try:
            c = Color.parse(v.get(name, fallback))
        except Exception:
            c = Color.parse(fallback)
        if c.a < 1:
            c = Color.parse(v.get("background", "#000000")).blend(c, c.a).with_alpha(1.0)
        return c.hex6

    bg = Color.parse(v.get("background", "#000000"))
    fg = Color.parse(v.get("foreground", "#ffffff"))
    if app.no_color:
        # Greys only: signal colours would turn dimmer than the text, so they are the text's
        # own colour, and severity is told by bold, reverse and the glyphs (``Palette.mono``).
        text = fg.hex6
        return Palette(
            warning=text,
            error=text,
            success=text,
            muted=bg.blend(fg, 0.6).hex6,
            accent=text,
            primary=text,
            mono=True,
        )
    return Palette(
        warning=solid("warning", "#ffff00"),
        error=solid("error", "#ff0000"),
        success=solid("success", "#00ff00"),
        muted=bg.blend(fg, 0.6).hex6,
        accent=solid("accent", "#00ffff"),
        primary=solid("primary", "#0000ff"),
    )


Draw = Callable[[int, int], RenderableType]
"""A panel's drawing for a box of (width, height) cells inside its border."""


class Line(KeptLines, Static):
    """A ``Static`` whose drawing is kept while it shows the same (``kept``): the header,
    the KPI strip, the progress line."""


class HeaderLine(Line):
    """The header row: its Rich ``Text`` drawn by Rich straight into the row's strip.

    Why: the header is drawn again every second, on an idle log too (its clock, "newest N s
    ago"), and that redraw was most of the idle UI's CPU. ``Static`` turns a ``Text`` into
    Textual's ``Content`` at every update and draws that (~1.7 ms for the 160-column row);
    Rich renders the same ``Text`` over the widget's style in ~0.3 ms. The cells, their
    styles and the offset metadata ``Content`` adds (what selecting text with the mouse reads)
    are the same. Anything but a ``Text`` goes the ``Static`` way. ``_first_line`` wraps with
    Rich's ``rich._wrap.divide_line``, a private function: a Rich release that moves or
    changes it fails the TUI tests (``tests/tui/test_tui_idle.py`` compares the row with what
    ``Static`` draws), not a user's screen silently.
    """

    _text: Text | None = None

    def update(self, content: VisualType = "", *, layout: bool = True) -> None:
        if not isinstance(content, Text):
            self._text = None
            super().update(content, layout=layout)
            return
        self._text = content
        self.refresh(layout=layout)

    @property
    def content(self) -> VisualType:
        return self._text if self._text is not None else super().content

    @content.setter
    def content(self, content: VisualType) -> None:
        self.update(content)

    def render_line(self, y: int) -> Strip:
        text = self._text
        if text is None:
            return super().render_line(y)
        width = self.size.width
        base = self.visual_style.rich_style
        if y or width <= 0:
            return Strip.blank(width, base)
        line = _first_line(text, width)
        # As ``Content`` draws it: one segment per span, each with its cell offset as metadata
        # (what text selection reads), and no padding: the styles cache fills the row out.
        segments = []
        x = 0
        for seg in line.render(self.app.console, end=""):
            style = base + seg.style + Style.from_meta({"offset": (x, 0)})
            segments.append(Segment(seg.text, style))
            x += seg.cell_length
        return Strip(segments, x)


def _first_line(text: Text, width: int) -> Text:
    """The first line a ``Static`` shows of ``text`` in ``width`` cells: Textual wraps it at
    words whatever its ``no_wrap`` says (``Content._wrap_and_format``), and a one-row widget
    shows the first line, its trailing spaces dropped; the text's own style is a first span,
    as ``Content.from_rich_text`` makes it."""
    if text.style:
        text = Text(text.plain, spans=[Span(0, len(text.plain), text.style), *text.spans])
    offsets = divide_line(text.plain, width, fold=True)
    if not offsets:
        line = text.copy()
    else:
        line = text.divide(offsets[:1])[0]
        line.rstrip()
    line.truncate(width)
    line.rstrip_end(width)
    return line


class Panel(KeptLines, Static):
    """A bordered box around one panel renderable.

    ``show`` takes a renderable or a ``Draw``: a panel that decides how many lines it shows
    (alerts, 429s, users, headroom) is drawn again for its box's size at every layout, so it
    fills the rows it was given and says what did not fit.
    """

    DEFAULT_CSS = """
    Panel {
        border: round $border-blurred;
        border-title-color: $text-accent;
        padding: 0 1;
        height: 1fr;
    }
    """

    def __init__(self, title: str, *, id: str) -> None:
        super().__init__(id=id)
        self.border_title = title

    def show(self, renderable: RenderableType | Draw) -> None:
        self._draw: Draw | None = renderable if callable(renderable) else None
        if self._draw is None:
            # Its box is sized by the CSS or the layout plan, never by what it shows: a repaint.
            self.update(renderable, layout=False)  # type: ignore[arg-type]
        else:
            self._redraw()

    def _redraw(self) -> None:
        assert self._draw is not None
        size = self.content_size
        self.update(self._draw(max(1, size.width), max(1, size.height)), layout=False)

    def on_resize(self) -> None:
        if getattr(self, "_draw", None) is not None:
            self._redraw()
