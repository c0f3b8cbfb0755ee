"""The screen without colour (``NO_COLOR``): severity must read from bold, reverse and glyphs.

Textual turns every colour into a grey under ``NO_COLOR``, and a red turns out darker than plain
text: a critical would be the dimmest thing on the screen. The palette then draws criticals
reversed and warnings bold in the text's own colour. Look at the SVG: the CRIT rows and the ✖
cells stand out, none is dimmer than the text around it.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from make_fixture import END

from claude_top.core.clock import FixedClock
from claude_top.engine.engine import Engine
from claude_top.rules.evaluate import Alerts
from claude_top.views.tui.app import ClaudeTopApp
from claude_top.views.tui.widgets import palette_of
from tui_settle import settle

Snap = Callable[..., bool]


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_no_color(
    snap_compare: Snap, engine: Engine, monkeypatch: pytest.MonkeyPatch, size: tuple[int, int]
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = ClaudeTopApp(engine, Alerts(engine), FixedClock(END))
    assert snap_compare(app, terminal_size=size, run_before=settle)


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_no_color_palette_marks_severity_without_colour(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, anyio_backend: str
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = ClaudeTopApp(engine, Alerts(engine), FixedClock(END))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        pal = palette_of(app)
        assert pal.mono and pal.style("critical") == "bold reverse"
        assert pal.style("warning") == "bold"
        assert pal.error == pal.warning  # the text's own colour, never a darker grey
    monkeypatch.delenv("NO_COLOR")
    coloured = ClaudeTopApp(engine, Alerts(engine), FixedClock(END))
    async with coloured.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert not palette_of(coloured).mono
