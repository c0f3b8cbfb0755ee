"""A borderless table of one-line cells, drawn as Rich draws its ``Table`` but without its layout.

Why: a panel whose numbers move at every refresh (top users today) is drawn again at every
refresh, and Rich's ``Table`` measures and renders each cell through its general machinery --
milliseconds for a dozen rows. ``CellTable`` yields exactly the segments of
``Table(box=None, pad_edge=False, expand=True, header_style=..., padding=(0, 1))`` for cells of
one line that fit the width (a test compares the two on many frames and widths), and hands the
rest to that ``Table`` itself: a too-narrow box, where Rich shrinks columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from rich._ratio import ratio_distribute  # Rich's own share-out of spare width (tested)
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.segment import Segment
from rich.style import Style
from rich.table import Table
from rich.text import Span, Text

Justify = Literal["left", "right"]


@dataclass(frozen=True, slots=True)
class Col:
    header: str = ""
    justify: Justify = "left"


class CellTable:
    """Columns ``cols``, rows of ``Text`` cells, all ``no_wrap`` with an ellipsis.

    ``header_style`` given: ``Table(box=None, pad_edge=False, expand=expand, header_style=...)``
    with a header row; None: ``Table.grid(expand=expand, padding=(0, 1))``, no header.
    """

    def __init__(
        self,
        cols: Sequence[Col],
        rows: Sequence[Sequence[Text]],
        header_style: str | None = None,
        expand: bool = True,
    ) -> None:
        self.cols = tuple(cols)
        self.rows = [list(r) for r in rows]
        self.header_style = header_style
        self.expand = expand

    def table(self) -> Table:
        """The same as a Rich ``Table`` (what ``CellTable`` draws like; also its fallback)."""
        if self.header_style is None:
            t = Table.grid(expand=self.expand, padding=(0, 1))
        else:
            t = Table(box=None, pad_edge=False, expand=self.expand, header_style=self.header_style)
        for c in self.cols:
            t.add_column(c.header, justify=c.justify, no_wrap=True, overflow="ellipsis")
        for r in self.rows:
            t.add_row(*r)
        return t

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement.get(console, options, self.table())

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        head = self.header_style is not None
        cells = [[Text(c.header) for c in self.cols]] if head else []
        cells += self.rows
        n = len(self.cols)
        if head:  # one blank each side of a cell, none at the table's edges
            pads = [(0 if i == 0 else 1, 0 if i == n - 1 else 1) for i in range(n)]
        else:  # a grid collapses its padding: one blank between cells
            pads = [(0, 0 if i == n - 1 else 1) for i in range(n)]
        max_width = options.max_width
        if (
            max_width < 1
            or not cells
            or any("\n" in c.plain or "\t" in c.plain for r in cells for c in r)
        ):
            yield self.table()
            return
        widths = [
            max(max(c.cell_len for c in col) + left + right, 1)
            for col, (left, right) in zip(zip(*cells, strict=True), pads, strict=True)
        ]
        total = sum(widths)
        if total > max_width:  # Rich shrinks and re-measures: let it
            yield self.table()
            return
        if total < max_width and self.expand:
            widths = [
                w + p
                for w, p in zip(widths, ratio_distribute(max_width - total, widths), strict=True)
            ]
        header = console.get_style(self.header_style or "")
        for i, row in enumerate(cells):
            style = header if head and i == 0 else Style.null()
            for cell, col, w, (left, right) in zip(row, self.cols, widths, pads, strict=True):
                yield from _cell(console, cell, col.justify, w - left - right, left, right, style)
            yield Segment.line()


def _cell(
    console: Console, cell: Text, justify: Justify, width: int, left: int, right: int, style: Style
) -> list[Segment]:
    """One cell as ``Table`` renders ``Padding(cell, (0, right, 0, left))`` in its column."""
    lines = cell.wrap(
        console,
        width,
        justify=cell.justify or justify,
        overflow=cell.overflow or "ellipsis",
        no_wrap=True,
    )
    line = lines[0] if lines else Text()
    if line.style:  # as ``Text.__rich_console__`` joins its lines: the own style, a first span
        line = Text(line.plain, spans=[Span(0, len(line.plain), line.style), *line.spans])
    null = Style.null()
    out = [Segment(" " * left, null)] if left else []
    out += line.render(console, end="")
    short = width - line.cell_len
    if short > 0:
        out.append(Segment(" " * short, null))
    if right:
        out.append(Segment(" " * right, null))
    return list(Segment.apply_style(out, style)) if style else out
