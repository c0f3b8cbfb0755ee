"""The firing alerts as the live screen orders them, and their fired/resolved history.

Why here and not in the panel: with twenty alerts firing, which eight a small panel shows is a
decision about the data (a fresh 38.6% error rate must not hide behind long-running cost
alerts), and the ``a`` screen, the export and the tests must agree on it. The order is:

1. a source that cannot be read (it makes every other number doubtful),
2. severity (critical before warning),
3. recency (the alert that fired last first: it is news, the others have been seen),
4. impact, largest first, then rule and scope (a stable order for equal ones).

**Impact** is how far past its threshold an alert is, as a ratio in the rule's own direction:
``value / threshold`` for a rule that fires above (38.6% errors against 5% is 7.7x),
``threshold / value`` for one that fires below (a 10% cache hit rate against 30% is 3x). A
rule whose threshold is zero (any 429) has the value itself as its impact.

The history is the rules layer's own record (``rules.evaluate.Alerts.transitions``), read here
into plain rows; nothing about alerts is kept in a widget.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from claude_top.core import format as fmt
from claude_top.rules.spec import BELOW
from claude_top.views.live.rows import AlertRow, Level, TransitionRow


def _level(s: object) -> Level:
    return "critical" if str(s) == "critical" else "warning"


def impact(rule: str, value: float, threshold: float) -> float:
    """How many times past its threshold a firing alert is (see the module's docstring)."""
    if rule in BELOW:
        if value <= 0:
            return math.inf if threshold > 0 else 0.0
        return threshold / value
    if threshold <= 0:
        return value
    return value / threshold


def alert_row(a: Any) -> AlertRow:
    """A ``rules.evaluate.Alert`` (or anything shaped like one) as a view row."""
    rule = str(getattr(a.rule, "id", a.rule))
    since = getattr(a, "since", None)
    w = getattr(a, "window", "")
    value = float(getattr(a, "value", 0.0) or 0.0)
    threshold = float(getattr(a, "threshold", 0.0) or 0.0)
    return AlertRow(
        rule=rule,
        scope=str(getattr(a, "scope", "*")),
        severity=_level(getattr(a, "severity", "warning")),
        value=value,
        threshold=threshold,
        window=fmt.span(float(w)) if isinstance(w, int | float) else str(w),
        since=float(since) if isinstance(since, int | float) else None,
        message=str(getattr(a, "message", "")),
        impact=impact(rule, value, threshold),
    )


def order_key(r: AlertRow) -> tuple[bool, bool, float, float, str, str]:
    """Source first, then critical, then the most recent, then the largest impact."""
    since = -(r.since if r.since is not None else -math.inf)
    return (r.rule != "source", r.severity != "critical", since, -r.impact, r.rule, r.scope)


def ordered(rows: Iterable[AlertRow]) -> list[AlertRow]:
    return sorted(rows, key=order_key)


def transition_rows(transitions: Iterable[Any]) -> list[TransitionRow]:
    """Every kept transition, newest first."""
    out: list[TransitionRow] = []
    for tr in reversed(list(transitions)):
        ar = alert_row(tr.alert)
        out.append(
            TransitionRow(float(tr.at), str(tr.kind), ar.rule, ar.scope, ar.severity, ar.message)
        )
    return out


def history_of(transitions: Iterable[TransitionRow], rule: str, scope: str) -> list[TransitionRow]:
    """One alert's fired/resolved transitions, newest first (as kept by the rules)."""
    return [t for t in transitions if t.rule == rule and t.scope == scope]


def alert_rows(alerts: Any, t: float, pending: bool) -> tuple[list[AlertRow], list[TransitionRow]]:
    """The firing alerts in screen order and the kept history, at the frame's ``t``."""
    if alerts is None or pending:
        return [], []
    firing = ordered(alert_row(x) for x in alerts.evaluate(t))
    return firing, transition_rows(alerts.transitions)
