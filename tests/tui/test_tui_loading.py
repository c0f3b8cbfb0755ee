"""While history loads, frame rebuilds are throttled by their own build time, and the progress
line keeps moving between them (``views.tui.refresh``).

The throttle's clock is injected (``app.monotonic``) and moved by the test: a build "takes" the
time the fake clock is moved inside it, so no assertion depends on how fast the machine is.
"""

from __future__ import annotations

from typing import Any

import pytest
from make_fixture import END
from textual.pilot import Pilot

from claude_top.core.clock import FixedClock
from claude_top.engine.engine import Engine
from claude_top.rules.evaluate import Alerts
from claude_top.views.tui.app import ClaudeTopApp
from claude_top.views.tui.handoff import LatestProgress
from claude_top.views.tui.refresh import LOADING_BUILD_SHARE, LOADING_REFRESH_S

BUILD_S = 0.5
"""What each build takes on the fake clock."""
EVERY_S = BUILD_S / LOADING_BUILD_SHARE
"""The least time between two loading builds' starts that this implies."""

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class _Loading:
    bytes, history_done, total_bytes = 250, False, 1000

    def __init__(self, lines: int, elapsed_s: float = 2.0) -> None:
        self.lines, self.elapsed_s = lines, elapsed_s


class _Done(_Loading):
    history_done = True


class _Mono:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


async def _settle(pilot: Pilot[None]) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def test_loading_rebuilds_wait_for_their_share_and_progress_moves_between(
    engine: Engine,
) -> None:
    assert EVERY_S > 2 * LOADING_REFRESH_S  # else the steps below would not tell them apart
    box = LatestProgress()
    box.set(_Loading(1000))
    app = ClaudeTopApp(engine, Alerts(engine), FixedClock(END), progress=box)
    mono = app.monotonic = _Mono()
    builds: list[int] = []
    real = app._build

    def build(*args: Any) -> Any:
        builds.append(box.get().lines)
        mono.t += BUILD_S  # the build takes BUILD_S on the throttle's clock
        return real(*args)

    app._build = build  # type: ignore[method-assign]
    async with app.run_test(size=(160, 48)) as pilot:
        await _settle(pilot)
        assert builds == [1000]  # the first frame is built at once
        start = mono.t - BUILD_S

        # Past the one-second floor, short of the build's share: no rebuild, but the progress
        # line shows the follower's latest counters.
        mono.t = start + 2 * LOADING_REFRESH_S
        box.set(_Loading(5000, elapsed_s=4.0))
        app._tick()
        await _settle(pilot)
        assert builds == [1000]
        d = app.dashboard
        assert d is not None and d.progress is not None
        assert (d.progress.lines, d.progress.lines_per_s) == (5000, 1250.0)

        # A key that changes the view is not kept waiting.
        app.window_name = "1h"
        app.refresh_now()
        await _settle(pilot)
        assert builds == [1000, 5000]
        start = mono.t - BUILD_S

        mono.t = start + EVERY_S - 0.01
        box.set(_Loading(7000))
        app._tick()
        await _settle(pilot)
        assert builds == [1000, 5000]
        mono.t = start + EVERY_S
        app._tick()
        await _settle(pilot)
        assert builds == [1000, 5000, 7000]

        # Once the history is in, frames are no longer throttled.
        box.set(_Done(8000))
        app._tick()
        await _settle(pilot)
        assert builds == [1000, 5000, 7000, 8000]
        assert app.dashboard is not None and app.dashboard.progress.done
