"""A region of the main screen is drawn again only when what it shows can have changed.

``draw.INPUTS`` names, for each region, the frame fields its panel reads. If it missed one, that
region would keep showing an old value: so each field of a frame is swapped for another frame's,
and whenever a panel's text (styles included) changes, its inputs must change too. The app side:
a rebuilt frame with equal inputs redraws nothing, and a key that changes one region's inputs
redraws that region alone.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest
from make_fixture import END
from rich.console import Console, RenderableType
from textual.pilot import Pilot
from textual.widgets import Static

from claude_top.core.clock import FixedClock
from claude_top.engine.engine import Engine
from claude_top.rules.evaluate import Alerts
from claude_top.views.live.dashboard import Dashboard, build_dashboard
from claude_top.views.tui import panels
from claude_top.views.tui.app import ClaudeTopApp
from claude_top.views.tui.draw import INPUTS, Drawn
from claude_top.views.tui.panels import DEFAULT

W, H = 70, 12


def _text(r: RenderableType) -> str:
    console = Console(record=True, width=W, color_system="truecolor", file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(r)
    return console.export_text(styles=True)


def _grid(d: Dashboard) -> RenderableType:
    labels, rows = panels.feature_grid(d, panels.WIDE, DEFAULT, 24)
    return "\n".join(str(x) for x in [*labels, *(c for r in rows for c in r)])


REGION_TEXT: dict[str, Callable[[Dashboard], RenderableType]] = {
    "kpis": lambda d: panels.kpi_strip(d, DEFAULT, False),
    "progress": lambda d: panels.progress(d, DEFAULT) or "",
    "features": _grid,
    "hosts": lambda d: panels.hosts(d, DEFAULT),
    "charts": lambda d: panels.chart_row(d.charts, W, H, d.tz, DEFAULT) if d.charts else "",
    "alerts": lambda d: panels.alerts(d, DEFAULT, rows=H),
    "ratelimits": lambda d: panels.rate_limits(d, DEFAULT, rows=H, width=W),
    "headroom": lambda d: panels.headroom(d, DEFAULT, False, rows=H, width=W),
    "users": lambda d: panels.users(d, DEFAULT, limit=H),
    "lines": lambda d: panels.line_health(d, DEFAULT),
}
"""Each region as ``draw`` draws it (its extra inputs -- palette, compact, size -- held fixed)."""


class _Status:
    path, state, message, offset, size = "/var/log/app.log", "following", "", 10, 10


class _Progress:
    lines, bytes, elapsed_s, history_done, total_bytes = 1000, 250, 2.0, False, 1000


def _frames(engine: Engine, hostile: Engine) -> list[Dashboard]:
    return [
        build_dashboard(engine, Alerts(engine), now=END, window_name="10m"),
        build_dashboard(
            hostile,
            Alerts(hostile),
            now=END - 1800,
            window_name="1h",
            sort=("p95_ms", False),
            filter_text="chat",
            users_by="cost",
            statuses=[_Status()],
            progress=_Progress(),
            paused=True,
        ),
        build_dashboard(engine, Alerts(engine), now=END - 7200, window_name="24h"),
    ]


def test_inputs_cover_every_field_a_panel_reads(
    engine: Engine, make_engine: Callable[..., Engine]
) -> None:
    assert set(REGION_TEXT) == set(INPUTS)
    frames = _frames(engine, make_engine(hostile=True))
    changed = 0
    for base in frames:
        for other in frames:
            if other is base:
                continue
            for field in dataclasses.fields(Dashboard):
                swapped = dataclasses.replace(base, **{field.name: getattr(other, field.name)})
                for region, text in REGION_TEXT.items():
                    if _text(text(swapped)) != _text(text(base)):
                        changed += 1
                        assert INPUTS[region](swapped) != INPUTS[region](base), (region, field)
    assert changed > 50  # the frames differ enough for the check to mean something


def test_drawn_remembers_inputs_and_extras(engine: Engine) -> None:
    d = build_dashboard(engine, None, now=END)
    drawn = Drawn()
    assert drawn.changed("users", d, DEFAULT)
    assert not drawn.changed("users", d, DEFAULT)
    assert not drawn.changed("users", dataclasses.replace(d, clock_now=d.clock_now + 30), DEFAULT)
    assert drawn.changed("users", dataclasses.replace(d, users_by="cost"), DEFAULT)
    assert drawn.changed("users", dataclasses.replace(d, users_by="cost"), DEFAULT, True)
    drawn.forget()
    assert drawn.changed("users", dataclasses.replace(d, users_by="cost"), DEFAULT, True)


pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def _settle(pilot: Pilot[None]) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def test_equal_frame_redraws_nothing_and_a_key_only_its_region(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = ClaudeTopApp(engine, Alerts(engine), FixedClock(END))
    updated: list[str] = []
    real = Static.update

    def spy(self: Static, *a: Any, **kw: Any) -> None:
        updated.append(self.id or type(self).__name__)
        real(self, *a, **kw)

    async with app.run_test(size=(160, 48)) as pilot:
        await _settle(pilot)
        first = app.dashboard
        monkeypatch.setattr(Static, "update", spy)
        app.refresh_now()  # a new frame from the same data
        await _settle(pilot)
        assert app.dashboard is not first
        assert set(updated) <= {"header"}
        updated.clear()
        await pilot.press("u")  # users by cost: the users panel's inputs change, nothing else's
        await _settle(pilot)
        assert app.dashboard is not None and app.dashboard.users_by == "cost"
        assert set(updated) - {"header"} == {"users"}


async def test_equal_frame_repaints_no_box(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """A frame equal to the last one repaints no widget but the header: setting a box's title
    repaints the whole box in Textual, equal or not, so titles are set only when they change."""
    from textual.widget import Widget

    app = ClaudeTopApp(engine, Alerts(engine), FixedClock(END))
    repainted: list[str] = []
    real = Widget.refresh

    def spy(self: Widget, *a: Any, **kw: Any) -> Any:
        if self.id:
            repainted.append(self.id)
        return real(self, *a, **kw)

    async with app.run_test(size=(160, 48)) as pilot:
        await _settle(pilot)
        await pilot.press("slash", *"chat", "enter")  # a filter: every title has its say
        await _settle(pilot)
        monkeypatch.setattr(Widget, "refresh", spy)
        app.refresh_now()  # a new frame from the same data
        await _settle(pilot)
        assert set(repainted) <= {"header"}


async def test_idle_step_is_one_frame_with_the_rules_evaluated_in_it(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On an idle log the 30 s step moves the windows and may change the rules' answer: the
    frame built at the step evaluates the rules first, so one frame shows both (not a second
    one when the alerts worker's answer lands a moment later)."""
    clock = FixedClock(END)
    rules = Alerts(engine)
    app = ClaudeTopApp(engine, rules, clock)
    frames: list[Dashboard] = []
    evaluated: list[float] = []
    real_apply, real_eval = app._apply, rules.evaluate

    def apply(d: Dashboard) -> None:
        frames.append(d)
        real_apply(d)

    def evaluate(now: float) -> Any:
        evaluated.append(now)
        return real_eval(now)

    monkeypatch.setattr(app, "_apply", apply)
    monkeypatch.setattr(rules, "evaluate", evaluate)
    async with app.run_test(size=(160, 48)) as pilot:
        for _ in range(100):  # the first frame, then the alerts worker's first answer
            await pilot.pause(0.3)
            await _settle(pilot)
            if evaluated and app._alerts_version[0] == engine.version:
                break
        await pilot.pause(0.3)  # the frame that shows that answer
        await _settle(pilot)
        frames.clear()
        evaluated.clear()
        clock.set(END + 31)
        for _ in range(8):  # 2.4 s: the 4 Hz refresh and the 1 Hz alerts timers tick
            await pilot.pause(0.3)
            await _settle(pilot)
        assert len(frames) == 1
        assert len(evaluated) == 1
        assert frames[0].clock_now == END + 31


async def test_new_data_draws_the_cells_that_changed_and_no_others(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two new calls of one feature: its calls cell shows the new count; cells whose text
    and style did not change are not drawn again (each costs a pass through Rich)."""
    import json
    from datetime import UTC, datetime

    from claude_top.views.tui import table as table_module
    from claude_top.views.tui.widgets import FeaturesTable

    app = ClaudeTopApp(engine, Alerts(engine), FixedClock(END))
    async with app.run_test(size=(160, 48)) as pilot:
        await _settle(pilot)
        table = app.query_one(FeaturesTable)
        d = app.dashboard
        assert d is not None
        row = d.features[0]  # the most calls: two more keep every row where it is
        before = table.get_cell(row.feature, "calls")
        drawn: list[tuple[int, int]] = []
        real = table_module.cell_segments

        def spy(console: Any, cell: Any, width: int, pre: Any, post: Any) -> Any:
            drawn.append((pre.meta["row"], pre.meta["column"]))
            return real(console, cell, width, pre, post)

        monkeypatch.setattr(table_module, "cell_segments", spy)
        lines = [
            json.dumps(
                {
                    "timestamp": datetime.fromtimestamp(END - 20 + i, UTC).isoformat(),
                    "feature": row.feature,
                    "model": "claude-sonnet-4-5",
                    "user_id": "user-new",
                    "input_tokens": 100,
                    "output_tokens": 10,
                    "latency_ms": 900,
                }
            )
            for i in range(2)
        ]
        engine.ingest_lines(lines)
        app.refresh_now()
        await _settle(pilot)
        new = app.dashboard
        assert new is not None
        got = next(r for r in new.features if r.feature == row.feature)
        assert got.calls == row.calls + 2
        assert [r.feature for r in new.features] == [r.feature for r in d.features]
        assert str(table.get_cell(row.feature, "calls")).strip() == str(got.calls)
        assert str(before).strip() == str(row.calls)
        cols = table.columns
        calls = [(new.features[r].feature if r >= 0 else "", cols[c]) for r, c in drawn]
        assert (row.feature, "calls") in calls
        # The other rows changed only in their trend, drawn to the scale of the tallest slot.
        assert {c for r, c in calls if r != row.feature} <= {"spark"}
        assert len(calls) < len(new.features) * len(cols) / 2


async def test_the_first_screen_is_told_once_a_frame_with_the_history_in_is_painted(
    engine: Engine,
) -> None:
    """What a warm start leaves for later waits for ``first_screen``: not set by frames of a
    history still loading, set once a frame with all of it has been painted."""
    from claude_top.views.tui.handoff import LatestProgress

    class _Done(_Progress):
        history_done = True

    box = LatestProgress()
    box.set(_Progress())
    app = ClaudeTopApp(engine, Alerts(engine), FixedClock(END), progress=box)
    async with app.run_test(size=(160, 48)) as pilot:
        await _settle(pilot)
        assert app.dashboard is not None and not app.first_screen.is_set()
        box.set(_Done())
        app.refresh_now()
        await _settle(pilot)
        assert app.dashboard.progress is not None and app.dashboard.progress.done
        assert app.first_screen.is_set()
