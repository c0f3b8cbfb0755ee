"""Series for ``promtool test rules`` made from the traffic the ``check`` tests use.

A scenario's lines (built with ``unit.rules.test_alerts``' helpers) are fed to an engine minute
by minute, as a follower would, and the ``/metrics`` collector is read after each minute: the
samples become promtool's input series, one value per minute, and ``check``'s own evaluation
at the end (``Alerts.evaluate``) gives the alerts the rule file must fire there -- and, for
every other rule, that it must not. Lines older than the simulated span are the history a
``serve`` loads at start: in the engine, in no counter. Promtool's time 0 is the span's start,
so timestamps (``*_timestamp_seconds``) are shifted by it. A counter series that first appears
in the middle is written as 0 before it, as a ``serve`` that knew it from the start would show.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from claude_top.core.clock import FixedClock
from claude_top.engine.engine import Engine
from claude_top.engine.headroom import Headroom, HeadroomConfig
from claude_top.rules.evaluate import Alert, Alerts
from claude_top.rules.spec import Rule
from claude_top.views.metrics.alertmanager import scope_label
from claude_top.views.metrics.collector import EngineCollector, samples
from claude_top.views.metrics.rulefile import alerting_rules
from unit.rules.test_alerts import T0

COUNTER_SUFFIXES = ("_total", "_bucket", "_count", "_sum")


@dataclass
class Scenario:
    name: str
    lines: list[str]
    minutes: int = 75
    """How long before T0 the simulated ``serve`` started (the rules' longest window, and more)."""
    limits: dict[str, Any] = field(default_factory=dict)


def _ts(text: str) -> float | None:
    try:
        return datetime.fromisoformat(json.loads(text)["timestamp"]).timestamp()
    except (ValueError, KeyError, TypeError):
        return None


def simulate(sc: Scenario, rules: list[Rule]) -> tuple[dict[str, list[str]], list[Alert]]:
    """promtool's input series (selector -> values) and ``check``'s alerts at T0."""
    start = T0 - sc.minutes * 60
    clock = FixedClock(start)
    headroom = Headroom(HeadroomConfig.from_raw(sc.limits)) if sc.limits else None
    engine = Engine(clock=clock, headroom=headroom)
    timed = sorted(((_ts(x), x) for x in sc.lines), key=lambda p: (p[0] is None, p[0] or 0.0))
    engine.ingest_lines([x for t, x in timed if t is not None and t < start])
    collector = EngineCollector(engine, rules, UTC, clock)
    collector.start_counting()
    live = [(t, x) for t, x in timed if t is None or t >= start]
    steps: list[dict[tuple[str, tuple[tuple[str, str], ...]], float]] = []
    for k in range(sc.minutes + 1):
        t = start + 60 * k
        batch = [x for ts, x in live if ts is not None and t - 60 <= ts < t]
        if k == sc.minutes:
            batch += [x for ts, x in live if ts is None]
        if batch:
            engine.ingest_lines(batch)
        clock.set(t)
        steps.append(samples(collector))
    series: dict[str, list[str]] = {}
    keys = sorted({key for step in steps for key in step})
    for name, labels in keys:
        selector = name + "{" + ",".join(f"{k}={json.dumps(v)}" for k, v in labels) + "}"
        counter = name.endswith(COUNTER_SUFFIXES)
        shift = start if name.endswith("_timestamp_seconds") else 0.0
        values, seen = [], False
        for step in steps:
            v = step.get((name, labels))
            if v is None:
                values.append(("0" if counter else "_") if not seen else "stale")
            else:
                seen = True
                values.append(repr(float(v) - shift))
        series[selector] = values
    return series, Alerts(engine, rules).evaluate(T0)


def _render(template: str, labels: dict[str, str]) -> str:
    return re.sub(r"\{\{ \$labels\.(\w+) \}\}", lambda m: labels.get(m.group(1), ""), template)


def rule_test(
    sc: Scenario, rules: list[Rule], rule_file: str
) -> tuple[dict[str, Any], list[Alert]]:
    """One promtool test: the scenario's series, and for every rule what must fire at T0."""
    series, fired = simulate(sc, rules)
    tests = []
    for r in alerting_rules(rules):
        exp = []
        for a in fired:
            if a.rule != r.alert:
                continue
            labels = {scope_label(a.rule): a.scope, **r.labels}
            annotations = {k: _render(v, labels) for k, v in r.annotations.items()}
            exp.append({"exp_labels": labels, "exp_annotations": annotations})
        tests.append({"eval_time": f"{sc.minutes}m", "alertname": r.alert, "exp_alerts": exp})
    body = {
        "name": sc.name,
        "interval": "1m",
        "input_series": [{"series": s, "values": " ".join(v)} for s, v in series.items()],
        "alert_rule_test": tests,
    }
    return body, fired
