"""The help page: every key and what it does."""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table
from rich.text import Text

from claude_top.views.tui.panels.cells import DEFAULT, Palette


def help_table(bindings: Sequence[tuple[str, str]], pal: Palette = DEFAULT) -> Table:
    t = Table(box=None, show_header=False, pad_edge=False)
    t.add_column(style=f"bold {pal.accent}", no_wrap=True)
    t.add_column()
    for key, what in bindings:
        t.add_row(Text(key), Text(what))
    return t
