"""A filter keeps the calls whose feature, model or user contains it, in every panel it claims,
with numbers the engine computes for that set (``views.live.filtering``)."""

from __future__ import annotations

import pytest
from make_fixture import END
from rich.console import Console

from claude_top.core.timeutil import local_midnight
from claude_top.engine.engine import Engine
from claude_top.rules.evaluate import Alerts
from claude_top.views.live.dashboard import build_dashboard
from claude_top.views.tui.panels import alerts as alerts_panel
from claude_top.views.tui.panels import feature_grid, filter_title, users


def text(r: object) -> str:
    c = Console(width=160, color_system=None, record=True)
    with c.capture() as cap:
        c.print(r)
    return cap.get()


def test_a_user_filter_shows_that_users_calls_today_everywhere(engine: Engine) -> None:
    d = build_dashboard(engine, Alerts(engine), now=END, filter_text="USER-007")
    f = d.filter
    assert f is not None and f.per_user and f.users == ("user-007",)
    today = engine.query(local_midnight(END, engine.tz), END, by="user").groups["user-007"]
    assert sum(r.calls for r in d.features) == d.kpis.calls == today.calls == f.calls > 0
    assert [u.user for u in d.users] == ["user-007"] and d.users[0].calls == today.calls
    assert d.kpis.cost_today == pytest.approx(today.cost_usd)
    assert d.kpis.p95_ms is None and d.kpis.cost_yesterday_same_time is None  # not per user
    assert d.charts is None
    assert all(r.user == "user-007" for r in d.rate_limits)
    assert d.kpis.rate_limited_24h == len(d.rate_limits)
    assert "1 user" in filter_title(d) and "today" in filter_title(d)


def test_a_feature_filter_keeps_the_window_and_filters_kpis_charts_and_alerts(
    engine: Engine,
) -> None:
    d = build_dashboard(engine, Alerts(engine), now=END, filter_text="chat")
    f = d.filter
    assert f is not None and not f.per_user and f.features == ("chat",)
    chat = engine.query(d.window_start, d.window_end).groups["chat"]
    assert [r.feature for r in d.features] == ["chat"] and d.kpis.calls == chat.calls
    assert d.kpis.error_pct == chat.error_rate_pct and d.kpis.p95_ms == chat.p95_ms
    assert d.charts is not None
    assert sum(c or 0 for c in d.charts.charts[0].values) > 0
    assert d.alerts_matching is not None and d.alerts_matching
    assert all("chat" in a.scope or "chat" in a.message for a in d.alerts_matching)
    assert d.kpis.alerts_firing == len(d.alerts_matching) < len(d.alerts)
    panel = text(alerts_panel(d, rows=20))
    assert f"+{len(d.alerts) - len(d.alerts_matching)} firing outside the filter (a)" in panel
    all_traffic = build_dashboard(engine, None, now=END)
    assert d.kpis.cost_today < all_traffic.kpis.cost_today


def test_no_match_says_so(engine: Engine) -> None:
    d = build_dashboard(engine, Alerts(engine), now=END, filter_text="nothing-like-this")
    assert d.filter is not None and d.filter.no_match
    assert d.features == () and d.kpis.calls == 0 and d.users == () and d.rate_limits == ()
    assert "no match for “nothing-like-this”" in filter_title(d)
    assert "no match today" in text(users(d))


def test_matches_are_highlighted(engine: Engine) -> None:
    d = build_dashboard(engine, None, now=END, filter_text="summ")
    _, rows = feature_grid(d, ("feature", "calls"))
    name = rows[0][0]
    assert name.plain.startswith("doc_summary")
    assert any(span.style == "reverse" and name.plain[span.start : span.end] == "summ"
               for span in name.spans)  # fmt: skip
