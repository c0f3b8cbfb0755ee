"""The live pages: the alerts page (``a``) and the feature detail follow every new frame, and
only the keys that act on them are offered while they are on top."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from make_fixture import END
from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import Static

from claude_top.core.clock import FixedClock
from claude_top.engine.engine import Engine
from claude_top.rules.evaluate import Alerts
from claude_top.views.tui.app import ClaudeTopApp
from claude_top.views.tui.pages import AlertsScreen, LiveDetailScreen
from claude_top.views.tui.widgets import Panel

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def make_app(engine: Engine, **kw: Any) -> ClaudeTopApp:
    return ClaudeTopApp(engine, Alerts(engine), FixedClock(END), **kw)


async def settle(pilot: Pilot[None]) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def drawn(widget: Static, width: int = 160) -> str:
    console = Console(width=width, color_system=None, file=None, record=True)
    with console.capture() as cap:
        console.print(widget.content)
    return cap.get()


def page_text(app: ClaudeTopApp) -> str:
    return drawn(app.screen.query_one(".page-body", Static))


def _call(ts: float, feature: str) -> str:
    return json.dumps(
        {
            "timestamp": datetime.fromtimestamp(ts, UTC).isoformat(),
            "feature": feature,
            "model": "claude-sonnet-4-5",
            "user_id": "user-new",
            "input_tokens": 100,
            "output_tokens": 10,
            "latency_ms": 900,
        }
    )


async def test_a_lists_every_firing_alert_and_escape_returns(engine: Engine) -> None:
    app = make_app(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.dashboard is not None and app.dashboard.alerts
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, AlertsScreen)
        text = page_text(app).replace("\n", " ")
        for a in app.dashboard.alerts:
            assert a.message[:25] in text
        assert "fired" in text
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, AlertsScreen)


async def test_the_alerts_panel_says_how_many_more_on_a_short_box(engine: Engine) -> None:
    app = make_app(engine)
    async with app.run_test(size=(120, 34)) as pilot:
        await settle(pilot)
        panel = app.query_one("#alerts", Panel)
        rows = panel.content_size.height
        n = len(app.dashboard.alerts) if app.dashboard else 0
        text = drawn(panel)
        if n > rows:
            assert f"+{n - rows + 1} more (a)" in text
        assert "(9 firing · a)" in str(panel.border_title)


async def test_detail_refreshes_live(engine: Engine) -> None:
    app = make_app(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, LiveDetailScreen)
        d = app.dashboard
        assert d is not None and d.detail is not None and d.detail.feature == "doc_summary"
        before = d.detail.calls
        assert f"{before} calls" in page_text(app)
        engine.ingest_lines([_call(END - 30 + i, "doc_summary") for i in range(7)])
        app._tick()
        await settle(pilot)
        assert app.dashboard is not None and app.dashboard.detail is not None
        assert app.dashboard.detail.calls == before + 7
        assert f"{before + 7} calls" in page_text(app)


async def test_a_frame_shown_before_the_page_mounts_keeps_its_title(engine: Engine) -> None:
    """The app can hand a page its frame before the page's ``on_mount`` runs; the mount's own
    title must not hide the frame's (the page's title lost its window)."""
    app = make_app(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        page = app.screen
        assert isinstance(page, LiveDetailScreen) and app.dashboard is not None
        page.show_frame(app.dashboard)
        page.on_mount()  # the order a frame arriving first gives
        await settle(pilot)
        scroll = page.query_one(".page")
        assert "window 10m" in str(scroll.border_title)


async def test_detail_keys_act_on_the_page_not_the_hidden_table(engine: Engine) -> None:
    app = make_app(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        sort, filt = app.sort, app.filter_text
        await pilot.press("s", "S", "slash", "u")
        await settle(pilot)
        assert isinstance(app.screen, LiveDetailScreen)
        assert (app.sort, app.filter_text, app.users_by) == (sort, filt, "tokens")
        shown = {
            b.binding.action
            for b in app.screen.active_bindings.values()
            if b.enabled and b.binding.show
        }
        assert "cycle_window" in shown
        assert not any(a.endswith(("sort_column", "filter", "users_by")) for a in shown)
        await pilot.press("w")
        await settle(pilot)
        assert app.dashboard is not None and app.dashboard.detail is not None
        assert app.dashboard.window_name == "1h"
        assert "window 1h" in str(app.screen.query_one(".page").border_title)
        assert app.dashboard.detail.start == app.dashboard.window_start


async def test_detail_marks_over_threshold_values_as_the_table_does(engine: Engine) -> None:
    app = make_app(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        row = app.dashboard.features[0] if app.dashboard else None
        assert row is not None and row.levels["error_pct"] == "critical"
        await pilot.press("enter")
        await settle(pilot)
        text = page_text(app)
        assert "✖ 32.5%" in text  # the feature's error rate, with the table's glyph
        assert "▲ 25s" in text  # its p95
        assert "errors ✖" in text  # the chart title carries it too


async def test_filter_by_user_fills_the_table_and_says_what_matched(engine: Engine) -> None:
    app = make_app(engine)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"user-007", "enter")
        await settle(pilot)
        d = app.dashboard
        assert d is not None and d.filter is not None and d.filter.per_user
        table = app.query_one("#features")
        assert table.row_count == len(d.features) > 0  # type: ignore[attr-defined]
        assert "1 user" in str(table.border_title) and "today" in str(table.border_title)
        assert "(all traffic)" in str(app.query_one("#headroom", Panel).border_title)
        await pilot.press("slash", *"x" * 3, "enter")
        await settle(pilot)
        assert "no match" in str(app.query_one("#features").border_title)
