"""The conventions of htop, btop and k9s, and what the app remembers between runs.

ctrl+c quits; q and escape go back from a page and pages never stack; a click on a column header
sorts by it and < / > move the sort column; the footer keeps ? and v at 80 columns; the help
page explains the glyphs; the header's clock and rate move while the data is paused; exports go
to the export directory and the toast names the file; theme, window, sort and users-by persist.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import orjson
import pytest
from make_fixture import END
from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import Footer, Static

from claude_top.config.state import load_ui_state, state_path
from claude_top.core.clock import FixedClock
from claude_top.core.windows import WINDOW_CYCLE
from claude_top.engine.engine import Engine
from claude_top.rules.evaluate import Alerts
from claude_top.views.live.dashboard import SORT_COLUMNS
from claude_top.views.tui import panels
from claude_top.views.tui.app import ClaudeTopApp
from claude_top.views.tui.screens import HelpScreen, RejectedScreen
from claude_top.views.tui.widgets import FeaturesTable

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def make_app(engine: Engine, clock: FixedClock | None = None, **kw: Any) -> ClaudeTopApp:
    return ClaudeTopApp(engine, Alerts(engine), clock or FixedClock(END), **kw)


async def settle(pilot: Pilot[None]) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def _text(widget: Static) -> str:
    """What a widget shows, as plain text."""
    console = Console(width=200, record=True, file=io.StringIO(), color_system=None)
    console.print(widget.content)
    return console.export_text()


async def test_ctrl_c_quits(engine: Engine) -> None:
    app = make_app(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+c")
        await pilot.pause()
        assert not app.is_running
    assert app.return_code == 0


async def test_pages_do_not_stack_and_q_goes_back(engine: Engine) -> None:
    app = make_app(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press(*["r"] * 20)
        await pilot.pause()
        assert isinstance(app.screen, RejectedScreen) and len(app.screen_stack) == 2
        await pilot.press("escape")
        await pilot.pause()
        assert len(app.screen_stack) == 1
        await pilot.press("question_mark", "r", "enter")  # help, then a page from it
        await pilot.pause()
        assert len(app.screen_stack) == 2
        await pilot.press("q")  # back, not quit
        await pilot.pause()
        assert app.is_running and len(app.screen_stack) == 1
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running


async def test_angle_brackets_move_the_sort_column(engine: Engine) -> None:
    app = make_app(engine)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        assert app.sort == ("calls", True)
        await pilot.press("greater_than_sign")
        assert app.sort[0] == SORT_COLUMNS[SORT_COLUMNS.index("calls") + 1]
        await pilot.press("less_than_sign", "less_than_sign")
        assert app.sort == ("feature", False)  # names sort A to Z
        await pilot.press("less_than_sign")  # wraps round to the last shown column
        assert app.sort[0] == [c for c in SORT_COLUMNS if c in panels.WIDE][-1]


async def test_a_click_on_a_header_sorts_by_it_and_again_reverses(engine: Engine) -> None:
    app = make_app(engine)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        table = app.query_one(FeaturesTable)
        widths = table.column_widths()
        cols = list(widths)
        i = cols.index("p95_ms")
        x = 1 + sum(widths[c] for c in cols[:i]) + 1
        await pilot.click(FeaturesTable, offset=(x, 1))
        await settle(pilot)
        assert app.sort == ("p95_ms", True)
        assert app.dashboard is not None and app.dashboard.features[0].feature == "doc_summary"
        await pilot.click(FeaturesTable, offset=(x, 1))
        await settle(pilot)
        assert app.sort == ("p95_ms", False)


async def test_footer_keeps_help_and_v_at_80_columns(engine: Engine) -> None:
    app = make_app(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        keys = {k.key: k for k in app.query_one(Footer).query("FooterKey")}  # type: ignore[attr-defined]
        for key in ("question_mark", "v"):
            assert key in keys, key
            assert keys[key].region.right <= 80 and keys[key].region.width > 0, key
    app = make_app(engine)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        keys = {k.key for k in app.query_one(Footer).query("FooterKey")}  # type: ignore[attr-defined]
        assert "v" not in keys  # nothing is folded away on a big terminal


async def test_help_has_a_legend_and_fits_80x24(engine: Engine) -> None:
    app = make_app(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        box = app.screen.query_one("#help")
        body = box.query_one(Static)
        text = _text(body)
        assert "▲" in text and "✖" in text and "warning" in text and "critical" in text
        assert body.region.height <= box.region.height - 2  # no scrolling needed
        assert box.max_scroll_y == 0


async def test_the_header_clock_and_age_move_while_paused(engine: Engine) -> None:
    clock = FixedClock(END)
    app = make_app(engine, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        frozen = app.dashboard
        assert frozen is not None and frozen.paused
        before = _text(app.query_one("#header", Static))
        assert "14:30:00" in before
        clock.set(END + 75)
        app._tick()
        await settle(pilot)
        after = _text(app.query_one("#header", Static))
        assert "14:31:15" in after and "PAUSED" in after
        assert app.dashboard is not None and app.dashboard.features == frozen.features
        assert app.dashboard.version == frozen.version  # the data did not move


async def test_exports_go_to_the_export_dir_and_the_toast_names_the_file(
    engine: Engine, tmp_path: Path
) -> None:
    out = tmp_path / "exports"
    out.mkdir()
    app = make_app(engine, export_dir=out)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("e", "ctrl+s")
        await pilot.pause()
        messages = [n.message for n in app._notifications]
    json_files = list(out.glob("claude-top-*.json"))
    svg_files = list(out.glob("claude-top-*.svg"))
    assert len(json_files) == 1 and len(svg_files) == 1
    assert any(str(json_files[0]) in m for m in messages)
    assert any(str(svg_files[0]) in m for m in messages)


async def test_an_export_dir_that_is_gone_is_a_toast_not_a_crash(
    engine: Engine, tmp_path: Path
) -> None:
    app = make_app(engine, export_dir=tmp_path / "gone")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("e")
        await pilot.pause()
        assert app.is_running
        assert any("export failed" in n.message and "gone" in n.message for n in app._notifications)


async def test_choices_persist_across_runs(engine: Engine) -> None:
    app = make_app(engine, remember=True)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("w", "t", "s", "S", "u")
        await settle(pilot)
        chosen = (app.theme, app.window_name, app.sort, app.users_by)
    state, note = load_ui_state()
    assert note is None and state_path().is_file()
    assert state["window"] == WINDOW_CYCLE[WINDOW_CYCLE.index("10m") + 1]
    assert state["users_by"] == "cost"

    again = make_app(engine, ui_state=state, window=state["window"])
    async with again.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        assert (again.theme, again.window_name, again.sort, again.users_by) == chosen
        assert again.dashboard is not None and again.dashboard.users_by == "cost"


async def test_a_broken_state_file_is_ignored(engine: Engine) -> None:
    p = state_path()
    p.parent.mkdir(parents=True)
    p.write_bytes(b'{"theme": 3, "sort": "p95_ms", "users_by": "cost"')  # cut short
    state, note = load_ui_state()
    assert state == {} and note is not None and "not valid JSON" in note
    p.write_bytes(orjson.dumps({"theme": 3, "sort": "no_such_column", "users_by": "cost"}))
    state, note = load_ui_state()
    assert note is not None and "theme" in note
    app = make_app(engine, ui_state=state)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.sort == ("calls", True) and app.users_by == "cost"
