"""The features table: a Line-API widget drawing each row once, until that row looks different.

Why not Textual's ``DataTable``: any cell update there forgets the drawing of every line, and a
refresh under live traffic updates some cells of most rows, so the 20-odd visible rows went
through Rich again at every refresh -- most of a refresh's paint. Here each row's line (a
``Strip``) is kept by everything it is drawn from (its cells' looks, its place, the cursor, the
widths, the theme's styles), and each cell's segments likewise: a refresh draws again only the
cells that changed.

It looks as the ``DataTable`` did, to the cell: the same CSS and component classes (``datatable--
header``, ``--cursor``, ``--even-row``...), the same layering of styles (row, then cell, then the
cursor's colour) and the same segment metadata; ``cell_segments`` is the fast form of the
``DataTable``'s ``Styled(Padding(cell))`` drawing, and a test checks the two agree. Behaviour
kept: a row cursor that follows its feature across updates, up/down/page/home/end, a click on a
header (``HeaderSelected``), a click on a row (``RowSelected``). Left out: the mouse-hover tint.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Span, Text
from textual import events
from textual._segment_tools import line_crop
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from claude_top.views.live.dashboard import Dashboard
from claude_top.views.tui import panels
from claude_top.views.tui.kept import KeptLines
from claude_top.views.tui.panels import Palette

PAD = 1
"""Blank cells on each side of a cell, as the ``DataTable``'s ``cell_padding``."""
_CACHE_MAX = 4096


def look(cell: Text) -> tuple[object, ...]:
    """What a cell looks like: its text, its own style and its styled spans (``Text.__eq__``
    leaves out its own style, which a theme change or a level changes)."""
    return (cell.plain, str(cell.style), tuple(cell.spans), cell.justify, cell.overflow)


def cell_segments(
    console: Console, cell: Text, width: int, pre: Style, post: Style
) -> list[Segment]:
    """One line of ``cell`` padded by ``PAD`` each side, ``pre`` under its styles and ``post``
    over them: what Rich gives for ``Styled(Padding(cell, (0, PAD)), pre, post)`` in
    ``width + 2 * PAD`` cells, one line, no wrap -- without Rich's general layout machinery."""
    line = cell if _as_is(cell, width) else _wrapped(console, cell, width)
    if line.style:  # as ``Text.__rich_console__`` joins its lines: the own style, a first span
        line = Text(line.plain, spans=[Span(0, len(line.plain), line.style), *line.spans])
    body = list(line.render(console, end=""))
    short = width - sum(s.cell_length for s in body)
    if short > 0:
        body.append(Segment(" " * short, Style.null()))
    elif short < 0:
        body = Segment.adjust_line_length(body, width)
    pad = Segment(" " * PAD, Style.null())  # as Rich pads (``Padding`` style "none")
    return list(Segment.apply_style([pad, *body, pad], pre, post))


def _as_is(cell: Text, width: int) -> bool:
    """True when Rich's one-line wrap of ``cell`` in ``width`` gives ``cell`` back: one line of
    exactly that width, and no trailing blanks its justification would move or unstyle. The
    table's cells are padded to their column's width (``feature_grid``), so this is the rule."""
    plain = cell.plain
    if cell.cell_len != width or "\n" in plain or "\t" in plain:
        return False
    kept = len(plain.rstrip())
    if kept == len(plain) or cell.justify in (None, "default"):
        return True
    # Left: the blanks are cut, then put back unstyled; the same when no span reaches them.
    return cell.justify == "left" and all(span.end <= kept for span in cell.spans)


def _wrapped(console: Console, cell: Text, width: int) -> Text:
    lines = cell.wrap(
        console,
        width,
        justify=cell.justify or "default",
        overflow=cell.overflow or "fold",
        no_wrap=True,
    )
    return lines[0] if lines else Text()


class FeaturesTable(KeptLines, ScrollView, can_focus=True):
    """One row per feature, keyed by its raw name; the cursor stays on its feature."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "datatable--cursor",
        "datatable--header",
        "datatable--odd-row",
        "datatable--even-row",
    }

    # The DataTable's own rules (textual 8.2.8), for the classes used here: the same look.
    DEFAULT_CSS = """
    FeaturesTable {
        background: $surface;
        color: $foreground;
        height: 1fr;
        &:focus {
            background-tint: $foreground 5%;
            & > .datatable--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
            & > .datatable--header {
                background-tint: $foreground 5%;
            }
        }
        &:dark {
            & > .datatable--even-row {
                background: $surface-darken-1 40%;
            }
        }
        & > .datatable--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        &:ansi > .datatable--header {
            background: ansi_bright_blue;
            color: ansi_default;
        }
        & > .datatable--odd-row {
        }
        & > .datatable--even-row {
            background: $surface-lighten-1 50%;
        }
        & > .datatable--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        # As the DataTable's: enter is the table's own here, so the footer leaves it out.
        Binding("enter", "select", "Select", show=False),
        Binding("up", "cursor_up", "Cursor up", show=False),
        Binding("down", "cursor_down", "Cursor down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home,ctrl+home", "first", "Top", show=False),
        Binding("end,ctrl+end", "last", "Bottom", show=False),
    ]

    class HeaderSelected(Message):
        """A click on the header of ``column``."""

        def __init__(self, column: str) -> None:
            super().__init__()
            self.column = column

    class RowSelected(Message):
        """Enter on, or a click on, the row of ``feature``."""

        def __init__(self, feature: str) -> None:
            super().__init__()
            self.feature = feature

    def __init__(self, *, id: str) -> None:
        super().__init__(id=id)
        self._columns: tuple[str, ...] = ()
        self._labels: list[Text] = []
        self._widths: tuple[int, ...] = ()
        """Each column's content width (its cells are padded to it by ``feature_grid``)."""
        self._keys: list[str] = []
        self._rows: list[list[Text]] = []
        self._looks: list[tuple[tuple[object, ...], ...]] = []
        self._index: dict[str, int] = {}
        self.cursor_row = 0
        self._cells: dict[tuple[object, ...], list[Segment]] = {}
        self._lines: dict[tuple[object, ...], Strip] = {}
        self._frame_styles: tuple[Style, ...] = ()
        self._frame_base = Style()
        self._pres: dict[tuple[int, bool, int], tuple[list[Style], Style, Style]] = {}
        self._header_look: tuple[tuple[object, ...], ...] = ()

    # -- data --------------------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self._keys)

    @property
    def columns(self) -> tuple[str, ...]:
        return self._columns

    def has_row(self, feature: str) -> bool:
        return feature in self._index

    def get_cell(self, feature: str, column: str) -> Text:
        return self._rows[self._index[feature]][self._columns.index(column)]

    def column_widths(self) -> dict[str, int]:
        """Each column's width on screen, padding included, in order."""
        return {c: w + 2 * PAD for c, w in zip(self._columns, self._widths, strict=True)}

    @property
    def cursor_feature(self) -> str | None:
        if not self._keys:
            return None
        return self._keys[min(self.cursor_row, len(self._keys) - 1)]

    def show(self, d: Dashboard, pal: Palette, columns: Sequence[str], name_width: int) -> None:
        keep = self.cursor_feature
        labels, rows = panels.feature_grid(d, columns, pal, name_width)
        self._columns = tuple(columns)
        self._labels = labels
        self._widths = tuple(
            max([label.cell_len, *(r[i].cell_len for r in rows)]) for i, label in enumerate(labels)
        )
        self._keys = [r.feature for r in d.features]
        self._index = {k: i for i, k in enumerate(self._keys)}
        self._rows = rows
        self._looks = [tuple(look(c) for c in r) for r in rows]
        self._header_look = tuple(look(c) for c in labels)
        self.virtual_size = Size(sum(self._widths) + 2 * PAD * len(labels), len(rows) + 1)
        self.cursor_row = self._index.get(keep, 0) if keep is not None else 0
        self._follow_cursor()
        self.refresh()

    # -- cursor ------------------------------------------------------------------------------

    def _move(self, row: int) -> None:
        if not self._keys:
            return
        self.cursor_row = max(0, min(row, len(self._keys) - 1))
        self._follow_cursor()
        self.refresh()

    def _page(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def _follow_cursor(self) -> None:
        """Scroll so the cursor's row is in view below the header."""
        y = round(self.scroll_y)
        row, h = self.cursor_row, self._page()
        if row < y:
            y = row
        elif row >= y + h:
            y = row - h + 1
        if y != round(self.scroll_y):
            self.scroll_to(y=y, animate=False, force=True, immediate=True)

    def move_cursor(self, row: int) -> None:
        self._move(row)

    def action_cursor_up(self) -> None:
        self._move(self.cursor_row - 1)

    def action_cursor_down(self) -> None:
        self._move(self.cursor_row + 1)

    def action_page_up(self) -> None:
        self._move(self.cursor_row - self._page())

    def action_page_down(self) -> None:
        self._move(self.cursor_row + self._page())

    def action_select(self) -> None:
        feature = self.cursor_feature
        if feature is not None:
            self.post_message(self.RowSelected(feature))

    def action_first(self) -> None:
        self._move(0)

    def action_last(self) -> None:
        self._move(len(self._keys) - 1)

    def on_click(self, event: events.Click) -> None:
        meta = event.style.meta
        if "row" not in meta or "column" not in meta or meta.get("out_of_bounds"):
            return
        row, column = int(meta["row"]), int(meta["column"])
        if row == -1 and 0 <= column < len(self._columns):
            self.post_message(self.HeaderSelected(self._columns[column]))
        elif 0 <= row < len(self._keys):
            self._move(row)
            self.post_message(self.RowSelected(self._keys[row]))
        event.stop()

    # -- drawing -----------------------------------------------------------------------------

    def _styles(self) -> tuple[Style, ...]:
        """The styles a line is drawn from, as the ``DataTable`` layers them."""
        header = self.get_component_styles("datatable--header").rich_style
        even = self.get_component_styles("datatable--even-row").rich_style
        odd = self.get_component_styles("datatable--odd-row").rich_style
        cursor = Style() + self.get_component_rich_style("datatable--cursor")
        cursor_post = Style.from_color(color=cursor.color) + Style.null()
        plain_post = Style.from_color(color=None) + Style.null()
        return header, even, odd, cursor, cursor_post, plain_post

    def draw_lines(self, crop: Any) -> list[Strip]:
        styles = self._styles()  # once per drawing, not once per line
        if styles != self._frame_styles:
            self._frame_styles = styles
            self._pres.clear()
        self._frame_base = self.rich_style
        return super().draw_lines(crop)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self._frame_base
        scroll_x, scroll_y = self.scroll_offset
        if y >= 1:
            y += scroll_y
        row = y - 1
        if row >= len(self._keys):
            return Strip.blank(width, base)
        cursor = row >= 0 and row == self.cursor_row
        looks = self._looks[row] if row >= 0 else self._header_look
        key = (row, looks, cursor, self._widths, width, scroll_x, base, self._frame_styles)
        strip = self._lines.get(key)
        if strip is None:
            if len(self._lines) > _CACHE_MAX:
                self._lines.clear()
            strip = self._draw_line(row, looks, cursor, width, scroll_x, base)
            self._lines[key] = strip
        return strip

    def _row_styles(self, row: int, cursor: bool) -> tuple[list[Style], Style, Style]:
        """Each cell's ``pre`` style, the line's end style and the cells' ``post`` style, as the
        DataTable layers them: row (header, zebra), cell metadata, then the cursor."""
        memo = (row, cursor, len(self._widths))
        got = self._pres.get(memo)
        if got is None:
            header, even, odd, cursor_style, cursor_post, plain_post = self._frame_styles
            row_style = header if row == -1 else (odd if row % 2 else even)
            component = cursor_style if cursor else Style()
            pres = [
                row_style + Style.from_meta({"row": row, "column": i}) + component
                for i in range(len(self._widths))
            ]
            meta = Style.from_meta({"row": row, "column": 0, "out_of_bounds": True})
            got = (pres, row_style + component + meta, cursor_post if cursor else plain_post)
            self._pres[memo] = got
        return got

    def _draw_line(
        self,
        row: int,
        looks: tuple[tuple[object, ...], ...],
        cursor: bool,
        width: int,
        x: int,
        base: Style,
    ) -> Strip:
        cells = self._labels if row == -1 else self._rows[row]
        pres, extend, post = self._row_styles(row, cursor)
        segments: list[Segment] = []
        for cell, lk, w, pre in zip(cells, looks, self._widths, pres, strict=True):
            segments += self._cell(cell, lk, w, pre, post)
        table_width = sum(self._widths) + 2 * PAD * len(self._widths)
        segments.append(Segment(" " * max(0, width - table_width), extend))
        segments = line_crop(segments, x, x + width, width)
        return Strip(segments).adjust_cell_length(width, base).simplify()

    def _cell(
        self, cell: Text, cell_look: tuple[object, ...], width: int, pre: Style, post: Style
    ) -> list[Segment]:
        key = (cell_look, width, pre, post)
        got = self._cells.get(key)
        if got is None:
            if len(self._cells) > 8 * _CACHE_MAX:
                self._cells.clear()
            got = cell_segments(self.app.console, cell, width, pre, post)
            self._cells[key] = got
        return got
