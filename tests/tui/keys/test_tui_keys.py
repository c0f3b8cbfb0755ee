"""Every key of the live screen, driven through Textual's Pilot over the fixture log.

The app gets a pre-filled engine and a frozen clock and no follower, so what each key does is
deterministic; dashboards are still built in the thread worker, as in real use.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from make_fixture import END
from textual.pilot import Pilot
from textual.widgets import Input

from claude_top.core.clock import FixedClock
from claude_top.core.windows import WINDOW_CYCLE
from claude_top.engine.engine import Engine
from claude_top.rules.evaluate import Alerts
from claude_top.views.tui.app import ClaudeTopApp
from claude_top.views.tui.pages import LiveDetailScreen
from claude_top.views.tui.screens import HelpScreen, RejectedScreen
from claude_top.views.tui.widgets import FeaturesTable

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def make_app(engine: Engine, now: float = END, **kw: Any) -> ClaudeTopApp:
    return ClaudeTopApp(engine, Alerts(engine), FixedClock(now), **kw)


async def settle(pilot: Pilot[None]) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def _features(app: ClaudeTopApp) -> list[str]:
    assert app.dashboard is not None
    return [r.feature for r in app.dashboard.features]


async def test_starts_and_quits(engine: Engine) -> None:
    app = make_app(engine)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        assert app.dashboard is not None and not app.compact
        assert app.query_one(FeaturesTable).row_count == 5
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


async def test_pause_freezes_view_while_ingest_continues(engine: Engine) -> None:
    app = make_app(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        before = app.dashboard
        await pilot.press("p")
        await settle(pilot)
        assert app.paused and app.dashboard is not None and app.dashboard.paused
        frozen = app.dashboard
        engine.ingest_lines(['{"not": "a record"}'])  # engine.version moves on
        app._tick()
        await settle(pilot)
        assert app.dashboard is frozen
        await pilot.press("space")
        await settle(pilot)
        assert not app.paused and app.dashboard is not frozen
        assert app.dashboard is not None and app.dashboard.version > before.version  # type: ignore[union-attr]


async def test_w_cycles_windows(engine: Engine) -> None:
    app = make_app(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        seen = []
        for _ in WINDOW_CYCLE:
            await pilot.press("w")
            await settle(pilot)
            assert app.dashboard is not None
            seen.append(app.dashboard.window_name)
        assert seen == [*WINDOW_CYCLE[2:], *WINDOW_CYCLE[:2]]


async def test_a_key_pressed_while_a_frame_is_built_is_not_lost(engine: Engine) -> None:
    """A frame being built (here: one the alert rules asked for) when ``w`` is pressed: once it
    lands, the view is rebuilt for the new window."""
    app = make_app(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        old = app.dashboard
        assert old is not None
        app._building = True
        await pilot.press("w")
        app._apply(old)
        await settle(pilot)
        assert app.dashboard is not None and app.dashboard.window_name == app.window_name
        assert app.window_name != old.window_name


async def test_s_and_shift_s_sort(engine: Engine) -> None:
    app = make_app(engine)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        assert app.sort == ("calls_per_min", True)
        await pilot.press("s", "s", "s")  # -> error_pct, p50, p95
        await settle(pilot)
        assert app.sort == ("p95_ms", True)
        assert _features(app)[0] == "doc_summary"
        await pilot.press("S")
        await settle(pilot)
        assert app.sort == ("p95_ms", False)
        assert _features(app)[-1] == "doc_summary"


async def test_sort_skips_hidden_columns_when_compact(engine: Engine) -> None:
    app = make_app(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.compact
        await pilot.press("s")
        assert app.sort[0] == "error_pct"  # calls_per_min is folded away at 80 columns


async def test_slash_filters_and_escape_clears(engine: Engine) -> None:
    app = make_app(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        box = app.query_one("#filter", Input)
        assert box.display and box.has_focus
        await pilot.press(*"haiku")  # typed letters go to the box, not to the key bindings
        await settle(pilot)
        assert app.filter_text == "haiku" and not app.paused
        assert set(_features(app)) == {"search_rerank", "email_draft"}
        await pilot.press("enter")
        await settle(pilot)
        assert not box.display and app.filter_text == "haiku"
        await pilot.press("escape")
        await settle(pilot)
        assert app.filter_text == "" and len(_features(app)) == 5


async def test_enter_opens_feature_detail_and_escape_returns(engine: Engine) -> None:
    app = make_app(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, LiveDetailScreen)
        assert "doc_summary" in str(app.screen.query_one(".page").border_title)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, LiveDetailScreen)
        await pilot.press("down", "enter")
        await pilot.pause()
        assert isinstance(app.screen, LiveDetailScreen)
        assert "chat" in str(app.screen.query_one(".page").border_title)


async def test_u_toggles_users_by(engine: Engine) -> None:
    app = make_app(engine)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)
        assert app.dashboard is not None and app.dashboard.users_by == "cost"
        costs = [u.cost for u in app.dashboard.users]
        assert costs == sorted(costs, reverse=True)
        await pilot.press("u")
        await settle(pilot)
        assert app.dashboard.users_by == "tokens"


async def test_t_cycles_themes(engine: Engine) -> None:
    app = make_app(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.theme == "claude-dark"
        seen = []
        for _ in range(3):
            await pilot.press("t")
            await pilot.pause()
            seen.append(app.theme)
        assert seen == ["claude-light", "claude-high-contrast", "claude-dark"]


async def test_e_exports_json(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    app = make_app(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("e")
        await pilot.pause()
    files = list(tmp_path.glob("claude-top-*.json"))
    assert [f.name for f in files] == ["claude-top-20260310T143000Z.json"]
    doc = orjson.loads(files[0].read_bytes())
    assert doc["window"]["name"] == "10m" and len(doc["features"]) == 5


async def test_ctrl_s_saves_svg(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    app = make_app(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+s")
        await pilot.pause()
    svgs = list(tmp_path.glob("*.svg"))
    assert len(svgs) == 1 and "doc_summary" in svgs[0].read_text()


async def test_r_shows_rejected_examples(engine: Engine) -> None:
    app = make_app(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, RejectedScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, RejectedScreen)


async def test_question_mark_help(engine: Engine) -> None:
    app = make_app(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)


async def test_v_cycles_folded_panels_when_compact(engine: Engine) -> None:
    app = make_app(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        shown = [w.id for w in app.query("#panels Panel") if w.display]
        assert shown == ["alerts"]
        await pilot.press("v")
        await pilot.pause()
        assert [w.id for w in app.query("#panels Panel") if w.display] == ["ratelimits"]
        await pilot.press("v")
        await pilot.pause()
        assert [w.id for w in app.query("#panels Panel") if w.display] == ["headroom"]
        await pilot.resize_terminal(160, 48)
        await pilot.pause()
        assert not app.compact and app.wide
        assert len([w for w in app.query("#panels Panel") if w.display]) == 5


async def test_h_shows_the_headroom_panel_in_every_layout(engine: Engine) -> None:
    app = make_app(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("h")
        await pilot.pause()
        assert [w.id for w in app.query("#panels Panel") if w.display] == ["headroom"]
        await pilot.resize_terminal(120, 40)  # mid-size: h swaps it with line health
        await pilot.pause()
        assert [w.id for w in app.query("#panels Panel") if w.display] == [
            "alerts", "ratelimits", "users", "lines"
        ]  # fmt: skip
        await pilot.press("h")
        await pilot.pause()
        assert [w.id for w in app.query("#panels Panel") if w.display] == [
            "alerts", "ratelimits", "headroom", "users"
        ]  # fmt: skip


async def test_hostile_log_renders_literally(make_engine: Callable[..., Engine]) -> None:
    engine = make_engine(hostile=True)
    app = make_app(engine, window="1h")
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        svg = app.export_screenshot()
    assert "[bold&#160;red]x" in svg or "[bold red]x" in svg
    assert "^[]0;pwned^G" in svg
    assert "\x1b" not in svg and "\x07" not in svg


async def test_title_does_not_change_on_osc_sequence(make_engine: Callable[..., Engine]) -> None:
    app = make_app(make_engine(hostile=True), window="1h")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.title == "claude-top"
