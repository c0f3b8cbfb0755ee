"""What ``claude-top check`` reports: the exit status of a set of alerts and each alert as JSON.

A view like ``summary``: the command reads the logs and evaluates the rules, this module turns
the answer into the monitoring-plugin status (0 OK, 1 warning, 2 critical) and JSON objects.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from claude_top.core.format import iso
from claude_top.rules.evaluate import Alert

EXIT_OK, EXIT_WARNING, EXIT_CRITICAL, EXIT_UNKNOWN = 0, 1, 2, 3


def exit_status(alerts: Sequence[Alert]) -> int:
    if any(a.severity == "critical" for a in alerts):
        return EXIT_CRITICAL
    if alerts:
        return EXIT_WARNING
    return EXIT_OK


def alert_dict(a: Alert) -> dict[str, Any]:
    return {
        "rule": a.rule,
        "scope": a.scope,
        "severity": a.severity,
        "value": round(a.value, 6),
        "threshold": a.threshold,
        "window": a.window,
        "since": iso(a.since),
        "message": a.message,
    }
