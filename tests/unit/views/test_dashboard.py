"""The TUI's view-model (``claude_top.views.live.dashboard``) and its panels rendered as plain text.

The numbers are checked against direct engine queries, so the screen and ``summary`` agree; the
panels are rendered with a recording Rich console, so highlighting glyphs and hostile log strings
are checked without starting an app.
"""

from __future__ import annotations

from collections.abc import Callable

import orjson
import pytest
from make_fixture import END
from rich.console import Console

from claude_top.core.stats import GroupStats
from claude_top.core.timeutil import local_midnight
from claude_top.core.windows import previous_days
from claude_top.engine.engine import Engine
from claude_top.rules.evaluate import Alerts
from claude_top.rules.spec import Rule
from claude_top.views.live.dashboard import (
    SORT_COLUMNS,
    TOP_USERS,
    build_dashboard,
    effective_now,
)
from claude_top.views.live.detail import feature_detail
from claude_top.views.live.export import export_json
from claude_top.views.live.thresholds import Thresholds
from claude_top.views.tui import panels

UTC_NAME = "UTC"


def test_feature_rows_match_engine_query(engine: Engine) -> None:
    d = build_dashboard(engine, None, now=END, window_name="10m")
    assert not d.replay and d.now == END
    s = engine.query(END - 600, END, by="feature")
    assert {r.feature for r in d.features} == set(s.groups)
    for r in d.features:
        g = s.groups[r.feature]
        assert r.calls == g.calls
        assert r.error_pct == pytest.approx(g.error_rate_pct)
        assert r.p95_ms == g.p95_ms and r.p50_ms == g.p50_ms
        assert r.cost == pytest.approx(g.cost_usd)
        assert r.rate_limited == g.rate_limited
        assert r.calls_per_min == pytest.approx(g.calls / 10)
        assert sum(r.spark) == g.calls
    assert d.kpis.calls == s.total.calls
    assert d.kpis.error_pct == pytest.approx(s.total.error_rate_pct)
    assert d.kpis.p95_ms == s.total.p95_ms


def test_cost_kpis_match_engine(engine: Engine) -> None:
    d = build_dashboard(engine, None, now=END)
    midnight = local_midnight(END, engine.tz)
    days = previous_days(END, engine.tz, 7)
    assert d.kpis.cost_today == pytest.approx(engine.cost_between(midnight, END))
    _, ys, ye = days[0]
    assert d.kpis.cost_yesterday == pytest.approx(engine.cost_between(ys, ye))
    assert d.kpis.cost_yesterday_same_time == pytest.approx(
        engine.cost_between(ys, ys + (END - midnight))
    )
    avg = sum(engine.cost_between(s, e) for _, s, e in days) / 7
    assert d.kpis.baseline_days == 7
    assert d.kpis.cost_7d_avg == pytest.approx(avg)
    assert d.kpis.rate_limited_5m == 6
    assert d.kpis.rate_limited_24h == 7


def test_levels_follow_rule_thresholds(engine: Engine) -> None:
    d = build_dashboard(engine, None, now=END)
    by = {r.feature: r for r in d.features}
    assert by["doc_summary"].levels == {"error_pct": "critical", "p95_ms": "warning"}
    assert by["chat"].levels["rate_limited"] == "warning"
    assert by["search_rerank"].levels["cache_hit_pct"] != "ok"
    assert by["code_review"].levels == {}
    assert d.worst_p95 is not None and d.worst_p95.feature == "doc_summary"
    # Thresholds come from the configured rules: a higher p95 limit clears the cell.
    rules = [
        Rule("p95_latency", 30_000.0, "10m", "critical"),
        Rule("error_rate", 50.0, "10m", "critical"),
    ]
    d2 = build_dashboard(engine, Alerts(engine, rules), now=END)
    by2 = {r.feature: r for r in d2.features}
    assert "p95_ms" not in by2["doc_summary"].levels
    assert "error_pct" not in by2["doc_summary"].levels
    # A rule missing from the configured set (or disabled) highlights nothing.
    assert "rate_limited" not in by2["chat"].levels


def test_threshold_applies_the_rule_itself() -> None:
    th = Thresholds()
    few = GroupStats("a", calls=2, errors=1)
    assert th.error_rate.of_group(few) == "ok"  # 50% of 2 calls: below min_calls
    many = GroupStats("a", calls=100, errors=60, rate_limited=1)
    # the rule's own severity, however far past: no second, view-only level
    assert th.error_rate.of_group(many) == "critical"
    assert th.rate_limit.of_group(many) == "warning"
    assert th.rate_limit.of_group(GroupStats("a", calls=1)) == "ok"
    cached = GroupStats("a", calls=100, input_tokens=900, cache_read_tokens=100)
    assert th.cache_hit.of_group(cached) == "warning"  # 10%: below 30%, the rule's severity
    assert Thresholds.from_rules([]).error_rate.of_group(many) == "ok"


def test_alerts_firing_and_kpi(engine: Engine) -> None:
    d = build_dashboard(engine, Alerts(engine), now=END)
    keys = {(a.rule, a.scope) for a in d.alerts}
    assert ("error_rate", "doc_summary") in keys
    assert ("rate_limit", "chat") in keys
    assert d.kpis.alerts_firing == len(d.alerts) > 0
    assert d.alerts[0].severity == "critical"  # critical first
    assert d.kpis.levels["alerts"] == "critical"
    assert all(t.kind == "fired" for t in d.transitions)


def test_sort_and_filter(engine: Engine) -> None:
    for col in SORT_COLUMNS:
        d = build_dashboard(engine, None, now=END, sort=(col, True))
        vals = [r.sort_value(col) for r in d.features]
        assert vals == sorted(vals, reverse=True)
    d = build_dashboard(engine, None, now=END, sort=("feature", False))
    assert [r.feature for r in d.features] == sorted(r.feature for r in d.features)
    d = build_dashboard(engine, None, now=END, filter_text="SUMM")
    assert [r.feature for r in d.features] == ["doc_summary"]
    assert all("summ" in r.feature for r in d.rate_limits)  # no 429 on doc_summary
    d = build_dashboard(engine, None, now=END, filter_text="haiku")  # by model
    assert {r.feature for r in d.features} == {"search_rerank", "email_draft"}
    d = build_dashboard(engine, None, now=END, filter_text="user-002")  # by user
    assert d.users and all(u.user == "user-002" for u in d.users)


def test_replay_anchors_at_newest_event(engine: Engine) -> None:
    later = END + 30 * 86400
    d = build_dashboard(engine, None, now=later, window_name="10m")
    assert d.replay
    assert engine.newest_ts is not None and d.now == engine.newest_ts + 1
    live = build_dashboard(engine, None, now=END)
    assert [r.calls for r in d.features] == [r.calls for r in live.features]
    assert d.newest_age_s == pytest.approx(later - engine.newest_ts)
    assert effective_now(END, END - 60, "10m") == (END, False)
    assert effective_now(END, END - 3600, "1h") == (END, False)
    assert effective_now(END, END - 3601, "1h")[1]
    assert effective_now(END, None, "10m") == (END, False)


def test_windows_cycle_values(engine: Engine) -> None:
    for name in ("5m", "1h", "24h", "today", "all"):
        d = build_dashboard(engine, None, now=END, window_name=name)
        start = None if name == "all" else d.window_start
        total = engine.query(start, None if name == "all" else END).total.calls
        assert d.kpis.calls == total
        assert all(len(r.spark) <= 21 for r in d.features)
    d = build_dashboard(engine, None, now=END, window_name="all")
    assert d.kpis.calls == engine.lines.records


def test_rate_limit_rows_and_users(engine: Engine) -> None:
    d = build_dashboard(engine, None, now=END)
    ts = [r.ts for r in d.rate_limits]
    assert ts == sorted(ts, reverse=True) and len(ts) == 7
    first = d.rate_limits[0]
    assert (first.feature, first.requests_remaining, first.retry_after_s) == ("chat", 0, 25.0)
    us = engine.query(local_midnight(END, engine.tz), END, by="user").groups
    tokens = sorted((g.total_tokens for g in us.values()), reverse=True)[: len(d.users)]
    assert len(d.users) == min(len(us), TOP_USERS)
    assert [u.tokens for u in d.users] == tokens
    by_cost = build_dashboard(engine, None, now=END, users_by="cost")
    costs = sorted((g.cost_usd for g in us.values()), reverse=True)[: len(by_cost.users)]
    assert [u.cost for u in by_cost.users] == pytest.approx(costs)


def test_line_health_sources_progress(engine: Engine) -> None:
    class S:
        path, state, message, offset, size = "/var/log/app.log", "following", "", 10, 10

    class P:
        lines, bytes, elapsed_s, history_done, total_bytes = 1000, 250, 2.0, False, 1000

    d = build_dashboard(engine, None, now=END, statuses=[S()], progress=P())
    assert d.lines.records == engine.lines.records and d.lines.rejected == 3
    assert dict(d.lines.by_reason) == engine.lines.by_reason
    assert d.sources[0].state == "following"
    assert d.progress is not None and d.progress.fraction == 0.25
    assert d.progress.lines_per_s == 500 and d.progress.eta_s == pytest.approx(6.0)


def test_feature_detail(engine: Engine) -> None:
    fd = feature_detail(engine, "doc_summary", END - 600, END)
    g = engine.query(END - 600, END).groups["doc_summary"]
    assert fd.calls == g.calls == sum(m.calls for m in fd.models)
    assert fd.users_start == engine.day_start(END)  # per-user rows are daily
    us = engine.users_of_feature("doc_summary", engine.day_start(END), END).groups
    assert fd.users and fd.users[0].tokens == max(g.total_tokens for g in us.values())
    assert dict(fd.errors_by_type) == g.errors_by_type
    values = [v for _, v in fd.percentiles]
    assert values == sorted(values)  # type: ignore[type-var]
    assert dict(fd.percentiles)["p95"] == g.p95_ms
    assert sum(n for _, n in fd.latency_bins) == fd.calls
    assert fd.examples and all(END - 600 <= e.ts < END for e in fd.examples)
    assert [e.ts for e in fd.examples] == sorted((e.ts for e in fd.examples), reverse=True)


def test_export_json_roundtrips(engine: Engine) -> None:
    d = build_dashboard(engine, Alerts(engine), now=END)
    doc = orjson.loads(orjson.dumps(export_json(d)))
    assert doc["window"]["name"] == "10m" and doc["now_iso"] == "2026-03-10T14:30:00Z"
    assert len(doc["features"]) == len(d.features)
    assert doc["kpis"]["calls"] == d.kpis.calls
    assert doc["alerts"] and "message" in doc["alerts"][0]


def test_empty_engine() -> None:
    d = build_dashboard(Engine(), None, now=END)
    assert d.features == () and d.kpis.calls == 0 and d.worst_p95 is None
    assert d.kpis.cost_7d_avg is None and not d.replay
    text = _render(panels.kpi_strip(d)) + _render(panels.alerts(d)) + _render(panels.users(d))
    assert "no alert firing" in text and "no calls today" in text


# -- panels as text ----------------------------------------------------------------------------


def _render(renderable: object, width: int = 160) -> str:
    console = Console(record=True, width=width, color_system=None, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(renderable)
    return console.export_text()


def test_panels_show_glyphs_without_colour(engine: Engine) -> None:
    d = build_dashboard(engine, Alerts(engine), now=END)
    table = _render(panels.features_table(d))
    line = next(ln for ln in table.splitlines() if ln.startswith("doc_summary"))
    assert "✖ 32.5%" in line and "▲ 25s" in line
    kpi = _render(panels.kpi_strip(d))
    assert "✖ 15.9%" in kpi and "6/7" in kpi and "doc_summary ▲ 25s" in kpi
    alerts = _render(panels.alerts(d), 200)
    assert "✖ CRIT" in alerts and "▲ WARN" in alerts and "doc_summary" in alerts
    assert "14:28:55" in _render(panels.rate_limits(d))
    assert "user-001" in _render(panels.users(d))
    health = _render(panels.line_health(d))
    assert "bad timestamp" in health and "press r" in health
    header = _render(panels.header(d))
    assert "window 10m" in header and "REPLAY" not in header


def test_header_badges(engine: Engine) -> None:
    d = build_dashboard(engine, None, now=END + 86400, paused=True)
    header = _render(panels.header(d))
    assert "PAUSED" in header and "REPLAY @ 2026-03-10 14:29:" in header


def test_sparkline() -> None:
    assert panels.sparkline([0, 1, 2, 4]) == " ▂▄█"
    assert panels.sparkline([0.0, 0.0]) == "▁▁"
    assert len(panels.sparkline(list(range(60)), 20)) == 20
    assert panels.sparkline([1, 1], top=2) == "▄▄"


def test_hostile_strings_render_literally(make_engine: Callable[..., Engine]) -> None:
    engine = make_engine(hostile=True)
    d = build_dashboard(engine, None, now=END, window_name="1h")
    assert "[bold red]x" in {r.feature for r in d.features}
    out = ""
    for r in (
        panels.features_table(d),
        panels.rate_limits(d),
        panels.users(d),
        panels.header(d),
        panels.detail(feature_detail(engine, "[bold red]x", None, None), UTC_NAME),
    ):
        out += _render(r, 240)
    assert "[bold red]x" in out
    assert "[link=http://evil]click…" in out
    assert "^[]0;pwned^G" in out
    assert "[blink]u^[[2J" in out
    assert "[red]Boom^[[31m" in out
    assert "\x1b" not in out and "\x07" not in out
    assert "a" * 23 + "…" in out  # long names cut with an ellipsis


def test_calls_without_user_are_a_visible_warning() -> None:
    from claude_top.core.clock import FixedClock
    from loggen import call

    e = Engine(clock=FixedClock(END))
    e.ingest_lines(
        [
            orjson.dumps(call(END - 60, user_id=None)),
            orjson.dumps(call(END - 30, user_id="")),
            orjson.dumps(call(END - 10)),
        ]
    )
    d = build_dashboard(e, None, now=END, window_name="10m", tz=e.tz)
    assert d.lines.no_user_calls == 2
    text = _render(panels.line_health(d))
    assert "calls without user_id" in text and "▲" in text
