"""Which cells of the live screen are past an alert rule: the rules' own test, read from them.

A cell is coloured with exactly the configured rule object -- its threshold, unit, direction,
``min_calls`` and severity -- and, for a group's numbers, with the very function the alert
uses (``rules.checks.group_check``). Changing a rule in the config therefore changes the alert
and the highlight together; nothing here holds a number of its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol

from claude_top.core.stats import GroupStats
from claude_top.rules import checks
from claude_top.rules.baseline import Baseline
from claude_top.rules.spec import DEFAULT_RULES, Rule
from claude_top.views.live.levels import Level


class AlertsLike(Protocol):
    """``claude_top.rules.evaluate.Alerts`` as far as the view uses it."""

    @property
    def transitions(self) -> Iterable[Any]: ...

    def evaluate(self, now: float) -> Any: ...

    def rule(self, rule_id: str) -> Any: ...


@dataclass(frozen=True, slots=True)
class Threshold:
    """One configured rule as the view applies it; ``rule`` None: disabled, highlights nothing."""

    rule: Rule | None

    @property
    def value(self) -> float:
        return 0.0 if self.rule is None else self.rule.threshold

    def _severity(self) -> Level:
        assert self.rule is not None
        return "critical" if self.rule.severity == "critical" else "warning"

    def of_group(self, g: GroupStats) -> Level:
        """The rule's severity when the rule would fire on these numbers, else "ok"."""
        if self.rule is None or checks.group_check(self.rule, g) is None:
            return "ok"
        return self._severity()

    def of_cost(self, today: GroupStats, base: Baseline) -> Level:
        if self.rule is None or checks.cost_check(self.rule, today, base) is None:
            return "ok"
        return self._severity()

    def of_lines(self, lines: int, rejected: int) -> Level:
        if self.rule is None or checks.rejected_check(self.rule, lines, rejected) is None:
            return "ok"
        return self._severity()

    def of_gauge(self, pct: float | None, calls: int) -> Level:
        """Past the headroom rule: its severity; at or past the limit itself: critical."""
        rule = self.rule
        if rule is None or pct is None or (rule.min_calls and calls < rule.min_calls):
            return "ok"
        if pct >= 100.0:
            return "critical"
        return self._severity() if rule.past(pct) else "ok"


def _default(rule_id: str) -> Threshold:
    return Threshold(next(r for r in DEFAULT_RULES if r.id == rule_id))


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The rules the view highlights with (the defaults when no rules are given)."""

    error_rate: Threshold = field(default_factory=partial(_default, "error_rate"))
    rate_limit: Threshold = field(default_factory=partial(_default, "rate_limit"))
    p95_latency: Threshold = field(default_factory=partial(_default, "p95_latency"))
    max_tokens: Threshold = field(default_factory=partial(_default, "max_tokens"))
    cache_hit: Threshold = field(default_factory=partial(_default, "cache_hit"))
    daily_cost: Threshold = field(default_factory=partial(_default, "daily_cost"))
    rejected_lines: Threshold = field(default_factory=partial(_default, "rejected_lines"))
    headroom: Threshold = field(default_factory=partial(_default, "headroom"))

    @classmethod
    def from_rules(cls, rules: Iterable[Rule]) -> Thresholds:
        """Every highlighted rule from ``rules``; one missing or disabled highlights nothing."""
        by_id = {r.id: r for r in rules if r.enabled}
        return cls(**{name: Threshold(by_id.get(name)) for name in cls.__slots__})

    @classmethod
    def from_alerts(cls, alerts: AlertsLike | None) -> Thresholds:
        if alerts is None:
            return cls()
        found = (alerts.rule(name) for name in cls.__slots__)
        return cls.from_rules(r for r in found if isinstance(r, Rule))
