"""``claude-top grafana``: a Grafana dashboard over the series ``collector`` exports.

One JSON model (schema of Grafana 10+), a ``datasource`` variable for the Prometheus to read
and ``host`` and ``feature`` variables; every query is in ``QUERIES`` so the tests run each against a real
Prometheus. Thresholds drawn on the panels come from the rule objects, like the rule file's.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from claude_top.rules.spec import Rule

F = 'host=~"$host", feature=~"$feature"'
QUERIES: dict[str, list[tuple[str, str]]] = {
    "Calls per second": [
        (f"sum by (feature) (rate(claude_top_calls_total{{{F}}}[$__rate_interval]))", "{{feature}}")
    ],
    "Calls per second by host": [
        (f"sum by (host) (rate(claude_top_calls_total{{{F}}}[$__rate_interval]))", "{{host}}")
    ],
    "Error rate (%)": [
        (
            f"100 * sum by (feature) (rate(claude_top_errors_total{{{F}}}[$__rate_interval]))"
            f" / sum by (feature) (rate(claude_top_calls_total{{{F}}}[$__rate_interval]))",
            "{{feature}}",
        )
    ],
    "p95 latency (s)": [
        (
            "histogram_quantile(0.95, sum by (feature, le) "
            f"(rate(claude_top_call_duration_seconds_bucket{{{F}}}[$__rate_interval])))",
            "{{feature}}",
        )
    ],
    "Cost (USD per hour)": [
        (
            f"3600 * sum by (feature) (rate(claude_top_cost_usd_total{{{F}}}[$__rate_interval]))",
            "{{feature}}",
        )
    ],
    "Cost today vs baseline (USD)": [
        ('claude_top_cost_today_usd{scope="*"}', "today"),
        ('claude_top_cost_baseline_usd{scope="*", basis="day"}', "7-day average day"),
        ('claude_top_cost_baseline_usd{scope="*", basis="same_hours"}', "7-day average by now"),
    ],
    "Tokens per second by kind": [
        (f"sum by (kind) (rate(claude_top_tokens_total{{{F}}}[$__rate_interval]))", "{{kind}}")
    ],
    "HTTP 429s per minute": [
        (
            f'60 * sum by (feature) (rate(claude_top_errors_total{{status="429", {F}}}[$__rate_interval]))',
            "{{feature}}",
        )
    ],
    "Rate-limit use (%)": [
        ("100 * claude_top_ratelimit_utilization_ratio", "{{model_class}} {{dimension}}")
    ],
    "Lines per second": [
        ("sum by (class) (rate(claude_top_lines_total[$__rate_interval]))", "{{class}}")
    ],
    "Alerts firing": [("sum by (alertname) (claude_top_alerts_firing)", "{{alertname}}")],
    "Sources up": [("claude_top_source_up", "{{instance}} {{source}}")],
}
"""Panel title -> (PromQL, legend) per query."""
UNITS = {
    "Error rate (%)": "percent",
    "p95 latency (s)": "s",
    "Cost (USD per hour)": "currencyUSD",
    "Cost today vs baseline (USD)": "currencyUSD",
    "Rate-limit use (%)": "percent",
}
THRESHOLD_OF = {
    "Error rate (%)": "error_rate",
    "p95 latency (s)": "p95_latency",
    "Rate-limit use (%)": "headroom",
}


def _thresholds(rules: Sequence[Rule], title: str) -> dict[str, Any]:
    steps: list[dict[str, Any]] = [{"color": "green", "value": None}]
    rule = next((r for r in rules if r.id == THRESHOLD_OF.get(title) and r.enabled), None)
    if rule is not None:
        value = rule.threshold / 1000.0 if rule.id == "p95_latency" else rule.threshold
        steps.append({"color": "red" if rule.severity == "critical" else "orange", "value": value})
    return {"mode": "absolute", "steps": steps}


def dashboard(rules: Sequence[Rule]) -> dict[str, Any]:
    ds = {"type": "prometheus", "uid": "${datasource}"}
    panels = []
    for i, (title, queries) in enumerate(QUERIES.items()):
        panels.append(
            {
                "id": i + 1,
                "type": "timeseries",
                "title": title,
                "datasource": ds,
                "gridPos": {"h": 8, "w": 12, "x": (i % 2) * 12, "y": (i // 2) * 8},
                "fieldConfig": {
                    "defaults": {
                        "unit": UNITS.get(title, "short"),
                        "thresholds": _thresholds(rules, title),
                        "custom": {"thresholdsStyle": {"mode": "line"}},
                    },
                    "overrides": [],
                },
                "targets": [
                    {"refId": chr(65 + j), "datasource": ds, "expr": expr, "legendFormat": legend}
                    for j, (expr, legend) in enumerate(queries)
                ],
            }
        )
    return {
        "title": "claude-top",
        "uid": "claude-top",
        "tags": ["claude-top"],
        "schemaVersion": 39,
        "time": {"from": "now-6h", "to": "now"},
        "refresh": "30s",
        "templating": {
            "list": [
                {"name": "datasource", "type": "datasource", "query": "prometheus"},
                {
                    "name": "host",
                    "type": "query",
                    "datasource": ds,
                    "query": "label_values(claude_top_calls_total, host)",
                    "includeAll": True,
                    "multi": True,
                    "allValue": ".*",
                    "current": {"text": "All", "value": "$__all"},
                },
                {
                    "name": "feature",
                    "type": "query",
                    "datasource": ds,
                    "query": "label_values(claude_top_calls_total, feature)",
                    "includeAll": True,
                    "multi": True,
                    "allValue": ".*",
                    "current": {"text": "All", "value": "$__all"},
                },
            ]
        },
        "panels": panels,
    }


def dashboard_json(rules: Sequence[Rule]) -> str:
    return json.dumps(dashboard(rules), indent=2) + "\n"


def expressions() -> list[str]:
    return [expr for queries in QUERIES.values() for expr, _ in queries]
