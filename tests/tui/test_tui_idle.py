"""What the app does on an idle log, counted (no timings): the header is redrawn once a second
and no more, its redraw asks no other widget for its lines again (``views/tui/kept``) and looks
up no widget, and its fast drawing is the ``Static``'s."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from make_fixture import END
from rich.text import Text
from textual.geometry import Region
from textual.pilot import Pilot

from claude_top.core.clock import FixedClock
from claude_top.engine.engine import Engine
from claude_top.rules.evaluate import Alerts
from claude_top.views.tui import app as app_module
from claude_top.views.tui.app import ClaudeTopApp
from claude_top.views.tui.kept import KeptLines
from claude_top.views.tui.widgets import FeaturesTable, HeaderLine, Line
from tui_settle import settle

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class _Counting(ClaudeTopApp):
    CSS_PATH = str(Path(app_module.__file__).with_name("app.tcss"))
    headers = 0

    def _render_header(self, d: Any, pal: Any = None) -> None:
        self.headers += 1
        super()._render_header(d, pal)


async def _paint(pilot: Pilot[None]) -> None:
    await pilot.pause()
    await pilot.pause()


async def test_header_redrawn_once_a_second_whatever_the_rate_does(engine: Engine) -> None:
    clock = FixedClock(END)
    app = _Counting(engine, Alerts(engine), clock)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        clock.set(END + 1.0)
        app._tick()
        before = app.headers
        for i in range(3):  # three more ticks of the same second, the rate moving at each
            app._rate_meter.value = app._rate = 100.0 + i
            clock.set(END + 1.25 + 0.25 * i)
            app._tick_header(clock.now())
        assert app.headers == before
        clock.set(END + 2.0)  # the next second: the header shows the clock and the rate now
        app._tick_header(clock.now())
        assert app.headers == before + 1
        assert app.dashboard is not None and app.dashboard.ingest_rate == app._rate


async def test_header_tick_asks_no_other_widget_for_its_lines(engine: Engine) -> None:
    clock = FixedClock(END)
    app = ClaudeTopApp(engine, Alerts(engine), clock)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await _paint(pilot)
        kept = [w for w in app.screen.walk_children() if isinstance(w, KeptLines)]
        header = app.query_one("#header", KeptLines)
        table = app.query_one(FeaturesTable)
        drawn = {w.id: w.drawings for w in kept}
        header_drawn = header.drawings
        for s in range(1, 4):
            clock.set(END + s)
            app._tick_header(clock.now())
            await _paint(pilot)
        assert header.drawings >= header_drawn + 3  # the header itself was drawn each second
        others = {w.id: w.drawings for w in kept if w is not header}
        assert others == {k: v for k, v in drawn.items() if k != "header"}
        assert table.id in others
        table.action_cursor_down()  # a change of its own: the table is drawn again
        await _paint(pilot)
        assert table.drawings > others[table.id]


async def test_header_tick_walks_no_query(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """The header widget is found once, not looked up by a query (a walk of the screen's
    widgets) at every second's redraw; a page on top of the main screen still hides it."""
    from textual.dom import DOMNode

    clock = FixedClock(END)
    app = _Counting(engine, Alerts(engine), clock)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        clock.set(END + 1.0)
        app._tick_header(clock.now())  # the first redraw may look it up
        queries: list[object] = []
        real = DOMNode.query

        def spy(self: DOMNode, *a: Any, **kw: Any) -> Any:
            queries.append(a)
            return real(self, *a, **kw)

        monkeypatch.setattr(DOMNode, "query", spy)
        before = app.headers
        for s in range(2, 5):
            clock.set(END + s)
            app._tick_header(clock.now())
        assert app.headers == before + 3
        assert queries == []


_HEADERS: list[Text] = [
    Text("plain"),
    Text.assemble((" claude-top ", "bold reverse #d87757"), (" 14:00:00", "bold"), ("  w", "bold")),
    Text.assemble(("a" * 100, "italic #94918c"), (" │ ", "dim"), ("b" * 100, "underline")),
    Text("ünï ⚠ cödé 漢字 wide", style="bold"),
    Text.assemble(("word " * 40, "bold"), ("│ tail", "#94918c"), no_wrap=True, overflow="ellipsis"),
]


@pytest.mark.parametrize("text", _HEADERS, ids=range(len(_HEADERS)))
@pytest.mark.parametrize("width", [10, 80, 160])
async def test_header_line_draws_what_a_static_draws(
    engine: Engine, text: Text, width: int
) -> None:
    """``HeaderLine`` draws its ``Text`` through Rich, not Textual's ``Content``: the same
    cells, styles and offsets a ``Static`` gives, cut at the edge (wider than the row too)."""
    app = ClaudeTopApp(engine, Alerts(engine), FixedClock(END))
    async with app.run_test(size=(width, 24)) as pilot:
        await settle(pilot)
        for timer in list(app._timers):  # the app's own header must not be drawn in between
            timer.pause()
        await _paint(pilot)
        header = app.query_one("#header", HeaderLine)
        header.update(text, layout=False)
        await _paint(pilot)
        fast = header.render_lines(Region(0, 0, width, 1))
        assert header.content is text
        Line.update(header, text, layout=False)  # the same Text, the ``Static`` way
        header._text = None
        await _paint(pilot)
        slow = header.render_lines(Region(0, 0, width, 1))
        assert list(fast[0]) == list(slow[0])
