"""Cell highlights come from the configured rules: change a rule, and the cell and alert move together.

With every per-group rule's window set to the dashboard's window, a feature's cell is past its
rule exactly when that rule fires for the feature, at the rule's severity.
"""

from __future__ import annotations

from collections.abc import Callable

from make_fixture import END

from claude_top.engine.engine import Engine
from claude_top.rules.evaluate import Alerts
from claude_top.rules.spec import rules_from_config
from claude_top.views.live.dashboard import build_dashboard

CELLS = {
    "error_rate": "error_pct",
    "p95_latency": "p95_ms",
    "max_tokens": "max_tokens_pct",
    "rate_limit": "rate_limited",
}
"""The per-group rules and the features-table cell each colours."""

CONFIGS = [
    {},
    {
        "error_rate": {"threshold": 1, "min_calls": 3, "severity": "warning"},
        "p95_latency": {"threshold": 2000, "severity": "critical", "min_calls": 1},
        "max_tokens": {"threshold": 0.5, "min_calls": 2},
        "rate_limit": {"threshold": 2, "severity": "critical"},
    },
    {"error_rate": {"enabled": False}, "p95_latency": {"threshold": 100_000}},
]


def _in_window(raw: dict[str, dict[str, object]], window: str) -> dict[str, dict[str, object]]:
    return {rid: {**raw.get(rid, {}), "window": window} for rid in CELLS}


def test_cells_are_past_exactly_where_their_rule_fires(
    make_engine: Callable[..., Engine],
) -> None:
    for raw in CONFIGS:
        rules = rules_from_config(_in_window(raw, "10m"))
        e = make_engine()
        d = build_dashboard(e, Alerts(e, rules), now=END, window_name="10m")
        fired = {(a.rule, a.scope): a.severity for a in d.alerts}
        for row in d.features:
            for rid, cell in CELLS.items():
                assert row.levels.get(cell, "ok") == fired.get((rid, row.feature), "ok"), (
                    raw,
                    row.feature,
                    rid,
                )


def test_a_changed_threshold_changes_the_highlight(make_engine: Callable[..., Engine]) -> None:
    e = make_engine()
    default = build_dashboard(e, Alerts(e), now=END)
    strict = rules_from_config({"error_rate": {"threshold": 0.1, "min_calls": 1}})
    d = build_dashboard(e, Alerts(e, strict), now=END)
    flagged = {r.feature for r in d.features if "error_pct" in r.levels}
    before = {r.feature for r in default.features if "error_pct" in r.levels}
    erring = {r.feature for r in d.features if r.error_pct > 0.1}
    assert flagged == erring and before <= flagged and before
    lenient = rules_from_config({"error_rate": {"threshold": 99}})
    d = build_dashboard(e, Alerts(e, lenient), now=END)
    assert not any("error_pct" in r.levels for r in d.features)


def test_daily_cost_threshold_is_percent_for_the_kpi_too(
    make_engine: Callable[..., Engine],
) -> None:
    # 5 means 5% of the baseline (not 500%): today's cost past it lights the KPI and the alert
    e = make_engine()
    rules = rules_from_config({"daily_cost": {"threshold": 5, "min_calls": 0}})
    d = build_dashboard(e, Alerts(e, rules), now=END)
    k = d.kpis
    assert k.cost_7d_avg is not None and k.cost_today > 0.05 * k.cost_7d_avg
    assert k.levels.get("cost_today") == "critical"
    assert any(a.rule == "daily_cost" and a.scope == "*" for a in d.alerts)
    high = rules_from_config({"daily_cost": {"threshold": 10_000, "min_calls": 0}})
    d = build_dashboard(e, Alerts(e, high), now=END)
    assert "cost_today" not in d.kpis.levels
    assert not any(a.rule == "daily_cost" for a in d.alerts)
