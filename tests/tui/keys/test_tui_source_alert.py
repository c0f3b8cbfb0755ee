"""A source the reader cannot read is shown first: in the alerts panel and in the header line,
with what failed and since when, the file name made safe.

The follower is a stand-in with fixed statuses and the rules read a fixed wall clock, so what
is drawn does not depend on how fast the test runs.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from make_fixture import END
from rich.console import Console
from rich.text import Text
from tests.unit.rules.test_source_rules import Health
from textual.pilot import Pilot
from textual.widgets import Static

from claude_top.core.clock import FixedClock
from claude_top.engine.engine import Engine
from claude_top.rules.evaluate import Alerts
from claude_top.sources.follow import SourceStatus
from claude_top.views.tui.app import ClaudeTopApp
from claude_top.views.tui.widgets import Panel

pytestmark = pytest.mark.anyio

WALL = datetime(2026, 12, 1, 20, 51, 3, tzinfo=UTC).timestamp()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def stand_in(statuses: list[SourceStatus]) -> Health:
    """A follower that beat just now (at ``WALL``) with these statuses."""
    return Health(statuses, heartbeat=WALL)


def failing(path: str, message: str = "Permission denied") -> Health:
    return stand_in([SourceStatus(path, "error", message, 0, 0, WALL - 60)])


def make_app(engine: Engine, follower: Health) -> ClaudeTopApp:
    alerts = Alerts(engine, sources=follower, wall=lambda: WALL)
    return ClaudeTopApp(engine, alerts, FixedClock(END), follower, threaded=False)


async def settle(pilot: Pilot[None]) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def drawn(widget: Static, width: int = 200) -> str:
    """The text a widget shows now, without styles."""
    content = widget.content
    if isinstance(content, Text):
        return content.plain
    console = Console(width=width, color_system=None, file=None, record=True)
    with console.capture() as cap:
        console.print(content)
    return cap.get()


async def test_the_source_alert_is_first_in_the_panel_and_named_in_the_header(
    engine: Engine,
) -> None:
    app = make_app(engine, failing("/var/log/app.log"))
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        assert app.dashboard is not None
        assert app.dashboard.alerts[0].rule == "source"
        header = drawn(app.query_one("#header", Static))
        assert "⚠ app.log: Permission denied since 20:50:03" in header
        panel = app.query_one("#alerts", Panel)
        first = drawn(panel).strip().splitlines()[0]
        assert first.startswith("✖ CRIT") and "app.log: Permission denied" in first
        assert "firing" in str(panel.border_title)


async def test_a_hostile_file_name_reaches_the_header_made_visible(engine: Engine) -> None:
    app = make_app(engine, failing("/logs/\x1b]0;pwned\x07.log", "read failed: I/O error"))
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        header = drawn(app.query_one("#header", Static))
        assert "\x1b" not in header and "\x07" not in header
        assert "^[]0;pwned^G.log: read failed: I/O error" in header


async def test_healthy_sources_leave_the_header_alone(engine: Engine) -> None:
    ok = stand_in([SourceStatus("/var/log/app.log", "following", "", 0, 0, WALL)])
    app = make_app(engine, ok)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        assert app.dashboard is not None
        assert all(a.rule != "source" for a in app.dashboard.alerts)
        assert "⚠" not in drawn(app.query_one("#header", Static))


async def test_a_source_failing_on_an_idle_log_reaches_the_screen(engine: Engine) -> None:
    """No engine version moves when a file becomes unreadable: the rules still run again and
    the screen is redrawn for the new alert alone."""
    follower = stand_in([SourceStatus("/var/log/app.log", "following", "", 0, 0, WALL)])
    alerts = Alerts(engine, sources=follower, wall=lambda: WALL)
    app = ClaudeTopApp(engine, alerts, FixedClock(END), follower)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        app._alerts_tick()
        await settle(pilot)
        assert app.dashboard is not None and not app.dashboard.alerts_pending
        follower.statuses = failing("/var/log/app.log").statuses
        app._alerts_tick()
        await settle(pilot)
        app._tick()
        await settle(pilot)
        assert app.dashboard.alerts[0].rule == "source"
        assert "⚠ app.log: Permission denied" in drawn(app.query_one("#header", Static))
