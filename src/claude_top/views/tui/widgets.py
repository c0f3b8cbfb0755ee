"""Thin widgets: each shows a renderable from ``panels`` and owns no numbers of its own."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from rich.console import RenderableType
from rich.style import Style
from rich.text import Text
from textual.app import App
from textual.color import Color
from textual.widgets import DataTable, Static

from claude_top.views.live.dashboard import Dashboard
from claude_top.views.tui import panels
from claude_top.views.tui.panels import Palette


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


class Panel(Static):
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


class FeaturesTable(DataTable[object]):
    """The features DataTable; rows are keyed by the raw feature name, the cursor survives updates."""

    DEFAULT_CSS = """
    FeaturesTable { height: 1fr; }
    """

    def __init__(self, *, id: str) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._shape: tuple[object, ...] = ()
        self._cells: dict[tuple[str, str], tuple[object, ...]] = {}
        """The cell shown at (feature, column), to update only those that change."""
        self._drawn: dict[tuple[object, ...], Any] = {}
        """Rendered cells by everything their drawing depends on (``_render_cell``)."""

    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> Any:
        """A body cell's drawing, kept while the cell and its place look the same.

        Why: the DataTable forgets every cell's drawing whenever any cell is updated, and a
        refresh under live traffic updates some: drawing the 20-odd visible rows again, cell by
        cell through Rich, was most of a refresh's time. Here a cell is drawn again only when
        its text, style, position, width, cursor, hover, focus or the theme differ.
        """
        row_key = self._row_locations.get_key(row_index) if row_index >= 0 else None
        column_key = self._column_locations.get_key(column_index) if column_index >= 0 else None
        if row_key is None or column_key is None:  # header, row labels: as the table does
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        value = self._data.get(row_key, {}).get(column_key)
        look = _look(value) if isinstance(value, Text) else repr(value)
        key = (
            row_index,
            column_index,
            look,
            base_style,
            width,
            cursor,
            hover,
            self._show_hover_cursor,
            self.show_cursor,
            self._pseudo_class_state,
            self.app.theme,
        )
        lines = self._drawn.get(key)
        if lines is None:
            if len(self._drawn) > 20_000:
                self._drawn.clear()
            lines = super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
            self._drawn[key] = lines
        return lines

    @property
    def cursor_feature(self) -> str | None:
        if not self.row_count:
            return None
        try:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        except Exception:
            return None
        return None if key.value is None else str(key.value)

    def show(self, d: Dashboard, pal: Palette, columns: Sequence[str], name_width: int) -> None:
        keep = self.cursor_feature
        labels, rows = panels.feature_grid(d, columns, pal, name_width)
        shape = (
            tuple(columns),
            tuple(str(x) for x in labels),
            tuple(r.feature for r in d.features),
        )
        if shape == self._shape:
            # Same columns, labels and rows in the same order: update the cells that changed,
            # keep the table. The labels are padded to their columns' widths (``feature_grid``
            # pads every cell), so equal labels mean equal widths: nothing to re-measure.
            shown = self._cells
            for row, cells in zip(d.features, rows, strict=True):
                for c, cell in zip(columns, cells, strict=True):
                    at, look = (row.feature, c), _look(cell)
                    if shown.get(at) != look:
                        shown[at] = look
                        self.update_cell(row.feature, c, cell)
            return
        self._shape = shape
        self._cells = {
            (row.feature, c): _look(cell)
            for row, cells in zip(d.features, rows, strict=True)
            for c, cell in zip(columns, cells, strict=True)
        }
        # Columns or order changed: re-make the table, keeping the cursor on its feature.
        self.clear(columns=True)
        for c, label in zip(columns, labels, strict=True):
            self.add_column(label, key=c)
        target = 0
        for i, (row, cells) in enumerate(zip(d.features, rows, strict=True)):
            self.add_row(*cells, key=row.feature)
            if row.feature == keep:
                target = i
        if self.row_count:
            self.move_cursor(row=target, animate=False, scroll=False)


def _look(cell: Text) -> tuple[object, ...]:
    """What a cell looks like: its text, its own style and its styled spans (``Text.__eq__``
    leaves out its own style, which a theme change or a level changes)."""
    return (cell.plain, str(cell.style), tuple(cell.spans), cell.justify)
