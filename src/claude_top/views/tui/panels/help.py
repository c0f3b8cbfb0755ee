"""The help page: every key and what it does, then what the screen's glyphs mean.

Sized for 80x24 without scrolling: one line per key, and the legend packed two to a line.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Group
from rich.table import Table
from rich.text import Text

from claude_top.views.tui.panels.cells import DEFAULT, Palette


def help_table(
    bindings: Sequence[tuple[str, str]],
    pal: Palette = DEFAULT,
    legend: Sequence[tuple[str, str]] = (),
) -> Group:
    t = Table(box=None, show_header=False, pad_edge=False)
    t.add_column(style=f"bold {pal.accent}", no_wrap=True)
    t.add_column()
    for key, what in bindings:
        t.add_row(Text(key), Text(what))
    if not legend:
        return Group(t)
    g = Table.grid(padding=(0, 1))
    for _ in range(2):
        g.add_column(style="bold", no_wrap=True)
        g.add_column(no_wrap=True, overflow="ellipsis")
    cells = [Text(x) for pair in legend for x in pair]
    for i in range(0, len(cells), 4):
        g.add_row(*cells[i : i + 4])
    return Group(t, Text("legend", style=f"bold {pal.accent}"), g)
