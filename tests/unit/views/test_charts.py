"""The charts' slot series agree with the window's own numbers; the braille chart as text."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from make_fixture import END

from claude_top.core.windows import window
from claude_top.engine.engine import Engine
from claude_top.engine.series import TrafficSeries
from claude_top.views.live.charts import Chart, chart_set
from claude_top.views.live.dashboard import build_dashboard
from claude_top.views.tui.panels.charts import line_chart, plot_rows


@pytest.mark.parametrize("name", ["5m", "10m", "1h", "24h", "today"])
@pytest.mark.parametrize("feature", [None, "doc_summary"])
def test_slots_add_up_to_the_windows_numbers(
    engine: Engine, name: str, feature: str | None
) -> None:
    win = window(name, END)
    assert win.start is not None and win.end is not None
    s = engine.query(win.start, win.end, by="feature")
    g = s.total if feature is None else s.groups[feature]
    for step in (60, 300, 1440):
        slots = engine.traffic(win.start, win.end, step, feature)
        assert sum(n for _, (n, *_r) in slots) == g.calls
        assert sum(e for _, (_n, e, *_r) in slots) == g.errors
        assert sum(c for _, (_n, _e, c, _p) in slots) == pytest.approx(g.cost_usd)


def test_a_one_slot_window_has_the_windows_p95(engine: Engine) -> None:
    start, end = END - 600, END
    (_, (_n, _e, _c, p95)), *rest = engine.traffic(start, end, 600)
    assert not rest and p95 == engine.total(start, end).p95_ms


def _line(ts: float, feature: str = "doc_summary", latency: int = 90_000) -> str:
    return json.dumps(
        {
            "timestamp": datetime.fromtimestamp(ts, UTC).isoformat(),
            "feature": feature,
            "model": "claude-sonnet-4-5",
            "input_tokens": 10,
            "output_tokens": 10,
            "latency_ms": latency,
            "error": "APIError",
            "error_status": 500,
        }
    )


def test_kept_slots_follow_late_lines(make_engine: object) -> None:
    """A line written late into a settled slot: the kept slot is folded again (a fresh series
    over the same state agrees)."""
    engine = make_engine()  # type: ignore[operator]
    start, end = END - 3600, END + 1
    before = engine.traffic(start, end, 300)
    engine.ingest_lines([_line(END - 1790)], source="late.log")
    after = engine.traffic(start, end, 300)
    fresh = TrafficSeries(engine.agg).traffic(start, end, 300)
    assert after == fresh and after != before
    assert sum(n for _, (n, *_r) in after) == sum(n for _, (n, *_r) in before) + 1


def test_dashboard_charts_carry_the_rules_thresholds_and_levels(engine: Engine) -> None:
    d = build_dashboard(engine, None, now=END)
    assert d.charts is not None
    by = {c.key: c for c in d.charts.charts}
    assert by["error_pct"].threshold == 5.0 and by["p95_ms"].threshold == 15_000
    assert by["calls_per_min"].threshold is None
    assert by["error_pct"].level == d.kpis.levels["error_pct"] == "critical"
    assert by["error_pct"].current == d.kpis.error_pct


def test_chart_set_of_a_feature(engine: Engine) -> None:
    cs = chart_set(engine, END - 600, END, feature="chat", error_threshold=5.0)
    assert cs.scope == "chat" and len(cs.charts) == 4
    assert all(len(c.values) == 10 for c in cs.charts)


def _chart(values: tuple[float | None, ...], threshold: float | None, level: str = "ok") -> Chart:
    return Chart("error_pct", "errors", "pct", values, END - 600, END, 60, threshold, 12.0, level)  # type: ignore[arg-type]


def test_line_chart_as_text() -> None:
    c = _chart((1.0, 2.0, 4.0, 8.0, 16.0, None, 2.0), 5.0, "critical")
    out = line_chart(c, 40, 8).plain.splitlines()
    assert len(out) == 8
    assert out[0].startswith("errors ✖ 12.0%") and "┄ 5.0%" in out[0]
    plot = out[1:-1]
    assert any("┄" in row for row in plot)  # the threshold line
    assert any(0x2800 < ord(ch) <= 0x28FF for ch in plot[0])  # the peak reaches the top row
    assert out[-1].strip().startswith("-10m")


def test_plot_rows_rise_from_the_bottom_left_to_the_top_right() -> None:
    cells = plot_rows([0.0, 1.0, 2.0, 3.0], 4, 2, 3.0)
    assert cells[1][0] and cells[0][3]
    assert not cells[0][0]


def test_an_empty_series_draws_no_dots() -> None:
    out = line_chart(_chart((None, None), None), 30, 5).plain
    assert not any(0x2800 < ord(ch) <= 0x28FF for ch in out)
