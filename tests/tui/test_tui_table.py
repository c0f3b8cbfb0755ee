"""The features table widget (``views/tui/table.py``): its fast cell drawing gives Rich's, and its
cursor, keys and clicks do what the DataTable's did."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from make_fixture import END
from rich.console import Console
from rich.padding import Padding
from rich.style import Style
from rich.text import Text
from textual.renderables.styled import Styled

from claude_top.core.clock import FixedClock
from claude_top.engine.engine import Engine
from claude_top.rules.evaluate import Alerts
from claude_top.views.live.dashboard import build_dashboard
from claude_top.views.tui import panels
from claude_top.views.tui.app import ClaudeTopApp
from claude_top.views.tui.pages import LiveDetailScreen
from claude_top.views.tui.panels import DEFAULT, Palette
from claude_top.views.tui.table import PAD, FeaturesTable, cell_segments
from tui_settle import settle


def _rich(console: Console, cell: Text, width: int, pre: Style, post: Style) -> list[Any]:
    """The DataTable's drawing of a one-line cell (textual 8.2.8, ``DataTable._render_cell``)."""
    options = console.options.update_dimensions(width + 2 * PAD, 1).update(no_wrap=True)
    return console.render_lines(Styled(Padding(cell, (0, PAD)), pre, post), options)[0]


def test_cell_segments_give_what_rich_gives_for_every_cell_of_a_frame(engine: Engine) -> None:
    alerts = Alerts(engine)
    mono = Palette("#dddddd", "#dddddd", "#dddddd", "#888888", "#dddddd", "#dddddd", mono=True)
    console = Console(width=200, color_system="truecolor", legacy_windows=False)
    styles = [
        (Style(), Style()),
        (Style(color="#e6e1da", bgcolor="#242321"), Style.from_color(color=None)),
        (
            Style(color="#e6e1da", bgcolor="#242321", bold=True) + Style.from_meta({"row": 1}),
            Style.from_color(color="#1c0f0b"),
        ),
    ]
    checked = 0
    for window, needle, sort in (("1h", "", ("calls", True)), ("10m", "a", ("p95_ms", False))):
        d = build_dashboard(
            engine, alerts, now=END, window_name=window, filter_text=needle, sort=sort
        )
        assert d.features
        for pal in (DEFAULT, mono):
            for cols, name_width in ((panels.WIDE, 24), (panels.COMPACT, 8)):
                labels, rows = panels.feature_grid(d, cols, pal, name_width)
                for cells in [labels, *rows]:
                    for cell in cells:
                        for pre, post in styles:
                            for width in (cell.cell_len, cell.cell_len + 3):
                                want = _rich(console, cell, width, pre, post)
                                assert cell_segments(console, cell, width, pre, post) == want
                                checked += 1
    # Cells the frames above do not hold: cut, blanks justification moves, a span on blanks.
    odd = [
        Text("a_feature_name_too_long", style="bold"),
        Text("12 ms  ", justify="right"),
        Text("12 ms  ", justify="center"),
        Text("12 ms  ", justify="full"),
        Text("a\tb", justify="left"),
        Text("two\nlines"),
        Text(""),
    ]
    spanned = Text("chat   ", justify="left")
    spanned.stylize("reverse", 2, 6)
    odd.append(spanned)
    for cell in odd:
        for width in (1, 4, max(1, cell.cell_len), cell.cell_len + 2):  # a column: 1 or more
            for pre, post in styles:
                want = _rich(console, cell, width, pre, post)
                assert cell_segments(console, cell, width, pre, post) == want, (cell, width)
    assert checked > 500


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _app(engine: Engine) -> ClaudeTopApp:
    return ClaudeTopApp(engine, Alerts(engine), FixedClock(END))


@pytest.mark.anyio
async def test_cursor_keys_move_the_cursor_and_it_stays_on_its_feature(engine: Engine) -> None:
    app = _app(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        table = app.query_one(FeaturesTable)
        d = app.dashboard
        assert d is not None and len(d.features) >= 3
        names = [r.feature for r in d.features]
        assert table.cursor_feature == names[0]
        await pilot.press("down", "down")
        assert table.cursor_feature == names[2]
        await pilot.press("up")
        assert table.cursor_feature == names[1]
        await pilot.press("end")
        assert table.cursor_feature == names[-1]
        await pilot.press("down")  # stays on the last row
        assert table.cursor_feature == names[-1]
        await pilot.press("home")
        assert table.cursor_feature == names[0]
        await pilot.press("pagedown")
        assert table.cursor_feature == names[-1]
        await pilot.press("pageup")
        assert table.cursor_feature == names[0]
        await pilot.press("down")
        # A new order of the rows: the cursor follows its feature, not its place.
        await pilot.press("S")
        await settle(pilot)
        d = app.dashboard
        assert d is not None
        assert [r.feature for r in d.features] != names
        assert table.cursor_feature == names[1]


@pytest.mark.anyio
async def test_a_small_table_scrolls_to_keep_the_cursor_in_view(engine: Engine) -> None:
    app = _app(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = app.query_one(FeaturesTable)
        table.styles.height = 5  # border, header and two rows
        await settle(pilot)
        rows = table.scrollable_content_region.height - 1
        assert 0 < rows < table.row_count
        await pilot.press("end")
        await pilot.pause()
        assert table.scroll_y == table.row_count - rows
        await pilot.press("home")
        await pilot.pause()
        assert table.scroll_y == 0


@pytest.mark.anyio
async def test_a_click_on_a_row_opens_its_feature(engine: Engine) -> None:
    app = _app(engine)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        d = app.dashboard
        assert d is not None and len(d.features) >= 3
        await pilot.click(FeaturesTable, offset=(3, 1 + 1 + 2))  # border, header, third row
        await pilot.pause()
        assert isinstance(app.screen, LiveDetailScreen)
        assert d.features[2].feature in str(app.screen.query_one(".page").border_title)


def _grid_key(grid: Any) -> str:
    """All a ``CellTable`` draws from: its columns, options and every cell's text, styles, spans
    and layout settings (``Text.__eq__`` compares the text and spans alone)."""
    cells = [
        [
            (t.plain, t.style, t.spans, t.justify, t.overflow, t.no_wrap, t.end, t.tab_size)
            for t in row
        ]
        for row in grid.rows
    ]
    return repr((grid.cols, grid.header_style, grid.expand, cells))


def test_cell_table_draws_what_a_rich_table_draws(
    engine: Engine, make_engine: Callable[..., Engine]
) -> None:
    """The panels drawn as ``CellTable`` (top users, KPIs, line health) give the segments of
    their Rich ``Table`` at every width (fitting, spare width shared out, too narrow: Rich's
    own fallback)."""
    from claude_top.views.tui.panels.cells import leveled, marked
    from claude_top.views.tui.panels.grid import CellTable, Col

    console = Console(width=200, color_system="truecolor", legacy_windows=False)
    grids: list[CellTable] = []
    mono = Palette("#ddd", "#ddd", "#ddd", "#888", "#ddd", "#ddd", mono=True)
    for eng in (engine, make_engine(hostile=True)):
        alerts = Alerts(eng)
        for needle, by in (("", "tokens"), ("user-00", "cost"), ("zzz", "tokens")):
            d = build_dashboard(eng, alerts, now=END, filter_text=needle, users_by=by)
            for pal in (DEFAULT, mono):
                for got in (
                    panels.users(d, pal, limit=12),
                    panels.kpi_strip(d, pal),
                    panels.line_health(d, pal),
                ):
                    if isinstance(got, CellTable):
                        grids.append(got)
    assert len(grids) >= 24
    odd_rows = [
        [marked(Text("名前のユーザー_long_name"), "ユー"), Text("1.2k"), Text(""), Text("7"),
         leveled("12.5%", "critical", DEFAULT)],
        [Text("x"), Text("123456789012"), Text("$0.0001"), Text("0"), Text("-")],
    ]  # fmt: skip
    cols = [Col("user"), Col("tokens ↓", "right"), Col("cost", "right"), Col("c", "right")]
    five = [*cols, Col("err%", "right")]
    grids.append(CellTable(five, odd_rows, header_style="bold"))
    grids.append(CellTable(five, odd_rows))
    grids.append(CellTable(five, odd_rows, expand=False))
    # Equal grids draw alike: the frames above give some twice (a palette or filter the panel
    # does not use), and each is drawn at 140 widths twice over.
    distinct = {_grid_key(grid): grid for grid in grids}
    assert len(distinct) >= 16
    for grid in distinct.values():
        for width in range(1, 141):
            options = console.options.update_width(width)
            want = list(console.render(grid.table(), options))
            assert list(console.render(grid, options)) == want, width
