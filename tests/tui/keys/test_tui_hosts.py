"""With several hosts the screen gains a hosts panel naming a lost one; with one it has none."""

from __future__ import annotations

import pytest
from make_fixture import END
from tests.tui.keys.test_tui_source_alert import WALL, drawn, settle, stand_in
from textual.widgets import Static

from claude_top.core.clock import FixedClock
from claude_top.engine.engine import Engine
from claude_top.engine.hosts import ByHost
from claude_top.rules.evaluate import Alerts
from claude_top.sources.batches import Batch
from claude_top.sources.follow import SourceStatus
from claude_top.views.tui.app import ClaudeTopApp
from loggen import line

pytestmark = pytest.mark.anyio

WEB1, WEB2 = "ssh://web1/srv/app.log", "ssh://web2/srv/app.log"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _app(hosts: list[str]) -> ClaudeTopApp:
    engine = Engine(clock=FixedClock(END))
    by_host = ByHost(engine, hosts)
    for i, source in enumerate((WEB1, WEB2)):
        lines = [line(END - 60 * k, feature="chat") for k in range(3 + i)]
        by_host.sink(Batch(source, 1, lines))
    follower = stand_in(
        [
            SourceStatus(WEB1, "following", "", 0, 0, WALL - 60),
            SourceStatus(WEB2, "error", "connection lost (ssh exit 255)", 0, 0, WALL - 60),
        ]
    )
    alerts = Alerts(engine, sources=follower, wall=lambda: WALL)
    app = ClaudeTopApp(engine, alerts, FixedClock(END), follower, threaded=False)
    app.by_host = by_host if by_host.single is None else None
    return app


@pytest.mark.parametrize("size", [(160, 48), (80, 24)])
async def test_several_hosts_show_a_hosts_panel_with_the_lost_one(size: tuple[int, int]) -> None:
    app = _app(["web1", "web2"])
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        panel = app.query_one("#hosts", Static)
        assert panel.display
        text = drawn(panel)
        assert "web1" in text and "✖ error" in text
        header = drawn(app.query_one("#header", Static))
        assert "web2:app.log" in header


async def test_one_host_shows_no_hosts_panel() -> None:
    app = _app(["local"])
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        assert not app.query_one("#hosts", Static).display
