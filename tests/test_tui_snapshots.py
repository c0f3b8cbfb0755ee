"""SVG snapshots of the live screen at 80x24 and 160x48 over the fixture log and a frozen clock.

Update with ``pytest tests/test_tui_snapshots.py --snapshot-update`` and look at every changed SVG
in ``tests/__snapshots__/`` before committing it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from make_fixture import END
from textual.pilot import Pilot

from claude_top.alerts import Alerts
from claude_top.clock import FixedClock
from claude_top.engine import Engine
from claude_top.follow import Progress
from claude_top.tui.app import ClaudeTopApp, LatestProgress

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 48), id="160x48")]
Snap = Callable[..., bool]


def make_app(engine: Engine, now: float = END, **kw: Any) -> ClaudeTopApp:
    return ClaudeTopApp(engine, Alerts(engine), FixedClock(now), **kw)


async def settle(pilot: Pilot[None]) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES)
def test_main_threshold_breach(snap_compare: Snap, engine: Engine, size: tuple[int, int]) -> None:
    """At END: an error burst and latency spike on doc_summary, 429s on chat."""
    assert snap_compare(make_app(engine), terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", SIZES)
def test_main_calm(
    snap_compare: Snap, make_engine: Callable[..., Engine], size: tuple[int, int]
) -> None:
    """Half an hour before the incident: only the slow-burning cells are highlighted."""
    now = END - 1800
    assert snap_compare(make_app(make_engine(now), now), terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", SIZES)
def test_help_screen(snap_compare: Snap, engine: Engine, size: tuple[int, int]) -> None:
    assert snap_compare(
        make_app(engine), press=["question_mark"], terminal_size=size, run_before=settle
    )


@pytest.mark.parametrize("size", SIZES)
def test_feature_detail(snap_compare: Snap, engine: Engine, size: tuple[int, int]) -> None:
    async def open_detail(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("enter")
        await pilot.pause()

    assert snap_compare(make_app(engine), terminal_size=size, run_before=open_detail)


@pytest.mark.parametrize("size", SIZES)
def test_replay_badge(
    snap_compare: Snap, make_engine: Callable[..., Engine], size: tuple[int, int]
) -> None:
    """The clock is three days after the newest event: the view anchors there and says REPLAY."""
    now = END + 3 * 86400
    assert snap_compare(make_app(make_engine(now), now), terminal_size=size, run_before=settle)


@pytest.mark.parametrize("theme", ["claude-light", "claude-high-contrast"])
@pytest.mark.parametrize("size", SIZES)
def test_themes(snap_compare: Snap, engine: Engine, size: tuple[int, int], theme: str) -> None:
    assert snap_compare(make_app(engine, theme=theme), terminal_size=size, run_before=settle)


def test_paused_filtered_sorted(snap_compare: Snap, engine: Engine) -> None:
    async def keys(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("slash", *"a", "enter", "s", "s", "s", "s", "s", "p", "w")
        await settle(pilot)

    assert snap_compare(make_app(engine), terminal_size=(120, 40), run_before=keys)


def test_rejected_lines_screen(snap_compare: Snap, engine: Engine) -> None:
    assert snap_compare(make_app(engine), press=["r"], terminal_size=(120, 40), run_before=settle)


def test_history_loading(snap_compare: Snap, engine: Engine) -> None:
    box = LatestProgress()
    box.set(
        Progress(
            lines=120_000, bytes=30 << 20, elapsed_s=4.0, history_done=False, total_bytes=90 << 20
        )
    )
    assert snap_compare(make_app(engine, progress=box), terminal_size=(120, 40), run_before=settle)


def test_hostile_log(snap_compare: Snap, make_engine: Callable[..., Engine]) -> None:
    app = make_app(make_engine(hostile=True), window="1h")
    assert snap_compare(app, terminal_size=(160, 48), run_before=settle)
