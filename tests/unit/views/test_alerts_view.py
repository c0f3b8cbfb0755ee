"""The alerts' screen order (source, severity, recency, impact), the panel's "+N more (a)" and
the ``a`` page's full list with history, from the view-model alone."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from make_fixture import END
from rich.console import Console

from claude_top.engine.engine import Engine
from claude_top.rules.evaluate import Alert, Alerts, Transition
from claude_top.views.live.alerts import alert_row, alert_rows, history_of, impact, ordered
from claude_top.views.live.dashboard import build_dashboard
from claude_top.views.tui.panels import alerts as alerts_panel
from claude_top.views.tui.panels.alert_list import alert_list


def text(r: Any, width: int = 120) -> str:
    c = Console(width=width, color_system=None, record=True)
    with c.capture() as cap:
        c.print(r)
    return cap.get()


def _alert(rule: str, scope: str, sev: str, value: float, thr: float, since: float) -> Alert:
    return Alert(rule, scope, sev, value, thr, "10m", since, f"{scope}: {rule} {value}")


def test_impact_is_how_far_past_the_threshold_in_the_rules_direction() -> None:
    assert impact("error_rate", 38.6, 5.0) == 38.6 / 5.0
    assert impact("cache_hit", 10.0, 30.0) == 3.0  # fires below
    assert impact("cache_hit", 0.0, 30.0) == math.inf
    assert impact("rate_limit", 6.0, 0.0) == 6.0  # any 429: the count itself


def test_order_source_then_severity_then_recency_then_impact() -> None:
    rows = [
        alert_row(_alert("daily_cost", "*", "critical", 300.0, 150.0, END - 3600)),
        alert_row(_alert("daily_cost", "chat", "critical", 200.0, 150.0, END - 3600)),
        alert_row(_alert("error_rate", "support_agent", "critical", 38.6, 5.0, END - 60)),
        alert_row(_alert("p95_latency", "chat", "warning", 30000, 15000, END)),
        alert_row(_alert("source", "/var/log/a.log", "critical", 40, 30, END - 7200)),
    ]
    got = [(r.rule, r.scope) for r in ordered(rows)]
    assert got == [
        ("source", "/var/log/a.log"),
        ("error_rate", "support_agent"),  # the newest critical beats older cost criticals
        ("daily_cost", "*"),  # same age: the larger impact first (2x before 1.33x)
        ("daily_cost", "chat"),
        ("p95_latency", "chat"),  # a warning, however recent, after every critical
    ]


class FakeAlerts:
    def __init__(self, firing: list[Alert], transitions: list[Transition]) -> None:
        self.firing, self.transitions = firing, transitions

    def evaluate(self, now: float) -> list[Alert]:
        return self.firing

    def rule(self, rule_id: str) -> Any:
        return None


def test_rows_and_history_come_from_the_rules_transitions() -> None:
    a = _alert("error_rate", "chat", "critical", 20.0, 5.0, END - 600)
    b = _alert("p95_latency", "chat", "warning", 20000, 15000, END - 300)
    trs = [
        Transition(END - 1200, "fired", a),
        Transition(END - 900, "resolved", a),
        Transition(END - 600, "fired", a),
        Transition(END - 300, "fired", b),
    ]
    firing, history = alert_rows(FakeAlerts([b, a], trs), END, pending=False)
    assert [r.rule for r in firing] == ["error_rate", "p95_latency"]
    assert [t.at for t in history] == [END - 300, END - 600, END - 900, END - 1200]
    assert [t.kind for t in history_of(history, "error_rate", "chat")] == [
        "fired",
        "resolved",
        "fired",
    ]
    assert alert_rows(FakeAlerts([a], trs), END, pending=True) == ([], [])


def test_panel_shows_what_fits_and_says_how_many_more(engine: Engine) -> None:
    d = build_dashboard(engine, Alerts(engine), now=END)
    n = len(d.alerts)
    assert n >= 6
    small = text(alerts_panel(d, rows=4))
    assert small.count("CRIT") + small.count("WARN") == 3
    assert f"+{n - 3} more (a)" in small
    assert d.alerts[0].message[:20] in small  # the first in the view-model's order
    roomy = text(alerts_panel(d, rows=n + 6))
    assert "more (a)" not in roomy
    assert roomy.count("CRIT") + roomy.count("WARN") == n
    assert "recent changes" in roomy


def test_the_alerts_page_lists_every_alert_in_full_with_its_history(engine: Engine) -> None:
    d = build_dashboard(engine, Alerts(engine), now=END)
    long = dataclasses.replace(d.alerts[-1], message="x" * 150 + " the end")
    d = dataclasses.replace(d, alerts=(*d.alerts[:-1], long))
    page = text(alert_list(d), width=100)
    assert "the end" in page  # wrapped, never cut
    for a in d.alerts[:-1]:
        assert a.message.split(",")[0] in page.replace("\n", " ") or a.message[:30] in page
    assert page.count("fired") >= len(d.alerts) - 1
    assert f"{len(d.alerts)} firing" in page
