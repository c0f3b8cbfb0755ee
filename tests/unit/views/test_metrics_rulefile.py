"""The Prometheus rule file: one alerting rule per enabled claude-top rule, thresholds and
windows read from the rule objects (a changed config changes the file), valid names."""

from __future__ import annotations

from msgspec.structs import replace

from claude_top.rules.spec import DEFAULT_RULES, rules_from_config
from claude_top.views.metrics.grafana import dashboard
from claude_top.views.metrics.rulefile import EXPRESSIONS, alerting_rules, rule_file


def test_every_rule_has_an_expression_and_one_alerting_rule() -> None:
    assert set(EXPRESSIONS) == {r.id for r in DEFAULT_RULES}
    rules = alerting_rules(DEFAULT_RULES)
    assert [r.alert for r in rules] == [r.id for r in DEFAULT_RULES]
    for r, spec in zip(rules, DEFAULT_RULES, strict=True):
        assert r.labels["severity"] == spec.severity
        assert r.for_ in ("0s", "1m")


def test_thresholds_windows_and_minimums_come_from_the_config() -> None:
    rules = rules_from_config(
        {
            "error_rate": {"threshold": 7.5, "window": "15m", "min_calls": 40},
            "p95_latency": {"threshold": 22000},
            "daily_cost": {"enabled": False},
            "stale_log": {"max_age": "2h"},
        }
    )
    by = {r.alert: r for r in alerting_rules(rules)}
    assert "daily_cost" not in by
    err = by["error_rate"].expr
    assert "> 7.5" in err and "[15m]" in err and ">= 40" in err and "> 5)" not in err
    assert "> 22)" in by["p95_latency"].expr
    assert "> 7200" in by["stale_log"].expr
    assert "7.5%" in by["error_rate"].annotations["summary"]


def test_the_file_is_yaml_with_one_group() -> None:
    text = rule_file(DEFAULT_RULES)
    assert text.count("\n      - alert: ") == len(DEFAULT_RULES)
    assert text.startswith("# claude-top") and 'groups:\n  - name: "claude-top"' in text


def test_dashboard_thresholds_follow_the_rules() -> None:
    rules = [replace(r, threshold=9.0) if r.id == "error_rate" else r for r in DEFAULT_RULES]
    panels = {p["title"]: p for p in dashboard(rules)["panels"]}
    steps = panels["Error rate (%)"]["fieldConfig"]["defaults"]["thresholds"]["steps"]
    assert steps[-1]["value"] == 9.0
    assert (
        panels["p95 latency (s)"]["fieldConfig"]["defaults"]["thresholds"]["steps"][-1]["value"]
        == 15.0
    )
