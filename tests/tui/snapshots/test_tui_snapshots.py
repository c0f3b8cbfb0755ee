"""SVG snapshots of the live screen at 80x24, 120x40 and 200x60 over the fixture log and a frozen
clock.

Update with ``pytest tests/test_tui_snapshots.py --snapshot-update`` and look at every changed SVG
in ``tests/__snapshots__/`` before committing it.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from make_fixture import END
from textual.pilot import Pilot

from claude_top.core.clock import FixedClock
from claude_top.engine.engine import Engine
from claude_top.engine.headroom import Headroom, HeadroomConfig
from claude_top.rules.evaluate import Alerts
from claude_top.sources.follow import Progress
from claude_top.views.tui.app import ClaudeTopApp
from claude_top.views.tui.handoff import LatestProgress
from tui_settle import settle

SIZES = [
    pytest.param((80, 24), id="80x24"),
    pytest.param((120, 40), id="120x40"),
    pytest.param((200, 60), id="200x60"),
]
Snap = Callable[..., bool]


def make_app(engine: Engine, now: float = END, **kw: Any) -> ClaudeTopApp:
    return ClaudeTopApp(engine, Alerts(engine), FixedClock(now), **kw)


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
        await settle(pilot)

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


@pytest.mark.parametrize("size", SIZES)
def test_alerts_screen(snap_compare: Snap, engine: Engine, size: tuple[int, int]) -> None:
    """``a``: every firing alert in full, since when, how far past its threshold, its history."""
    assert snap_compare(make_app(engine), press=["a"], terminal_size=size, run_before=settle)


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


def burst_engine(now: float = END) -> Engine:
    """A 429 burst on sonnet-4 driven by one batch user; haiku-4 quiet, limits from headers."""
    cfg = HeadroomConfig.from_raw({"sonnet-4": {"rpm": 120, "itpm": 400_000, "otpm": 40_000}})
    engine = Engine(clock=FixedClock(now), headroom=Headroom(cfg))
    rng = random.Random(7)
    rows: list[tuple[float, dict[str, Any]]] = []

    def call(ts: float, user: str, feature: str, model: str, inp: int, out: int, **kw: Any) -> None:
        d: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(ts, UTC).isoformat(),
            "request_id": f"r{len(rows)}",
            "user_id": user,
            "feature": feature,
            "model": model,
            "input_tokens": inp,
            "output_tokens": out,
            "cached_tokens": 0,
            "latency_ms": 900 + rng.randrange(600),
            "stop_reason": "end_turn",
            "error": None,
            "error_status": None,
        }
        d.update(kw)
        rows.append((ts, d))

    for k in range(150):  # chat: six people, one call every 2 s, 2k tokens (cache reads free)
        ts = now - 300 + 2 * k
        call(ts, f"user-{k % 6}", "chat", "claude-sonnet-4-6", 2000, 400, cached_tokens=9000)
    for k in range(110):  # the batch job starts 110 s ago: a call a second, 6k tokens each
        call(now - 110 + k, "batch_nightly", "doc_summary", "claude-sonnet-4-5", 6000, 300)
    headers = {
        "ratelimit_requests_limit": 4000,
        "ratelimit_requests_remaining": 3990,
        "ratelimit_input_tokens_limit": 400_000,
        "ratelimit_input_tokens_remaining": 390_000,
        "ratelimit_output_tokens_limit": 80_000,
        "ratelimit_output_tokens_remaining": 79_000,
    }
    for k in range(20):  # haiku-4: light, with the limits in its headers
        call(now - 120 + 6 * k, "user-3", "search_rerank", "claude-haiku-4-5", 1500, 50, **headers)
    for k in range(12):  # the burst: 429s from 50 s ago, mostly the batch job's
        user, feature = ("user-1", "chat") if k % 5 == 4 else ("batch_nightly", "doc_summary")
        call(now - 50 + 4 * k, user, feature, "claude-sonnet-4-5", 0, 0,
             error="RateLimitError", error_status=429, stop_reason=None,
             ratelimit_requests_remaining=0, ratelimit_tokens_remaining=900 * k,
             retry_after_s=5)  # fmt: skip
    rows.sort(key=lambda r: r[0])
    engine.ingest_lines([json.dumps(d) for _, d in rows], source="app.log")
    return engine


def test_headroom_burst(snap_compare: Snap) -> None:
    """160x48: the headroom column (ITPM past its limit, RPM past 80%) and the burst's drivers."""
    engine = burst_engine()
    assert snap_compare(make_app(engine), terminal_size=(160, 48), run_before=settle)


def test_headroom_burst_small(snap_compare: Snap) -> None:
    """80x24: the panel folds away; ``h`` brings it up."""

    async def press_h(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("h")
        await settle(pilot)

    assert snap_compare(make_app(burst_engine()), terminal_size=(80, 24), run_before=press_h)
