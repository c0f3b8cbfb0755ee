"""``claude-top rules --format prometheus``: one Prometheus alerting rule per claude-top rule.

Every threshold, window, minimum and severity is read from the ``Rule`` objects ``check``
evaluates (``rules.spec``, with the user's config applied), never written here, and every
expression reads the series ``collector`` exports. Where a rule needs what Prometheus cannot
know -- calendar days in the configured zone and the 7 days before today for the cost rules,
the last minute's use against rate limits, the follower's health with its grace -- the
expression reads the gauge claude-top computes for it by the same code as ``check``.

Differences that remain, by design: claude-top's windows are whole minute buckets, PromQL's
``increase()`` slides and extrapolates; at a threshold's very edge the two can disagree by a
call. Each rule runs per ``feature`` and over all traffic (``feature="*"``), as in ``check``.
A window of "today" for a per-call rule is read as the last 24 hours.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from claude_top.core.windows import check_window
from claude_top.rules.spec import HEADROOM_MAX_WINDOW_S, UNITS, Rule
from claude_top.views.metrics.alertmanager import READER, SERVICE, scope_label

P = "claude_top_"
GROUP = "claude-top"
FOR: dict[str, str] = {"source": "0s", "stale_log": "0s"}
"""``for:`` of the health rules: their grace is already in the gauge they read."""
DEFAULT_FOR = "1m"
"""``for:`` of every other rule: one bad scrape or one uneven minute does not page."""
WHAT = {
    "error_rate": "error rate",
    "rate_limit": "calls rate-limited (HTTP 429)",
    "p95_latency": "p95 latency",
    "p95_ttft": "p95 time to first token of streamed calls",
    "daily_cost": "cost today against the 7-day average day",
    "cost_pace": "cost so far today against the same hours of the 7 days before",
    "max_tokens": "share of calls stopped at max_tokens",
    "cache_hit": "cache hit rate",
    "unpriced": "calls of models with no price",
    "rejected_lines": "share of lines rejected",
    "headroom": "rate-limit use",
    "source": "a source cannot be read",
    "stale_log": "no new call",
}
CACHE_KINDS = "cache_read|cache_write_5m|cache_write_1h"
PROMPT_KINDS = "input|" + CACHE_KINDS


def duration(seconds: float) -> str:
    s = max(1, round(seconds))
    if s % 3600 == 0:
        return f"{s // 3600}h"
    if s % 60 == 0:
        return f"{s // 60}m"
    return f"{s}s"


def rng(rule: Rule) -> str:
    seconds = check_window(rule.window).seconds
    return duration(86400 if seconds is None else seconds)


def num(x: float) -> str:
    return repr(float(x)) if x != int(x) else str(int(x))


def inc(metric: str, window: str, sel: str = "") -> str:
    return (
        f"increase({P}{metric}{{{sel}}}[{window}])" if sel else f"increase({P}{metric}[{window}])"
    )


def _agg(by: str, x: str, extra: str = "") -> str:
    keys = ", ".join(k for k in (by, extra) if k)
    return f"sum by ({keys}) ({x})" if keys else f"sum({x})"


def _all_traffic(expr: str) -> str:
    return f'label_replace({expr}, "feature", "*", "", "")'


def per_scope(build: Callable[[str], str]) -> str:
    """Per feature, or over all traffic as ``feature="*"``: as ``check`` runs every rule."""
    return f"({build('feature')})\nor\n{_all_traffic(build(''))}"


def _min_calls(rule: Rule, by: str, window: str, within: str = "") -> str:
    if not rule.min_calls:
        return ""
    calls = inc("calls_total", window)
    if within:
        calls = f"{calls} and on (feature) ({within})"
    return f" and ({_agg(by, calls)} >= {rule.min_calls})"


def _ratio_rule(rule: Rule, part: str, whole: str = "calls_total") -> str:
    w = rng(rule)

    def build(by: str) -> str:
        top, bottom = _agg(by, part.replace("{w}", w)), _agg(by, inc(whole, w))
        return f"(100 * {top} / {bottom} > {num(rule.threshold)}){_min_calls(rule, by, w)}"

    return per_scope(build)


def _count_rule(rule: Rule, part: str) -> str:
    w = rng(rule)

    def build(by: str) -> str:
        return (
            f"({_agg(by, part.replace('{w}', w))} > {num(rule.threshold)}){_min_calls(rule, by, w)}"
        )

    return per_scope(build)


def _p95(rule: Rule) -> str:
    w = rng(rule)

    def build(by: str) -> str:
        buckets = _agg(by, inc("call_duration_seconds_bucket", w), "le")
        limit = num(rule.threshold / 1000.0)
        return f"(histogram_quantile(0.95, {buckets}) > {limit}){_min_calls(rule, by, w)}"

    return per_scope(build)


def _p95_ttft(rule: Rule) -> str:
    """As ``_p95`` over the streamed calls' TTFT histogram; min_calls counts streams."""
    w = rng(rule)

    def build(by: str) -> str:
        buckets = _agg(by, inc("time_to_first_token_seconds_bucket", w), "le")
        limit = num(rule.threshold / 1000.0)
        expr = f"(histogram_quantile(0.95, {buckets}) > {limit})"
        if rule.min_calls:
            # The +Inf bucket counts the streams (the histogram has no _sum, so no _count).
            streams = _agg(by, inc("time_to_first_token_seconds_bucket", w, 'le="+Inf"'))
            expr += f" and ({streams} >= {rule.min_calls})"
        return expr

    return per_scope(build)


def _cache_hit(rule: Rule) -> str:
    """Only features that read or wrote cache in the last 24 h, as in ``check``."""
    w = rng(rule)
    caching = (
        f"sum by (feature) ({inc('tokens_total', '1d', f'kind=~{json.dumps(CACHE_KINDS)}')}) > 0"
    )

    def build(by: str) -> str:
        reads = inc("tokens_total", w, 'kind="cache_read"')
        prompt = inc("tokens_total", w, f"kind=~{json.dumps(PROMPT_KINDS)}")
        if by:
            value = f"100 * {_agg(by, reads)} / {_agg(by, prompt)}"
            within = f" and on (feature) ({caching})"
        else:
            value = (
                f"100 * sum({reads} and on (feature) ({caching}))"
                f" / sum({prompt} and on (feature) ({caching}))"
            )
            within = ""
        return f"({value} < {num(rule.threshold)}){within}{_min_calls(rule, by, w, caching)}"

    return per_scope(build)


def _rejected(rule: Rule) -> str:
    w = rng(rule)
    lines = f"sum({inc('lines_total', w)})"
    expr = f"100 * sum({inc('rejected_lines_total', w)}) / {lines} > {num(rule.threshold)}"
    if rule.min_calls:
        expr = f"({expr}) and ({lines} >= {rule.min_calls})"
    return _all_traffic(expr)


def _cost(rule: Rule) -> str:
    basis = "same_hours" if rule.id == "cost_pace" else "day"
    base = f'({P}cost_baseline_usd{{basis="{basis}"}} > 0)'
    expr = f"100 * {P}cost_today_usd / ignoring (basis) {base} > {num(rule.threshold)}"
    calls = f"{P}calls_today >= {max(1, rule.min_calls)}"
    inner = f'label_replace(({expr}) and ({calls}), "feature", "$1", "scope", "(.*)")'
    return f"max without (scope, basis) ({inner})"


def _headroom(rule: Rule) -> str:
    # Limits are the organization's: a fleet's use is the sum of its hosts' use.
    dims = "model_class, dimension"
    use = (
        f"sum by ({dims}) ({P}ratelimit_used_per_minute)"
        f" / max by ({dims}) ({P}ratelimit_limit_per_minute)"
    )
    expr = f"100 * max by (model_class) ({use}) > {num(rule.threshold)}"
    if rule.min_calls:
        span = min(check_window(rule.window).seconds or 60.0, HEADROOM_MAX_WINDOW_S)
        used = f'sum by (model_class) ({P}ratelimit_used_per_minute{{dimension="rpm"}}) * {num(span / 60)}'
        expr = f"({expr}) and on (model_class) ({used} >= {rule.min_calls})"
    return expr


def _source(rule: Rule) -> str:
    reader = f'label_replace({P}reader_up == 0, "source", "{READER}", "", "")'
    return f"{P}source_up == 0\nor\n{reader}"


def _stale(rule: Rule) -> str:
    return _all_traffic(f"time() - {P}newest_call_timestamp_seconds > {num(rule.threshold)}")


EXPRESSIONS: dict[str, Callable[[Rule], str]] = {
    "error_rate": lambda r: _ratio_rule(r, inc("errors_total", "{w}")),
    "rate_limit": lambda r: _count_rule(r, inc("errors_total", "{w}", 'status="429"')),
    "p95_latency": _p95,
    "p95_ttft": _p95_ttft,
    "daily_cost": _cost,
    "cost_pace": _cost,
    "max_tokens": lambda r: _ratio_rule(r, inc("max_tokens_stops_total", "{w}")),
    "cache_hit": _cache_hit,
    "unpriced": lambda r: _count_rule(r, inc("unpriced_calls_total", "{w}")),
    "rejected_lines": _rejected,
    "headroom": _headroom,
    "source": _source,
    "stale_log": _stale,
}
"""The PromQL of each rule id: a rule added to ``spec`` without one here fails a test."""


@dataclass(frozen=True, slots=True)
class AlertingRule:
    alert: str
    expr: str
    for_: str
    labels: dict[str, str]
    annotations: dict[str, str]


def alerting_rule(rule: Rule) -> AlertingRule:
    label = scope_label(rule.id)
    if rule.id in ("source", "stale_log"):
        when = rule.limit_text if rule.id != "source" else ""
        summary = f"{{{{ $labels.{label} }}}}: {WHAT[rule.id]}"
        if rule.id == "stale_log":
            summary += f" for more than {when.lstrip('> ')}"
    else:
        summary = (
            f"{{{{ $labels.{label} }}}}: {WHAT[rule.id]} over {rule.window_words}, "
            f"{rule.limit_text}"
        )
    return AlertingRule(
        rule.id,
        EXPRESSIONS[rule.id](rule),
        FOR.get(rule.id, DEFAULT_FOR),
        {"severity": rule.severity, "service": SERVICE},
        {"summary": summary, "description": f"claude-top rule {rule.id}: {UNITS[rule.id]}"},
    )


def alerting_rules(rules: Sequence[Rule]) -> list[AlertingRule]:
    return [alerting_rule(r) for r in rules if r.enabled]


def _q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a YAML double-quoted scalar


def rule_file(rules: Sequence[Rule]) -> str:
    """The rule file (YAML), one group, the enabled rules in ``check``'s order."""
    out = [
        "# claude-top alerting rules: claude-top rules --format prometheus",
        "# Thresholds, windows and severities from the same config claude-top check reads.",
        "groups:",
        f"  - name: {_q(GROUP)}",
        "    rules:",
    ]
    for r in alerting_rules(rules):
        out += [
            f"      - alert: {_q(r.alert)}",
            f"        expr: {_q(r.expr)}",
            f"        for: {r.for_}",
            "        labels:",
            *(f"          {k}: {_q(v)}" for k, v in r.labels.items()),
            "        annotations:",
            *(f"          {k}: {_q(v)}" for k, v in r.annotations.items()),
        ]
    return "\n".join(out) + "\n"
