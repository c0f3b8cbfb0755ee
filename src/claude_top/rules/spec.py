"""What an alert rule is: its id, threshold, window, severity and minimum, and the defaults.

Kept apart from the evaluation so that ``config`` (which validates and prints rules) and the
views (which colour a cell past a rule's threshold) read the same ``Rule`` objects without
pulling in the engine queries. Errors name the config key, so a typo is one readable line.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from msgspec import Struct
from msgspec.structs import replace

from claude_top.core import format as fmt
from claude_top.core.errors import ConfigError, TimeArgError
from claude_top.core.timeutil import DURATION_MAX, parse_seconds
from claude_top.core.windows import check_window

SEVERITIES = ("warning", "critical")
ALL = "*"
"""The scope of an alert over all traffic."""
HEADROOM_MAX_WINDOW_S = 120.0
"""The headroom tracker keeps the last few minutes at one-second resolution, nothing older."""
COST_RULES = ("daily_cost", "cost_pace")
BELOW = ("cache_hit",)
"""Rules that fire when the value falls *below* the threshold; every other rule fires above."""
MS_RULES = ("p95_latency", "p95_ttft")
"""Rules whose threshold is milliseconds."""
AGE_KEYS = {"source": "grace", "stale_log": "max_age"}
"""The health rules (``rules.sources``): their threshold is a duration, set under this key,
and they have no window or minimum."""


class Rule(Struct, frozen=True):
    """One alert rule; ``threshold`` is in the rule's own unit (see ``UNITS``).

    ``min_calls`` is the smallest denominator the rule trusts: calls in the window for the rate
    rules, today's calls for the cost rules, lines for rejected_lines. It exists so that 1 error
    in 2 calls is not a page.
    """

    id: str
    threshold: float
    window: str
    severity: str
    min_calls: int = 20
    enabled: bool = True

    def past(self, value: float) -> bool:
        """Whether ``value`` is past the threshold (strictly: at the threshold is quiet)."""
        return value < self.threshold if self.id in BELOW else value > self.threshold

    def trusts(self, denominator: int) -> bool:
        """Whether that many calls (or lines) are enough to judge."""
        return denominator > 0 and denominator >= self.min_calls

    @property
    def window_words(self) -> str:
        """The window in a sentence: "10 min", "1 hour", "today"."""
        seconds = check_window(self.window).seconds
        return self.window if seconds is None else fmt.span_words(seconds)

    @property
    def limit_text(self) -> str:
        """ "> 5%", "< 30%", "> 15s": the threshold as messages end with it."""
        sign = "<" if self.id in BELOW else ">"
        if self.id in MS_RULES:
            return f"{sign} {fmt.ms(self.threshold)}"
        unit = "" if self.id in ("rate_limit", "unpriced") else "%"
        return f"{sign} {fmt.number(self.threshold)}{unit}"


DEFAULT_RULES: tuple[Rule, ...] = (
    Rule("error_rate", 5.0, "10m", "critical"),
    Rule("rate_limit", 0.0, "5m", "warning", min_calls=0),
    Rule("p95_latency", 15000.0, "10m", "warning"),
    Rule("p95_ttft", 5000.0, "10m", "warning"),
    Rule("daily_cost", 150.0, "today", "critical"),
    Rule("cost_pace", 150.0, "today", "warning"),
    Rule("max_tokens", 3.0, "1h", "warning"),
    Rule("cache_hit", 30.0, "1h", "warning"),
    Rule("unpriced", 0.0, "24h", "warning", min_calls=0),
    Rule("rejected_lines", 1.0, "10m", "warning"),
    Rule("headroom", 80.0, "1m", "warning", min_calls=0),
    Rule("source", 30.0, "", "critical", min_calls=0),
    Rule("stale_log", 900.0, "", "warning", min_calls=0),
)
"""The defaults, in the issue's order. The cost rules keep a minimum of 20 calls today: at
00:05 a handful of calls can be "150% of the usual pace" without meaning anything. ``p95_ttft``
reads the streamed calls (those that log ``ttft_ms``): a user waits 5 s for the first word."""

UNITS: dict[str, str] = {
    "error_rate": "percent of calls that failed",
    "rate_limit": "number of calls that got HTTP 429",
    "p95_latency": "milliseconds",
    "p95_ttft": "milliseconds to the first token of streamed calls (min_calls counts streams)",
    "daily_cost": "percent of the average daily cost of the 7 days before today",
    "cost_pace": "percent of the average cost of the same hours on the 7 days before today",
    "max_tokens": "percent of calls stopped by max_tokens",
    "cache_hit": "percent of prompt tokens read from cache (fires BELOW the threshold)",
    "unpriced": "number of calls of models without a price",
    "rejected_lines": "percent of lines rejected",
    "headroom": "percent of a model class's rate limit (RPM, ITPM or OTPM) used",
    "source": "a source that errors fires at once; one missing, or a reader without progress, "
    "after grace",
    "stale_log": "fires when the newest call is older than max_age (at --now when given)",
}
"""What each threshold counts; ``claude-top config`` prints it next to the value."""

_KEYS = ("threshold", "window", "severity", "min_calls", "enabled")


def keys_of(rule_id: str) -> tuple[str, ...]:
    """The keys an ``[alerts.<id>]`` table may hold."""
    age = AGE_KEYS.get(rule_id)
    return _KEYS if age is None else (age, "severity", "enabled")


def rule_table(rule: Rule) -> dict[str, Any]:
    """The rule as its ``[alerts.<id>]`` table, every key written out (``claude-top config``)."""
    age = AGE_KEYS.get(rule.id)
    if age is not None:
        return {age: fmt.span(rule.threshold), "severity": rule.severity, "enabled": rule.enabled}
    return {
        "threshold": rule.threshold,
        "window": rule.window,
        "severity": rule.severity,
        "min_calls": rule.min_calls,
        "enabled": rule.enabled,
    }


def rule_comment(rule: Rule) -> str:
    """The comment above a rule's table: what its threshold counts."""
    what = UNITS.get(rule.id, "the rule unit")
    return f"# {rule.id}: {what}" if rule.id in AGE_KEYS else f"# {rule.id}: threshold in {what}"


def rules_from_config(raw: Mapping[str, Any]) -> list[Rule]:
    """The defaults with the user's ``[alerts.<id>]`` tables applied; errors name the key."""
    if not isinstance(raw, Mapping):
        raise ConfigError("alerts: must be a table of rules ([alerts.error_rate] ...)")
    known = {r.id: r for r in DEFAULT_RULES}
    for rid in raw:
        if rid not in known:
            raise ConfigError(f"alerts.{rid}: unknown rule (known: {', '.join(known)})")
    out: list[Rule] = []
    for rule in DEFAULT_RULES:
        spec = raw.get(rule.id)
        if spec is None:
            out.append(rule)
        else:
            out.append(_apply(rule, spec, f"alerts.{rule.id}"))
    return out


def _apply(rule: Rule, spec: object, where: str) -> Rule:
    if not isinstance(spec, Mapping):
        raise ConfigError(f"{where}: must be a table like {{ threshold = 5 }}")
    keys = keys_of(rule.id)
    for key in spec:
        if key not in keys:
            raise ConfigError(f"{where}.{key}: unknown key (expected one of: {', '.join(keys)})")
    changes: dict[str, Any] = {}
    age = AGE_KEYS.get(rule.id)
    if age is not None and age in spec:
        changes["threshold"] = _age(spec[age], f"{where}.{age}")
    if "threshold" in spec:
        v = spec["threshold"]
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise ConfigError(f"{where}.threshold: must be a number")
        if v < 0:
            raise ConfigError(f"{where}.threshold: must not be negative")
        changes["threshold"] = float(v)
    if "window" in spec:
        changes["window"] = rule_window(rule.id, spec["window"], f"{where}.window")
    if "severity" in spec:
        if spec["severity"] not in SEVERITIES:
            raise ConfigError(f'{where}.severity: must be "warning" or "critical"')
        changes["severity"] = spec["severity"]
    if "min_calls" in spec:
        v = spec["min_calls"]
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise ConfigError(f"{where}.min_calls: must be a non-negative integer")
        changes["min_calls"] = v
    if "enabled" in spec:
        if not isinstance(spec["enabled"], bool):
            raise ConfigError(f"{where}.enabled: must be true or false")
        changes["enabled"] = spec["enabled"]
    return replace(rule, **changes)


def _age(v: object, where: str) -> float:
    """A duration ("15m", "30s") or a number of seconds, from 1 s to 100 years."""
    if isinstance(v, bool) or not isinstance(v, str | int | float):
        raise ConfigError(f'{where}: must be a duration like "15m" or a number of seconds')
    try:
        return parse_seconds(str(v), 1.0, DURATION_MAX)
    except TimeArgError as e:
        raise ConfigError(f"{where}: {e}") from None


def rule_window(rule_id: str, v: object, where: str) -> str:
    """A rule's window: a window name (``core.windows.check_window``) the rule can evaluate.

    Rules look back from now, so only durations and "today" make sense; the cost rules compare
    calendar days with calendar days; headroom reads a tracker of the last two minutes.
    """
    try:
        w = check_window(v)
    except TimeArgError as e:
        w = None
        reason = str(e)
    if rule_id == "headroom":
        if w is None or w.seconds is None or not 1 <= w.seconds <= HEADROOM_MAX_WINDOW_S:
            raise ConfigError(f'{where}: must be a duration from "1s" to "2m" (like "1m")')
        return w.name
    if rule_id in COST_RULES:
        if w is None or w.name != "today":
            raise ConfigError(f'{where}: must be "today" (the cost rules compare whole days)')
        return w.name
    if w is None:
        raise ConfigError(f'{where}: must be a duration like "10m" or "1h", or "today": {reason}')
    if w.seconds is None and w.name != "today":
        raise ConfigError(f'{where}: must be a duration like "10m" or "1h", or "today"')
    return w.name
