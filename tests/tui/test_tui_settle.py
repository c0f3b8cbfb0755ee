"""``tui_settle.settle`` waits out a build that was in flight when the detail page opened.

Why: that build's frame carries no detail (the page says "loading…") and its ``_apply``
starts the one that does, after ``workers.wait_for_complete`` took its list: a snapshot taken
then showed "loading…" under load. A build held on its thread until
the page is open makes the race happen every time here.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from make_fixture import END
from textual.widgets import Static

from claude_top.core.clock import FixedClock
from claude_top.engine.engine import Engine
from claude_top.rules.evaluate import Alerts
from claude_top.views.tui.app import ClaudeTopApp
from claude_top.views.tui.pages import LiveDetailScreen
from tui_settle import settle

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_settle_waits_for_the_detail_frame(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = ClaudeTopApp(engine, Alerts(engine), FixedClock(END))
    async with app.run_test(size=(200, 60)) as pilot:
        await settle(pilot)
        built = ClaudeTopApp._timed_build

        opened = threading.Event()

        def held(self: ClaudeTopApp, *a: Any) -> Any:
            opened.wait(10)  # the first build is still on its thread when enter lands
            # Each build's thread as under load: starved, it uses no CPU, so ``pilot.pause``
            # (which waits for the process to stop using CPU) returns before it is done.
            time.sleep(0.3)
            return built(self, *a)

        monkeypatch.setattr(ClaudeTopApp, "_timed_build", held)
        app.refresh_now()
        assert app._building
        await pilot.press("enter")
        assert isinstance(app.screen, LiveDetailScreen)
        opened.set()
        await settle(pilot)
        page = app.screen
        assert isinstance(page, LiveDetailScreen)
        assert "loading" not in str(page.query_one(".page-body", Static).render())
