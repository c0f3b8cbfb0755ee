"""What claude-top sends Alertmanager: its alerts as v2 API objects (``POST /api/v2/alerts``).

Built here, sent by ``commands.alertpush`` (the commands layer owns every network call). The
labels are the ones a route matches on -- ``alertname`` (the rule id), the scope's label
(``feature``, "*" for all traffic; ``model_class`` for headroom; ``source`` for the source
rule) and ``severity`` -- the same names the Prometheus rule file gives its alerts, so one
Alertmanager config routes both.
"""

from __future__ import annotations

from typing import Any

from claude_top.core import format as fmt
from claude_top.rules.evaluate import Alert
from claude_top.rules.spec import ALL

SCOPE_LABELS = {"headroom": "model_class", "source": "source"}
"""The label that carries an alert's scope; every other rule's is ``feature``."""
SERVICE = "claude-top"


def scope_label(rule_id: str) -> str:
    return SCOPE_LABELS.get(rule_id, "feature")


READER = "reader"
"""The ``source`` label of a problem of the reader itself (its scope is "*" in ``check``), as
the rule file's ``claude_top_reader_up`` alert names it."""


def alert_labels(a: Alert) -> dict[str, str]:
    scope = READER if a.rule == "source" and a.scope == ALL else a.scope
    return {
        "alertname": a.rule,
        scope_label(a.rule): scope,
        "severity": a.severity,
        "service": SERVICE,
    }


def alert_payload(a: Alert, ends_at: float | None = None) -> dict[str, Any]:
    """One alert; ``ends_at`` is its resolution time, or when it lapses unless re-sent."""
    body: dict[str, Any] = {
        "labels": alert_labels(a),
        "annotations": {
            "summary": a.message,
            "value": fmt.number(a.value),
            "threshold": fmt.number(a.threshold),
            "window": a.window,
        },
        "startsAt": fmt.iso(a.since),
    }
    if ends_at is not None:
        body["endsAt"] = fmt.iso(ends_at)
    return body
